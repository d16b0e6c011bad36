/**
 * `sshkit-keygen -F host [-l [-v]] [-f known_hosts]`, `-R host [-f …]`, `-H [-f …]` (ssh-keygen.c
 * do_known_hosts, known_hosts_find_delete, known_hosts_hash, 9.2) on core/known-hosts-edit.ts: -F prints
 * `# Host H found: line N MARKER` and the line (or, with -l, `H TYPE FP comment`) and exits 1 when H is
 * not found; -R/-H rewrite the file keeping FILE.old and refuse a file with invalid lines (exit 1).
 * Refused with 255: -F combined with -H (hashed output of the found lines).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findHost, formatFound, hashHosts, removeHost, replaceKeepingOld, type FoundHost } from '../core/known-hosts-edit.js';
import { hostMatches, parseKnownHostsLine, type KnownHost } from '../core/known-hosts.js';
import { fingerprint, randomart, safeText, type FingerprintHash } from '../core/fingerprint.js';
import { base64Fingerprint, type DigestName } from '../core/fingerprint-extra.js';
import { inspectBlob, readKeyPrefix } from '../core/key.js';
import { ParseError } from '../core/errors.js';
import { pwHome, strerror } from './files.js';
import { flagCount, lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, logLine, unsupported } from './usage.js';

/** A key type name as sshkey_type_from_name knows it (readKeyPrefix: null only for an unknown type). */
function knownKeyType(token: string): boolean {
  try {
    return readKeyPrefix(`${token} x`) !== null;
  } catch {
    return true; // a known type whose data is bad
  }
}

/**
 * A line as hostkeys_foreach reads it when it does not decode the key (-F without -l, -R, -H): the
 * marker (if any), the host field and a known key type followed by something; the key bytes are not
 * read, so `host ssh-ed25519 !!!!` is an entry there. null for blank and comment lines.
 */
function laxLine(t: string): { marker: string; hosts: string } | 'invalid' | null {
  const fields = t.replace(/^[ \t]+/, '').split(/[ \t]+/);
  if (fields[0] === '' || fields[0].startsWith('#')) return null;
  let marker = '';
  if (fields[0].startsWith('@')) {
    if (fields[0] !== '@cert-authority' && fields[0] !== '@revoked') return 'invalid';
    marker = fields.shift() === '@revoked' ? 'REVOKED' : 'CA';
  }
  const [hosts, type, rest] = fields;
  if (!hosts || !type || !knownKeyType(type) || !rest || rest.startsWith('#')) return 'invalid';
  return { marker, hosts };
}

/** The lines of `text` without the final newline's empty one. */
function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A host field matched against `host` as the core does; undefined for a malformed hashed field. */
function laxMatch(hosts: string, host: string, line: number): boolean | undefined {
  try {
    return hostMatches({ marker: null, hosts, key: { type: '', blob: Buffer.alloc(0), comment: '' }, line } as KnownHost, host);
  } catch {
    return undefined;
  }
}

/** hostkeys_foreach's invalid lines, by line number (for -R a malformed hashed field is one too). */
function invalidLines(text: string, remove: boolean): number[] {
  const out: number[] = [];
  linesOf(text).forEach((t, i) => {
    const lax = laxLine(t);
    if (lax === 'invalid' || (remove && lax && lax.hosts.startsWith('|') && laxMatch(lax.hosts, '', i + 1) === undefined)) out.push(i + 1);
  });
  return out;
}

/** Lines hostkeys_foreach takes as entries that the core's parser (which decodes the key) refuses. */
function undecodable(text: string): number[] {
  const out: number[] = [];
  linesOf(text).forEach((t, i) => {
    const lax = laxLine(t);
    if (lax === null || lax === 'invalid') return;
    try {
      parseKnownHostsLine(t, i + 1);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      out.push(i + 1);
    }
  });
  return out;
}

/** `-F H`: the entries for H, including lines whose key does not decode (ssh-keygen does not read it). */
function findLax(text: string, host: string): FoundHost[] {
  const found = new Map(findHost(text, host).map((f) => [f.line, f]));
  for (const n of undecodable(text)) {
    const t = linesOf(text)[n - 1];
    const lax = laxLine(t) as { marker: string; hosts: string };
    // a malformed hashed field matches nothing
    if (laxMatch(lax.hosts, host, n)) found.set(n, { line: n, marker: lax.marker as FoundHost['marker'], text: t });
  }
  return [...found.values()].sort((x, y) => x.line - y.line);
}

/** `-F H -l`: `H TYPE FP[ comment]` per entry found (mprintf in known_hosts_find_delete), randomart with -v. */
function fingerprintFound(a: KgArgs, host: string, lines: readonly { line: number; marker: string; text: string }[]): string {
  const alg = (lastArg(a, 'E') ?? 'sha256').toLowerCase() as DigestName;
  let out = '';
  for (const f of lines) {
    const e = parseKnownHostsLine(f.text, f.line);
    const info = inspectBlob(e.key.blob);
    const fp = alg === 'md5' || alg === 'sha256' ? fingerprint(e.key.blob, alg) : base64Fingerprint(e.key.blob, alg);
    const c = e.key.comment;
    out += `# Host ${host} found: line ${f.line} ${f.marker}\n${host} ${info.label} ${fp}${c ? ' ' + safeText(c) : ''}\n`;
    if (flagCount(a, 'v') > 0) out += randomart(e.key.blob, info, alg as FingerprintHash) + '\n';
  }
  return out;
}

/** The refusal of -R/-H on a file with invalid lines (ssh-keygen's logit/error lines, exit 1). */
function refuseInvalid(io: KgIO, file: string, bad: readonly number[]): number {
  io.stderr(bad.map((n) => logLine(`${file}:${n}: invalid line`)).join(''));
  io.stderr(logLine(`${file} is not a valid known_hosts file.`));
  io.stderr(logLine('Not replacing existing known_hosts file because of errors'));
  return 1;
}

/** -F, -R, -H (do_known_hosts). */
export async function runKnownHosts(a: KgArgs, io: KgIO): Promise<number> {
  const file = lastArg(a, 'f') ?? join(pwHome(), '.ssh', 'known_hosts');
  try {
    statSync(file);
  } catch (err) {
    throw new KgFatal(`Cannot stat ${file}: ${strerror(err)}`);
  }
  const text = readFileSync(file, 'latin1');
  const find = lastArg(a, 'F');
  const remove = lastArg(a, 'R');
  const host = lastHost(a);
  if (find !== undefined) {
    if (a.flags.has('H')) throw unsupported('-F with -H (hashed output of the entries found)');
    // -l decodes every key (HKF_WANT_PARSE_KEY): then a line with a broken key is no entry
    const found = a.flags.has('l') ? findHost(text, host) : findLax(text, host);
    const out = a.flags.has('l') ? fingerprintFound(a, host, found) : formatFound(host, found);
    io.stdout(Buffer.from(out, 'latin1'));
    return found.length === 0 ? 1 : 0;
  }
  const bad = invalidLines(text, remove !== undefined);
  const broken = undecodable(text);
  if (bad.length === 0 && broken.length > 0) {
    throw unsupported(`-R/-H of ${file}: line ${broken[0]} has a key that does not decode (ssh-keygen would keep it unread)`);
  }
  if (remove !== undefined) {
    if (bad.length > 0) {
      const plain = findLax(text, host).filter((f) => f.marker === '');
      io.stdout(plain.map((f) => `# Host ${host} found: line ${f.line}\n`).join(''));
      return refuseInvalid(io, file, bad);
    }
    const r = removeHost(file, text, host);
    io.stdout(r.removed.map((n) => `# Host ${host} found: line ${n}\n`).join(''));
    if (r.removed.length === 0) {
      io.stderr(logLine(`Host ${host} not found in ${file}`));
      return 0;
    }
    const old = replaceKeepingOld(file, r.text);
    io.stdout(`${file} updated.\nOriginal contents retained as ${old}\n`);
    return 0;
  }
  if (bad.length > 0) return refuseInvalid(io, file, bad);
  const h = hashHosts(file, text);
  const lines = text.split('\n');
  for (const n of h.wildcards) {
    const hosts = lines[n - 1].replace(/^[ \t]*(@[^ \t]+[ \t]+)?/, '').split(/[ \t]/)[0];
    io.stderr(logLine(`${file}:${n}: ignoring host name with wildcard: ${hosts.slice(0, 64)}`));
  }
  const old = replaceKeepingOld(file, h.text);
  io.stdout(`${file} updated.\nOriginal contents retained as ${old}\n`);
  if (h.hashed > 0) io.stderr(logLine(`WARNING: ${old} contains unhashed entries`) + logLine('Delete this file to ensure privacy of hostnames'));
  return 0;
}

/** ssh-keygen keeps one rr_hostname: whichever of -F/-R came last on the command line. */
function lastHost(a: KgArgs): string {
  const f = a.flags.get('F') ?? [];
  const r = a.flags.get('R') ?? [];
  // without the order of different flags in KgArgs, -F wins only when -R is absent (the usual case)
  return (r.length > 0 ? r[r.length - 1] : f[f.length - 1]) ?? '';
}

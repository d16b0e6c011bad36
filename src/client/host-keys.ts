/**
 * The client's host-key policy (SPEC "sshkit exec"; ssh(1) check_host_key, ssh_config(5)
 * StrictHostKeyChecking): the server's key blob is judged through the core's known_hosts matching
 * (plain, `[host]:port`, wildcards, hashed `|1|`, @revoked, @cert-authority) or against pinned
 * `--host-fingerprint`s. Nothing here knows ssh2: exec.ts hands over the blob and obeys the decision.
 *
 * - revoked (by any file): refused, whatever the mode.
 * - changed (any other plain key is known for the host, of whatever type; hostfile.c): refused,
 *   whatever the mode — unlike OpenSSH's `no`, which lets a changed key through with restrictions.
 * - unknown (no key at all for the host): refused under `yes`; under `accept-new` and `no` accepted
 *   and appended to the first known_hosts file (as ssh does for both), with one note on stderr.
 * - a host name with pattern or shell characters is refused before anything is looked up or written:
 *   known_hosts would read `*`, `,` or `!` in it as a pattern list (ssh.c valid_hostname refuses
 *   `,`, `|`, whitespace, control and shell characters; sshkit refuses the pattern characters too).
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SshkitError, Exit } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { checkHostKey, hostMatches, hostName, parseKnownHosts, type KnownHost, type KnownHostsFile } from '../core/known-hosts.js';
import { formatPublicKey, inspectBlob, keyFromBlob, plainKeyBlob } from '../core/key.js';
import { checkCertificate, isCertificateBlob, parseCertificate } from '../core/certificate.js';
import { isRevoked, parseRevokedKeys, type RevokedKeys } from '../core/revocation.js';

/** StrictHostKeyChecking values sshkit accepts (`ask` is not offered: exec never prompts about hosts). */
export type StrictMode = 'yes' | 'accept-new' | 'no';

/** How exec judges host keys: known_hosts files, the StrictHostKeyChecking mode, or fingerprint pins. */
export interface HostKeyOptions {
  mode: StrictMode;
  /** known_hosts files to read; new keys are appended to the first. */
  files: string[];
  /** `--host-fingerprint` values: when given, the key must match one and known_hosts is not used. */
  pins?: string[];
  /** ssh's RevokedHostKeys: a KRL or a list of keys; unreadable or malformed fails every connection. */
  revoked?: string;
  /** Where notes go (a stderr line each). */
  warn: (line: string) => void;
}

/** The verdict exec.ts acts on: accept, or refuse with the one-line reason. */
export type HostKeyDecision = { ok: true } | { ok: false; message: string };

interface LoadedFile {
  path: string;
  known: KnownHostsFile;
}

const PIN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Host-key algorithms per key type (ssh2 names), in the order offered when nothing is known. */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256'],
};

/** ssh.c valid_hostname's characters, plus the known_hosts pattern characters `*?!` and brackets. */
const BAD_HOST_CHARS = /['`"$\\;&<>|(){},*?![\]\s\p{Cc}]/u;

/**
 * Why `host` may not be connected to or written into known_hosts (ssh 9.2's message), or null. A
 * bracketed `[v6addr]` destination arrives here without its brackets.
 */
export function hostnameProblem(host: string): string | null {
  if (host === '' || host.startsWith('-') || BAD_HOST_CHARS.test(host)) return 'hostname contains invalid characters';
  return null;
}

/** A one-line failure of exec itself (exit 255). */
export function execError(message: string): SshkitError {
  return new SshkitError(Exit.CONN, message);
}

function describe(blob: Buffer): string {
  return `${inspectBlob(blob).label} key ${fingerprint(blob)}`;
}

/** Reads the RevokedHostKeys file through the one revocation reader; any flaw is exec's own failure. */
function loadRevoked(path: string): RevokedKeys {
  try {
    const r = parseRevokedKeys(readFileSync(path));
    if (r.errors.length) throw new Error(`line ${r.errors[0].line}: ${r.errors[0].message}`);
    return r;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw execError(`${path}: cannot use revoked host keys file: ${e.code ?? e.message}`);
  }
}

/** Host-key checking for one exec run (possibly many hosts); known_hosts files are read once. */
export class HostKeyPolicy {
  private constructor(
    private readonly opts: HostKeyOptions,
    private readonly files: LoadedFile[],
    private readonly revoked?: RevokedKeys,
  ) {}

  /** Reads the known_hosts files (a missing one is empty; an unreadable one is an error). */
  static load(opts: HostKeyOptions): HostKeyPolicy {
    for (const pin of opts.pins ?? []) {
      if (!PIN.test(pin)) throw execError(`--host-fingerprint: ${JSON.stringify(pin)} is not a SHA256:… fingerprint (MD5 pins are not accepted)`);
    }
    const files: LoadedFile[] = [];
    if (!opts.pins?.length) {
      for (const path of opts.files) {
        let text = '';
        try {
          text = readFileSync(path, 'utf8');
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') throw execError(`${path}: cannot read known_hosts: ${code ?? String(err)}`);
        }
        const known = parseKnownHosts(text);
        for (const e of known.errors) opts.warn(`sshkit: ${path}:${e.line}: ${e.message} (line ignored)`);
        files.push({ path, known });
      }
    }
    return new HostKeyPolicy(opts, files, opts.revoked === undefined ? undefined : loadRevoked(opts.revoked));
  }

  /**
   * Host-key algorithms to offer, those of key types already known for this host first (as ssh
   * orders them), so a known host presents the key we can check rather than another of its keys.
   */
  algorithms(host: string, port: number): string[] {
    const name = hostName(host, port);
    const known = new Set<string>();
    for (const f of this.files) {
      for (const e of f.known.entries) if (e.marker === null && hostMatches(e, name)) known.add(e.key.type);
    }
    const all = Object.keys(ALGORITHMS);
    const order = [...all.filter((t) => known.has(t)), ...all.filter((t) => !known.has(t))];
    return order.flatMap((t) => ALGORITHMS[t]);
  }

  /** Judges the key `blob` the server at host:port proved it holds. */
  check(host: string, port: number, blob: Buffer): HostKeyDecision {
    const bad = hostnameProblem(host);
    if (bad) return { ok: false, message: `host key verification failed: ${JSON.stringify(host)}: ${bad}` };
    const name = hostName(host, port);
    let what: string;
    try {
      what = describe(blob);
    } catch (err) {
      return { ok: false, message: `host key verification failed: ${name} sent an unparsable key: ${(err as Error).message}` };
    }
    // ssh's verify_host_key checks RevokedHostKeys before pins and known_hosts
    try {
      if (this.revoked && isRevoked(this.revoked, blob)) return { ok: false, message: `host key verification failed: ${name} offered ${what}, revoked by ${this.opts.revoked}` };
    } catch (err) {
      return { ok: false, message: `host key verification failed: ${name}: revocation check failed: ${(err as Error).message}` };
    }
    const pins = this.opts.pins ?? [];
    if (pins.length > 0) {
      const seen = [fingerprint(blob, 'sha256')];
      if (pins.some((p) => seen.includes(p))) return { ok: true };
      return { ok: false, message: `host key verification failed: ${name} offered ${what}, which is not --host-fingerprint ${pins.join(', ')}` };
    }
    const failed = (why: string): HostKeyDecision => ({ ok: false, message: `host key verification failed: ${why}` });
    const where = (path: string, e: KnownHost) => `${path}:${e.line}`;

    // Revocation first, in every file: of the key itself, or (for a certificate) of its key or CA.
    const isCert = isCertificateBlob(blob);
    const cert = isCert ? parseCertificate(blob) : null;
    const candidates = cert ? [blob, cert.key, cert.signatureKey] : [blob];
    for (const f of this.files) {
      for (const b of candidates) {
        const v = checkHostKey(f.known, host, port, keyFromBlob(b));
        if (v.status === 'revoked') return failed(`${name} offered ${what}, revoked by ${where(f.path, v.entry)}`);
      }
    }
    if (cert) {
      const cas = this.files.flatMap((f) =>
        f.known.entries.filter((e) => e.marker === 'cert-authority' && hostMatches(e, name) && e.key.blob.equals(cert.signatureKey)).map((e) => ({ f, e })),
      );
      let reason = 'no @cert-authority in known_hosts signed its certificate';
      if (cas.length > 0) {
        // As ssh 9.2's check_host_cert: exact principal (no wildcards; verified against the real ssh),
        // no principal list means any host, and no critical options at all.
        const r = checkCertificate(cert, { now: Math.floor(Date.now() / 1000), type: 'host', principal: host, requirePrincipal: false, criticalOptions: [] });
        if (r.ok) return { ok: true };
        reason = `its certificate (CA of ${where(cas[0].f.path, cas[0].e)}) is refused: ${r.reason}`;
      }
      // An untrusted certificate falls back to its plain key, as ssh does.
      const plain = this.checkPlain(host, port, cert.key, describe(cert.key));
      if (plain.ok) this.opts.warn(`sshkit: ${name}: ${reason}; its plain key is known`);
      return plain.ok ? plain : { ok: false, message: `${plain.message}; ${reason}` };
    }
    return this.checkPlain(host, port, blob, what);
  }

  private checkPlain(host: string, port: number, blob: Buffer, what: string): HostKeyDecision {
    const name = hostName(host, port);
    const key = keyFromBlob(plainKeyBlob(blob));
    const changed: string[] = [];
    for (const f of this.files) {
      const v = checkHostKey(f.known, host, port, key);
      if (v.status === 'ok') return { ok: true };
      if (v.status === 'changed') for (const e of v.entries) changed.push(`offending ${inspectBlob(e.key.blob).label} key in ${f.path}:${e.line} (${fingerprint(e.key.blob)})`);
    }
    if (changed.length > 0) {
      return {
        ok: false,
        message: `host key verification failed: the host key of ${name} has CHANGED: it offered ${what}; ${changed.join('; ')} (possible man-in-the-middle; remove the line if the change is expected)`,
      };
    }
    const files = this.opts.files.join(', ') || '(no known_hosts file)';
    if (this.opts.mode === 'yes') {
      return {
        ok: false,
        message: `host key verification failed: ${name} is not in ${files}; it offered ${what} (use -o StrictHostKeyChecking=accept-new or --host-fingerprint ${fingerprint(blob)})`,
      };
    }
    this.record(name, key.blob, what);
    return { ok: true };
  }

  /** Appends `name type base64` to the first known_hosts file; a write failure is a note, not an error (as ssh). */
  private record(name: string, blob: Buffer, what: string): void {
    const first = this.files[0];
    if (!first) return;
    const line = `${name} ${formatPublicKey(keyFromBlob(blob))}`;
    try {
      mkdirSync(dirname(first.path), { recursive: true, mode: 0o700 });
      let before = '';
      try {
        before = readFileSync(first.path, 'utf8');
      } catch {
        /* a new file */
      }
      const prefix = before.length > 0 && !before.endsWith('\n') ? '\n' : '';
      appendFileSync(first.path, `${prefix}${line}\n`, { mode: 0o644 });
      const lineNo = (before + prefix).split('\n').length;
      const entries = parseKnownHosts(line).entries.map((e) => ({ ...e, line: lineNo }));
      first.known.entries.push(...entries);
      this.opts.warn(`sshkit: added ${name} (${what}) to ${first.path}`);
    } catch (err) {
      this.opts.warn(`sshkit: ${first.path}: could not record the key of ${name}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
}

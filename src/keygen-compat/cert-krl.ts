/**
 * `sshkit-keygen -k` and `-Q` (issue 12) — ssh-keygen.c do_gen_krl / update_krl_from_file / load_krl /
 * do_check_krl on sshkit's KRL code (core/krl.ts, krl-parse.ts, krl-spec.ts, krl-write.ts): `-k` reads
 * each spec file in turn ("Revoking from FILE" on stdout), a bad line is fatal and nothing is written;
 * the KRL is written with open(O_TRUNC, 0644) as sshbuf_write_file. `-Q` prints
 * `KEY (comment): ok|REVOKED` per key, exit 1 when any is revoked; `-Q -l` first prints the KRL as krl_dump.
 */
import { statSync, writeFileSync } from 'node:fs';
import { ParseError, SshkitError } from '../core/errors.js';
import { isCertificateBlob } from '../core/certificate.js';
import { fingerprint } from '../core/fingerprint.js';
import { keyFromBlob } from '../core/key.js';
import { isKrl, Krl } from '../core/krl.js';
import { parseKrl } from '../core/krl-parse.js';
import { applyKrlSpec } from '../core/krl-spec.js';
import { writeKrl } from '../core/krl-write.js';
import { loadFile, loadPublicLikeOpenssh, strerror } from './sig-common.js';
import { readAllStdin } from './process-io.js';
import { KgFatal, unsupported } from './usage.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';

/** load_krl: the KRL at `path`, or ssh-keygen's fatal line. */
function loadKrl(path: string): Krl {
  const f = loadFile(path);
  if ('error' in f) throw new KgFatal(`Unable to load KRL ${path}: ${f.error}`);
  // ssh_krl_from_blob: SSH_ERR_KRL_BAD_MAGIC for a file without the magic
  if (!isKrl(f.data)) throw new KgFatal(`Invalid KRL file ${path}: KRL file has invalid magic number`);
  try {
    return parseKrl(f.data);
  } catch (err) {
    if (err instanceof ParseError) throw new KgFatal(`Invalid KRL file ${path}: invalid format`);
    throw err;
  }
}

/** do_gen_krl. */
export async function generateKrl(a: KgArgs, io: KgIO): Promise<number> {
  const out = lastArg(a, 'f') ?? '';
  if (out === '') throw new KgFatal('KRL generation requires an output file');
  const updating = a.flags.has('u');
  try {
    statSync(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new KgFatal(`Cannot access KRL "${out}": ${strerror(err)}`);
    if (updating) throw new KgFatal(`KRL "${out}" does not exist`);
  }
  const caPath = lastArg(a, 's');
  let ca: Buffer | 'any' | undefined;
  if (caPath !== undefined && caPath.toLowerCase() === 'none') ca = 'any';
  else if (caPath !== undefined) {
    const got = loadPublicLikeOpenssh(caPath);
    if ('error' in got) throw new KgFatal(`Cannot load CA public key ${caPath}: ${got.error}`);
    // sshkit refuses a certificate as the CA (ssh-keygen would take its key part silently)
    if (isCertificateBlob(got.key.blob)) throw unsupported(`a certificate as the -s CA of -k (${caPath})`);
    ca = got.key.blob;
  }
  const krl = updating ? loadKrl(out) : new Krl();
  const z = lastArg(a, 'z');
  if (z !== undefined && BigInt(z.replace(/^\+/, '')) !== 0n) krl.version = BigInt(z.replace(/^\+/, ''));
  const comment = lastArg(a, 'C');
  if (comment !== undefined) krl.comment = Buffer.from(comment, 'utf8').toString('latin1');
  // stdout is a pipe's full buffer in ssh-keygen: a fatal() (_exit) drops what printf had queued
  const said: string[] = [];
  for (const file of a.operands) {
    const path = file === '-' ? '(standard input)' : file;
    let text: string;
    if (file === '-') text = (await readAllStdin()).toString('latin1');
    else {
      const f = loadFile(file);
      if ('error' in f) throw new KgFatal(`fopen ${file}: ${f.error}`);
      text = f.data.toString('latin1');
    }
    if (!a.flags.has('q')) said.push(`Revoking from ${path}\n`);
    try {
      applyKrlSpec(krl, text, ca);
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      const line = err instanceof ParseError && err.line !== undefined ? err.line : undefined;
      if (/requires specification of a CA key/.test(err.message) || line === undefined) throw new KgFatal(err.message);
      // a line read as a key that does not parse: fatal_r(r, "%s:%lu: invalid key"), r's text
      if (/^hash of /.test(err.message)) throw new KgFatal('update_krl_from_file: revoke key failed: invalid format');
      const why = /^(invalid serial|serial out of range|unsupported hash)/.test(err.message)
        ? err.message
        : /^(hash|invalid hash)/.test(err.message)
          ? 'decode hash failed: invalid format'
          : /^invalid key: /.test(err.message)
            ? err.message
            : 'invalid key: invalid format';
      throw new KgFatal(`${path}:${line}: ${why}`);
    }
  }
  const data = writeKrl(krl, BigInt(Math.floor(Date.now() / 1000)));
  try {
    writeFileSync(out, data, { mode: 0o644 });
  } catch (err) {
    throw new KgFatal(`write ${out}: ${strerror(err)}`);
  }
  if (said.length) io.stdout(said.join(''));
  return 0;
}

/** format_timestamp (krl.c): local time as %Y%m%dT%H%M%S. */
function timestamp(t: bigint): string {
  const d = new Date(Number(t) * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Latin1 strings (blobs, key IDs) in krl.c's tree order: memcmp, then the shorter first. */
const sorted = (items: Iterable<string>) => [...items].map((x) => Buffer.from(x, 'latin1')).sort(Buffer.compare);

/** krl.c krl_dump, as `-Q -l` prints it: the header, keys and hashes in tree order, then each CA's section. */
function dumpKrl(krl: Krl): string {
  const out = [`# KRL version ${krl.version}\n`, `# Generated at ${timestamp(krl.date)}\n`];
  if (krl.comment !== '') out.push(`# Comment: ${krl.comment}\n`);
  out.push('\n');
  for (const blob of sorted(krl.keys)) out.push(`hash: ${fingerprint(blob)} # ${keyFromBlob(blob).type}\n`);
  for (const h of sorted(krl.sha256)) out.push(`hash: SHA256:${h.toString('hex')}\n`);
  for (const h of sorted(krl.sha1)) out.push(`# hash SHA1:${h.toString('hex')}\n`);
  for (const c of krl.cas.values()) {
    out.push('\n', c.ca ? `# CA key ${keyFromBlob(c.ca).type} ${fingerprint(c.ca)}\n` : '# Wildcard CA\n');
    const { lo, hi } = c.serials.ranges();
    for (let i = 0; i < lo.length; i++) out.push(lo[i] === hi[i] ? `serial: ${lo[i]}\n` : `serial: ${lo[i]}-${hi[i]}\n`);
    for (const id of sorted(c.keyIds)) out.push(`id: ${id.toString('latin1')}\n`);
  }
  return out.join('');
}

/** do_check_krl. */
export async function checkKrl(a: KgArgs, io: KgIO): Promise<number> {
  const path = lastArg(a, 'f') ?? '';
  if (path === '') throw new KgFatal('KRL checking requires an input file');
  const krl = loadKrl(path);
  let status = 0;
  const said: string[] = []; // printed at exit, as stdio flushes a pipe (a fatal() drops it)
  if (a.flags.has('l')) said.push(dumpKrl(krl));
  for (const file of a.operands) {
    const got = loadPublicLikeOpenssh(file);
    if ('error' in got) throw new KgFatal(`Cannot load public key ${file}: ${got.error}`);
    const own = got.key.comment.replace(/[\r\n].*$/s, '');
    const comment = got.from === 'private' ? '' : own || got.from;
    const revoked = krl.isRevoked(got.key.blob);
    said.push(`${file}${comment ? ` (${comment})` : ''}: ${revoked ? 'REVOKED' : 'ok'}\n`);
    if (revoked) status = 1;
  }
  if (said.length) io.stdout(said.join(''));
  return status;
}

/**
 * `sshkit-keygen -l [-v] [-E hash] [-f file]`, `-B` and `-y` (ssh-keygen.c do_fingerprint,
 * fingerprint_private, fingerprint_one_key, do_print_public, 9.2). -l reads a private key file (line 1
 * says PRIVATE KEY, never on stdin) as fingerprint_private: FILE.pub's key and comment, else the
 * private file's clear public part and stored comment; any other file line by line as authorized_keys
 * or known_hosts (scan-lines.ts: ssh-keygen's own loop, quirks included), bad lines skipped silently,
 * "F is not a public key file." (exit 255) when none is good.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fingerprint, randomart, safeText, type FingerprintHash } from '../core/fingerprint.js';
import { base64Fingerprint, bubbleBabble, keyDigest, type DigestName } from '../core/fingerprint-extra.js';
import { formatPublicKey, inspectBlob, keyFromBlob, parsePublicKeyText, type PublicKey } from '../core/key.js';
import { loadPrivateKey, PassphraseError, publicFromPrivate } from '../core/private-key.js';
import { checkPerms, identityFile, loadIdentity, notAKeyReason, statOrFatal } from './files.js';
import { flagCount, lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, logLine } from './usage.js';
import { fingerprintLoop } from './scan-lines.js';

/** All of a stream (stdin for `-f -`). */
export async function readStream(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/** How -l/-B print a key: the digest (-E, default sha256; -B forces SHA-1 Bubble Babble) and -v's randomart. */
interface FpStyle {
  readonly alg: DigestName;
  readonly babble: boolean;
  readonly visual: boolean;
}

function styleOf(a: KgArgs): FpStyle {
  const babble = a.flags.has('B');
  const alg = babble ? 'sha1' : ((lastArg(a, 'E') ?? 'sha256').toLowerCase() as DigestName);
  return { alg, babble, visual: flagCount(a, 'v') > 0 };
}

/** fingerprint_one_key(): `BITS FP COMMENT (TYPE)`, "no comment" for none, randomart with -v. */
function oneKey(blob: Buffer, comment: string | null, st: FpStyle): string {
  const info = inspectBlob(blob);
  const fp = st.babble
    ? bubbleBabble(keyDigest(blob, 'sha1'))
    : st.alg === 'md5' || st.alg === 'sha256'
      ? fingerprint(blob, st.alg)
      : base64Fingerprint(blob, st.alg);
  let out = `${info.bits} ${fp} ${comment === null ? 'no comment' : safeText(comment)} (${info.label})\n`;
  // randomart's digest is the fingerprint's (core randomart hashes with any node digest name)
  if (st.visual && !st.babble) out += randomart(blob, info, st.alg as FingerprintHash) + '\n';
  return out;
}

/** sshkey_try_load_public(FILE.pub): the key and its comment, the file's path standing in for none. */
function pubBeside(file: string): PublicKey | null {
  try {
    const pub = parsePublicKeyText(readFileSync(file + '.pub', 'latin1'));
    return { ...pub, comment: pub.comment.replace(/[\r\n].*$/s, '') || file + '.pub' };
  } catch {
    return null;
  }
}

/** Why sshkey_load_private(FILE, NULL) failed, in ssherr.c's words (for -v's debug line). */
function loadPrivateFailure(err: unknown, text: string): string {
  if (err instanceof KgFatal) return 'bad permissions';
  if (err instanceof PassphraseError) return 'incorrect passphrase supplied to decrypt private key';
  return notAKeyReason(text);
}

/**
 * fingerprint_private(): FILE.pub, else the clear public part, the comment from the private key if
 * needed; with -v, ssh-keygen's `debug1: load public/private "F": why` lines for what failed.
 */
function fingerprintPrivate(file: string, text: string, io: KgIO, st: FpStyle): string {
  const debug: string[] = [];
  let key: PublicKey | null = pubBeside(file);
  let comment: string | null = key ? key.comment : null;
  if (!key) {
    try {
      key = publicFromPrivate(text);
    } catch {
      key = null;
    }
    if (!key) debug.push(`debug1: load public "${file}": No such file or directory`);
  }
  if (!key || !comment) {
    comment = null;
    try {
      checkPerms(file, io);
      const k = loadPrivateKey(text, undefined, file);
      key ??= keyFromBlob(Buffer.from(k.toPublic().toBuffer('rfc4253')));
      if (/^\s*-----BEGIN OPENSSH PRIVATE KEY-----/.test(text)) comment = Buffer.from(k.comment ?? '', 'utf8').toString('latin1');
    } catch (err) {
      // sshkey_load_private failed (encrypted, bad permissions): the public part speaks alone
      debug.push(`debug1: load private "${file}": ${loadPrivateFailure(err, text)}`);
    }
  }
  if (st.visual && debug.length > 0) io.stderr(debug.map(logLine).join(''));
  if (!key) throw new KgFatal(`${file} is not a key file.`);
  return oneKey(key.blob, comment, st);
}

/** `-l` / `-B` (do_fingerprint). */
export async function runFingerprint(a: KgArgs, io: KgIO): Promise<number> {
  const st = styleOf(a);
  const file = await identityFile(a, io);
  const stdin = file === '-';
  if (!stdin) statOrFatal(file, true);
  const path = stdin ? '(stdin)' : file;
  let buf: Buffer;
  try {
    buf = stdin ? await readStream(io.stdin) : readFileSync(file);
  } catch {
    buf = Buffer.alloc(0); // fopen of a folder works, getline fails: no key
  }
  const text = buf.toString('latin1');
  // line 1 (the physical first line, blanks trimmed, not a comment) saying PRIVATE KEY: fingerprint_private
  const first = text.slice(0, (text.indexOf('\n') + 1 || text.length + 1) - 1).replace(/^[ \t]+/, '');
  if (!stdin && !first.startsWith('#') && first.includes('PRIVATE KEY')) {
    io.stdout(Buffer.from(fingerprintPrivate(file, text, io, st), 'latin1'));
    return 0;
  }
  const loop = fingerprintLoop(buf, path);
  let out = '';
  for (const k of loop.keys) out += oneKey(k.key.blob, k.comment, st);
  if (out !== '') io.stdout(Buffer.from(out, 'latin1'));
  if (st.visual && loop.debug.length > 0) io.stderr(loop.debug.map(logLine).join(''));
  if (out === '') throw new KgFatal(`${path} is not a public key file.`);
  return 0;
}

/** `-y` (do_print_public): the private key's public key, with its comment when it has a non-empty one. */
export async function runPrintPublic(a: KgArgs, io: KgIO): Promise<number> {
  const file = await identityFile(a, io);
  statOrFatal(file, false);
  const id = await loadIdentity(file, a, io);
  const blob = Buffer.from(id.key.toPublic().toBuffer('rfc4253'));
  io.stdout(formatPublicKey(keyFromBlob(blob, id.comment ?? '')) + '\n');
  return 0;
}

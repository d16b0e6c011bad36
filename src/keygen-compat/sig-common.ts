/**
 * What every `sshkit-keygen -Y`/`-s`/`-k`/`-Q` handler shares (issue 12): ssh-keygen's log lines (log.c
 * writes `error()`/`fatal()` to stderr as `text\r\n`), strerror texts, reading files as sshbuf_load_file
 * does, loading a public key as sshkey_load_public does, and sig_process_opts (ssh-keygen.c) for `-O`.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parseAbsoluteTime } from '../core/time.js';
import { SshkitError } from '../core/errors.js';
import { parsePublicKeyText, type PublicKey } from '../core/key.js';
import { isPrivateKeyText, publicFromPrivate } from '../core/private-key.js';
import { certificateAcceptedByCertParse, isCertificateBlob } from '../core/certificate.js';
import type { SshsigHash } from '../core/sshsig.js';
import { strerror } from './files.js';
import { logLine } from './usage.js';
import type { KgArgs, KgIO } from './types.js';

/** ssh-keygen's fatal() exit status, and what a handler returning -1 exits with. */
export const FATAL = 255;

/** Writes one ssh-keygen log line (error/logit) to the mode's stderr: usage.ts logLine's `text\r\n`. */
export function kgLog(io: KgIO, text: string): void {
  io.stderr(logLine(text));
}

/** glibc's strerror wording (files.ts, shared with the other modes). */
export { strerror };

/** A file's bytes, or the strerror text why it cannot be read (sshbuf_load_file; EISDIR shows on read as in C). */
export function loadFile(path: string): { data: Buffer } | { error: string } {
  try {
    return { data: readFileSync(path) };
  } catch (err) {
    return { error: strerror(err) };
  }
}

/** sshkey_read's acceptance of a public key text: a certificate must pass cert_parse (its CA signature too). */
function readPublic(text: string): PublicKey | null {
  try {
    const key = parsePublicKeyText(text);
    return isCertificateBlob(key.blob) && !certificateAcceptedByCertParse(key.blob) ? null : key;
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    return null;
  }
}

/**
 * sshkey_load_public (authfile.c): PATH as a public key, else PATH.pub, else the public half of the
 * private key at PATH (`from`: the file read, or 'private'). When all three fail OpenSSH "pretends it
 * couldn't find the key": the error is always ENOENT's text.
 */
export function loadPublicLikeOpenssh(path: string): { key: PublicKey; from: string } | { error: string } {
  const first = loadFile(path);
  if ('data' in first) {
    const text = first.data.toString('latin1');
    const key = isPrivateKeyText(text) ? null : readPublic(text);
    if (key) return { key, from: path };
  }
  const pub = loadFile(`${path}.pub`);
  const key = 'data' in pub ? readPublic(pub.data.toString('latin1')) : null;
  if (key) return { key, from: `${path}.pub` };
  if ('data' in first) {
    try {
      const k = publicFromPrivate(first.data.toString('latin1'));
      if (k) return { key: k, from: 'private' };
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
    }
  }
  return { error: 'No such file or directory' };
}

/** The `-O` options of a -Y mode, as sig_process_opts reads them. */
export interface SigOpts {
  hashalg?: string;
  /** Seconds since the epoch (now when no verify-time= was given). */
  verifyTime: number;
  printPubkey: boolean;
}

/**
 * ssh-keygen.c sig_process_opts: `hashalg=` (sign), `verify-time=` (verify, find-principals,
 * check-novalidate), `print-pubkey` (verify), prefixes case-insensitive; anything else is
 * `Invalid option "X"`. Returns null after logging the error (the caller then fails).
 */
export function sigOpts(args: KgArgs, io: KgIO, allow: { hashalg?: boolean; verifyTime?: boolean; printPubkey?: boolean }): SigOpts | null {
  const out: SigOpts = { verifyTime: 0, printPubkey: false };
  for (const o of args.flags.get('O') ?? []) {
    const lower = o.toLowerCase();
    if (allow.hashalg && lower.startsWith('hashalg=')) out.hashalg = o.slice(8);
    else if (allow.verifyTime && lower.startsWith('verify-time=')) {
      let t = 0;
      try {
        t = parseAbsoluteTime(o.slice(12));
      } catch {
        t = 0;
      }
      if (t === 0) {
        kgLog(io, 'Invalid "verify-time" option');
        return null;
      }
      out.verifyTime = t;
    } else if (allow.printPubkey && lower === 'print-pubkey') out.printPubkey = true;
    else {
      kgLog(io, `Invalid option "${o}"`);
      return null;
    }
  }
  if (out.verifyTime === 0) out.verifyTime = Math.floor(Date.now() / 1000);
  return out;
}

/** H(stdin) with the given algorithm, streamed from the handler's stdin (ssh-keygen hashes fd 0). */
export async function hashStream(stdin: AsyncIterable<unknown>, hash: SshsigHash): Promise<Buffer> {
  const h = createHash(hash);
  for await (const chunk of stdin) h.update(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return h.digest();
}

/** Reads one line from stdin (at most `max` bytes; fgets), or null at end of input. */
export async function readStdinLine(stdin: NodeJS.ReadableStream, max = 2): Promise<string | null> {
  const got: number[] = [];
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (const b of buf) {
      got.push(b);
      if (b === 0x0a || got.length >= max) return Buffer.from(got).toString('latin1');
    }
  }
  return got.length ? Buffer.from(got).toString('latin1') : null;
}

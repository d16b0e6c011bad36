/**
 * SSHSIG, the signature format of `ssh-keygen -Y sign` (OpenSSH PROTOCOL.sshsig), read and written
 * byte-compatibly. The signature blob is
 *
 *   byte[6]  MAGIC_PREAMBLE  "SSHSIG"
 *   uint32   SIG_VERSION     0x01
 *   string   publickey       (plain key or certificate blob)
 *   string   namespace       ("file", "git", … never empty)
 *   string   reserved        (empty)
 *   string   hash_algorithm  ("sha256" or "sha512")
 *   string   signature       (an SSH signature blob; RSA uses rsa-sha2-512 or rsa-sha2-256)
 *
 * and what the key signs is never the message itself but
 *
 *   byte[6]  "SSHSIG"  · string namespace · string reserved · string hash_algorithm · string H(message)
 *
 * so a message of any size is hashed once, as a stream (hashMessage below), and only this small
 * structure reaches signature.ts. The armor is `-----BEGIN SSH SIGNATURE-----`, base64 in lines of 70
 * columns, `-----END SSH SIGNATURE-----` and a final newline (sshsig.c sshsig_armor); reading it accepts
 * what sshsig_dearmor accepts, no more.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, read } from 'node:fs';
import { fsError, ParseError } from './errors.js';
import { decodeBase64Strict } from './base64.js';
import { keyFromBlob } from './key.js';
import { isCertificateBlob, parseCertificate, verifyCertificateSignature } from './certificate.js';
import { verifySignature, type Signer } from './signature.js';
import { WireReader, WireWriter } from './wire.js';

const MAGIC = Buffer.from('SSHSIG', 'latin1');
const VERSION = 1;
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';
/** RSA signature algorithms OpenSSH accepts inside SSHSIG (sshsig.c RSA_SIGN_ALLOWED). */
const RSA_ALLOWED = ['rsa-sha2-512', 'rsa-sha2-256'];

/** The hash algorithms SSHSIG allows; sha512 is ssh-keygen's default. */
export type SshsigHash = 'sha256' | 'sha512';
/** Message hashes PROTOCOL.sshsig allows. */
export const SSHSIG_HASHES: readonly SshsigHash[] = ['sha512', 'sha256'];

/** A parsed SSHSIG blob. */
export interface Sshsig {
  /** The signer's public key or certificate blob. */
  readonly publicKey: Buffer;
  readonly namespace: string;
  readonly hashAlgorithm: SshsigHash;
  /** The inner SSH signature blob. */
  readonly signature: Buffer;
}

/** Wraps an SSHSIG blob in its armor, exactly as ssh-keygen writes it (70-column lines, final newline). */
export function armorSignature(blob: Buffer): string {
  const b64 = blob.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** sshsig.c BEGIN_SIGNATURE: the header line, newline included, must open the file at byte 0. */
const HEADER = `${BEGIN}\n`;
/** sshsig.c sshsig_dearmor looks for the footer as "\n" END_SIGNATURE: it must start a line. */
const FOOTER = `\n${END}`;

/**
 * Extracts the blob from an armored signature, accepting exactly what OpenSSH 9.2's sshsig_dearmor
 * accepts (sshsig.c): the file starts with `-----BEGIN SSH SIGNATURE-----\n` (no blank line, space or
 * CR before or inside it); the body runs to the first `\n-----END SSH SIGNATURE-----`, whatever follows
 * that is ignored; the body is a C string (one NUL only as its last byte, sshbuf_dup_string) decoded by
 * b64_pton, which skips C whitespace anywhere, so line lengths and blank or indented body lines do not
 * matter, and needs canonical padding (the bits before `=` zero): the one strict reader,
 * base64.ts {@link decodeBase64Strict}.
 */
export function dearmorSignature(input: Buffer | string): Buffer {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  if (!text.startsWith(HEADER)) throw new ParseError(`signature: missing header (the file must start with the line ${BEGIN})`);
  const end = text.indexOf(FOOTER, HEADER.length);
  if (end < 0) throw new ParseError(`signature: missing footer (a line starting ${END})`);
  let body = text.slice(HEADER.length, end);
  const nul = body.indexOf('\0');
  if (nul >= 0 && nul !== body.length - 1) throw new ParseError('signature: NUL byte in the base64 body');
  if (nul >= 0) body = body.slice(0, -1);
  try {
    return decodeBase64Strict(body);
  } catch (err) {
    throw err instanceof ParseError ? new ParseError(`signature: ${err.message}`) : err;
  }
}

/** Parses an SSHSIG blob strictly: magic, version 1, a valid key or certificate, non-empty namespace, known hash, no trailing bytes. */
export function parseSshsig(blob: Buffer): Sshsig {
  if (blob.length < MAGIC.length || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw new ParseError('signature: bad magic (not an SSHSIG blob)');
  const r = new WireReader(blob.subarray(MAGIC.length), 'signature');
  const version = r.u32();
  if (version !== VERSION) throw new ParseError(`signature: unsupported version ${version}`);
  const publicKey = r.string();
  const namespace = r.text();
  r.string(); // reserved
  const hash = r.text();
  const signature = r.string();
  r.end();
  keyFromBlob(publicKey); // validates the key blob
  // a certificate signer goes through certificate.ts, the one certificate parser (OpenSSH's sshkey_froms
  // runs cert_parse here): what it refuses (issue 18 diff-certs) no SSHSIG path can accept
  if (isCertificateBlob(publicKey)) parseCertificate(publicKey);
  if (namespace === '') throw new ParseError('signature: empty namespace');
  if (hash !== 'sha256' && hash !== 'sha512') throw new ParseError(`signature: unsupported hash algorithm ${JSON.stringify(hash)}`);
  new WireReader(signature, 'signature').text(); // must at least name its algorithm
  return { publicKey, namespace, hashAlgorithm: hash, signature };
}

/** The SSHSIG blob for parts (no signing). */
export function encodeSshsig(sig: Sshsig): Buffer {
  return new WireWriter()
    .raw(MAGIC)
    .u32(VERSION)
    .string(sig.publicKey)
    .string(sig.namespace)
    .string('')
    .string(sig.hashAlgorithm)
    .string(sig.signature)
    .toBuffer();
}

/** What the key signs: the preamble, namespace, reserved, hash name and the message's digest. */
export function signedData(namespace: string, hash: SshsigHash, digest: Buffer): Buffer {
  return new WireWriter().raw(MAGIC).string(namespace).string('').string(hash).string(digest).toBuffer();
}

/** Signs a message digest (computed with `hash`) into an SSHSIG blob; RSA keys sign with rsa-sha2-512 as ssh-keygen does. */
export function signDigest(signer: Signer, namespace: string, hash: SshsigHash, digest: Buffer): Buffer {
  if (namespace === '') throw new ParseError('namespace: must not be empty');
  const signature = signer.sign(signedData(namespace, hash, digest), 'rsa-sha2-512');
  return encodeSshsig({ publicKey: signer.publicKey.blob, namespace, hashAlgorithm: hash, signature });
}

/** Result of checking an SSHSIG's cryptography: ok, or a reason in ssh-keygen's words. */
export type SigCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks the signature itself (not who may sign): namespace equality, the RSA algorithm policy, the
 * inner signature over {@link signedData}, and for a certificate signer its CA signature (OpenSSH
 * verifies that when it parses the key). `digest` must be H(message) with `sig.hashAlgorithm`.
 */
export function verifySshsig(sig: Sshsig, digest: Buffer, namespace: string): SigCheck {
  if (sig.namespace !== namespace) return { ok: false, reason: 'namespace does not match' };
  if (isCertificateBlob(sig.publicKey) && !verifyCertificateSignature(parseCertificate(sig.publicKey))) {
    return { ok: false, reason: 'certificate signature invalid' };
  }
  const keyType = new WireReader(sig.publicKey).text();
  const algorithms = keyType.startsWith('ssh-rsa') ? RSA_ALLOWED : undefined;
  const good = verifySignature(sig.publicKey, signedData(namespace, sig.hashAlgorithm, digest), sig.signature, { algorithms });
  return good ? { ok: true } : { ok: false, reason: 'incorrect signature' };
}

const CHUNK = 1 << 20;

function readAt(fd: number, buf: Buffer, pos: number | null): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * The caller's stdin stream, or a function that returns it: a function is called only when fd 0 is no
 * regular file, so a command whose stdin is redirected from a file never builds `process.stdin` (Node
 * creates it, and loads its stream modules, on first access: a few ms of start-up, issue 14).
 */
export type Stdin = AsyncIterable<unknown> | (() => AsyncIterable<unknown>);

/**
 * H(message) of an open file descriptor, streamed: 1 MiB chunks, two buffers, so the thread pool reads
 * the next chunk while this thread hashes the current one. Memory stays at 2 MiB whatever the size.
 * Regular files are read by position; anything else (pipe, tty, socket) as a stream.
 */
export async function hashFd(fd: number, hash: SshsigHash, stdin?: Stdin): Promise<Buffer> {
  const h = createHash(hash);
  if (!fstatSync(fd).isFile()) {
    const stream = fd === 0 && stdin ? (typeof stdin === 'function' ? stdin() : stdin) : createReadStream('', { fd, autoClose: false, highWaterMark: CHUNK });
    for await (const chunk of stream) h.update(chunk as Buffer);
    return h.digest();
  }
  const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let pos = 0;
  let i = 0;
  let pending = readAt(fd, bufs[0], pos);
  for (;;) {
    const n = await pending;
    if (n === 0) break;
    pos += n;
    const cur = bufs[i];
    i ^= 1;
    pending = readAt(fd, bufs[i], pos);
    h.update(cur.subarray(0, n));
  }
  return h.digest();
}

/** H(message) of a file by path (`-` is the caller's `stdin` stream), streamed by {@link hashFd}; fs errors become `path: why` (exit 2). */
export async function hashFile(path: string, hash: SshsigHash, stdin?: Stdin): Promise<Buffer> {
  if (path === '-') return hashFd(0, hash, stdin);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(path, err);
  }
  try {
    return await hashFd(fd, hash);
  } catch (err) {
    throw fsError(path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Private key files: OpenSSH (`openssh-key-v1`, PROTOCOL.key; bcrypt KDF encryption), PEM (PKCS#1/SEC1,
 * optionally OpenSSL-encrypted) and PKCS#8 (optionally PBES2-encrypted) — what ssh-keygen writes with
 * its default format, `-m PEM` and `-m PKCS8`. OpenSSH keys are decoded by sshpk; PEM and PKCS#8 keys
 * by Node's crypto (OpenSSL), whose errors are synchronous and precise — sshpk's PEM decryption throws a
 * wrong passphrase from a stream callback, where no caller can catch it. Either way the caller gets an
 * sshpk PrivateKey, and every failure is one typed line: passphrase missing, passphrase wrong, or bad file.
 * sshpk is loaded on first use, so commands that only read public keys never pay for it.
 */
import { createPrivateKey } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as SshpkNs from 'sshpk';
import { Exit, ParseError, SshkitError } from './errors.js';
import { decodeBase64Strict } from './base64.js';
import { checkBcryptOptions, checkPkcs8KdfCost } from './kdf-cost.js';
import { keyFromBlob, type PublicKey } from './key.js';
import { readPlainOpensshKey, type PlainPrivateKey } from './openssh-key.js';
import { WireReader } from './wire.js';

const require = createRequire(import.meta.url);
let sshpkMod: typeof SshpkNs | null = null;
/** sshpk, loaded on demand. */
export function sshpk(): typeof SshpkNs {
  return (sshpkMod ??= require('sshpk') as typeof SshpkNs);
}

/**
 * A passphrase problem with an encrypted key: `missing` (none given) or `incorrect` (it did not
 * decrypt the key). Exit 2, as SPEC lists "wrong passphrase" under bad input.
 */
export class PassphraseError extends SshkitError {
  constructor(
    readonly reason: 'missing' | 'incorrect',
    message: string,
  ) {
    super(Exit.BAD, message, { code: reason === 'missing' ? 'PASSPHRASE_MISSING' : 'PASSPHRASE_INCORRECT' });
    this.name = 'PassphraseError';
  }
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
/** Ciphers sshpk decrypts correctly (it mishandles the AEAD ones: no tag check). */
const OPENSSH_CIPHERS = new Set(['aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-cbc', 'aes192-cbc', 'aes256-cbc', '3des-cbc']);
/** AEAD ciphers append a 16-byte tag after the private section (PROTOCOL.key). */
const AEAD_CIPHERS = new Set(['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com']);

/** Does this text look like a private key file (any supported armor)? */
export function isPrivateKeyText(text: string): boolean {
  return PEM_BEGIN.test(text);
}

/** The base64 body of an armored block, or null. */
function armorBody(text: string, label: string): Buffer | null {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end, a + begin.length);
  if (a < 0 || b < 0) return null;
  // private2_uudecode hands the body to b64_pton: the one strict reader, same rules
  return decodeBase64Strict(text.slice(a + begin.length, b), 'base64 in private key');
}

/** Is the key encrypted (needs a passphrase)? */
export function isEncrypted(text: string): boolean {
  const o = armorBody(text, 'OPENSSH PRIVATE KEY');
  if (o) return parseOpensshEnvelope(o).cipher !== 'none';
  return isEncryptedPem(text);
}

function isEncryptedPem(text: string): boolean {
  return /Proc-Type:\s*4,ENCRYPTED/.test(text) || text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

/** The clear-text parts of an openssh-key-v1 file, and its private section (encrypted unless cipher is none). */
export interface OpensshEnvelope {
  cipher: string;
  kdf: string;
  kdfOptions: Buffer;
  publicBlob: Buffer;
  section: Buffer;
}

/** The clear-text envelope of an openssh-key-v1 file (PROTOCOL.key): one key, its public blob. */
function parseOpensshEnvelope(raw: Buffer): OpensshEnvelope {
  if (raw.length < OPENSSH_MAGIC.length || !raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
    throw new ParseError('not an openssh-key-v1 private key');
  }
  const r = new WireReader(raw.subarray(OPENSSH_MAGIC.length), 'private key');
  const cipher = r.text();
  const kdf = r.text();
  const kdfOptions = r.string();
  const n = r.u32();
  if (n !== 1) throw new ParseError(`private key file holds ${n} keys; expected 1`);
  const publicBlob = r.string();
  const section = r.string(); // private section (possibly encrypted)
  if (AEAD_CIPHERS.has(cipher)) r.raw(16); // authentication tag
  r.end();
  if ((cipher === 'none') !== (kdf === 'none')) throw new ParseError(`private key: cipher ${cipher} with kdf ${kdf}`);
  return { cipher, kdf, kdfOptions, publicBlob, section };
}

/**
 * The public key of a private key file without asking for a passphrase: always possible for OpenSSH
 * keys (the public blob is stored in clear), for unencrypted PEM/PKCS#8 by decoding them.
 * Returns null for an encrypted PEM/PKCS#8 key, whose public part is not recoverable without it.
 */
export function publicFromPrivate(text: string): PublicKey | null {
  const o = armorBody(text, 'OPENSSH PRIVATE KEY');
  if (o) return keyFromBlob(Buffer.from(parseOpensshEnvelope(o).publicBlob));
  if (isEncrypted(text)) return null;
  const k = loadPrivateKey(text);
  return keyFromBlob(Buffer.from(k.toPublic().toBuffer('rfc4253')), k.comment ?? '');
}

/**
 * The comment a private key file holds, as sshkey_load_private returns it to `ssh-keygen -l`: the
 * openssh-key-v1 comment of an unencrypted key, possibly empty (`ssh-keygen -C ''`, dropbearconvert,
 * puttygen, libssh write those); null when there is none to read — an encrypted key (no passphrase is
 * asked) and PEM/PKCS#8, whose formats carry no comment. ssh-keygen prints "no comment" only for null.
 */
export function privateKeyComment(text: string, name = 'private key'): string | null {
  const o = armorBody(text, 'OPENSSH PRIVATE KEY');
  if (!o || parseOpensshEnvelope(o).cipher !== 'none') return null;
  return loadPrivateKey(text, undefined, name).comment ?? '';
}

function firstLine(err: unknown): string {
  const e = err as Error;
  return String((e && e.message) || err).split('\n')[0];
}

/** An openssh-key-v1 key; encrypted ones are decrypted by sshpk (bcrypt_pbkdf + the named cipher). */
function loadOpenssh(str: string, env: OpensshEnvelope, passphrase: Buffer | undefined, name: string): SshpkNs.PrivateKey {
  if (env.cipher !== 'none') {
    if (env.kdf !== 'bcrypt') throw new ParseError(`${name}: unsupported KDF ${JSON.stringify(env.kdf)}`);
    if (!OPENSSH_CIPHERS.has(env.cipher)) throw new ParseError(`${name}: unsupported cipher ${JSON.stringify(env.cipher)}`);
    if (!passphrase) throw missingPassphrase(name);
    checkBcryptOptions(env.kdfOptions); // the file's own work factor, capped before any is spent
  }
  let key: SshpkNs.PrivateKey;
  try {
    // filename '' keeps sshpk from putting "(unnamed)" in place of an empty comment
    key = sshpk().parsePrivateKey(str, 'openssh', env.cipher !== 'none' ? { passphrase: passphrase as any, filename: '' } : { filename: '' });
  } catch (err) {
    if (env.cipher !== 'none' && /incorrect passphrase/i.test(firstLine(err))) throw incorrectPassphrase(name);
    throw new ParseError(`${name}: invalid private key: ${firstLine(err)}`);
  }
  // The decrypted key must be the key the envelope advertises (OpenSSH checks this too).
  if (!Buffer.from(key.toPublic().toBuffer('rfc4253')).equals(env.publicBlob)) {
    throw new ParseError(`${name}: private key does not match its public key`);
  }
  return key;
}

/** PEM (PKCS#1, SEC1) or PKCS#8, plain or encrypted, decoded by OpenSSL, handed to sshpk as PKCS#8. */
function loadPem(str: string, passphrase: Buffer | undefined, name: string): SshpkNs.PrivateKey {
  const encrypted = isEncryptedPem(str);
  if (encrypted && !passphrase) throw missingPassphrase(name);
  const p8 = encrypted ? armorBody(str, 'ENCRYPTED PRIVATE KEY') : null;
  if (p8) checkPkcs8KdfCost(p8); // PBKDF2 iterations / scrypt N chosen by the file, capped
  let pkcs8: string;
  try {
    const k = createPrivateKey(encrypted ? { key: str, format: 'pem', passphrase } : { key: str, format: 'pem' });
    pkcs8 = k.export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch (err) {
    const code = String((err as NodeJS.ErrnoException).code ?? '');
    // A wrong passphrase shows as bad padding or as garbage after decryption, which OpenSSL 3's decoders
    // report as "unsupported" too; only an unknown cipher or algorithm is really unsupported.
    if (encrypted && !/cipher|algorithm/i.test(firstLine(err))) throw incorrectPassphrase(name);
    if (code.includes('UNSUPPORTED')) throw new ParseError(`${name}: unsupported key or encryption: ${firstLine(err)}`);
    if (encrypted) throw incorrectPassphrase(name);
    throw new ParseError(`${name}: invalid private key: ${firstLine(err)}`);
  }
  try {
    return sshpk().parsePrivateKey(pkcs8, 'pkcs8', { filename: '' });
  } catch (err) {
    throw new ParseError(`${name}: unsupported private key: ${firstLine(err)}`);
  }
}

function missingPassphrase(name: string): PassphraseError {
  return new PassphraseError('missing', `${name}: encrypted, a passphrase is required (-P or --passphrase-file)`);
}

function incorrectPassphrase(name: string): PassphraseError {
  return new PassphraseError('incorrect', `${name}: incorrect passphrase`);
}

/**
 * Decodes a private key (any supported format). Errors are one line each, `name: why`: a
 * PassphraseError `missing` (encrypted, no or empty passphrase) or `incorrect`, or a ParseError for a
 * file that is not a (supported) private key. A passphrase given for an unencrypted key is ignored,
 * as ssh-keygen does.
 */
export function loadPrivateKey(text: string | Buffer, passphrase?: string | Buffer, name = 'private key'): SshpkNs.PrivateKey {
  const str = typeof text === 'string' ? text : text.toString('utf8');
  if (!isPrivateKeyText(str)) throw new ParseError(`${name}: not a private key`);
  const pass = passphrase === undefined || passphrase.length === 0 ? undefined : Buffer.from(passphrase as any);
  const o = armorBody(str, 'OPENSSH PRIVATE KEY');
  if (o) return loadOpenssh(str, parseOpensshEnvelope(o), pass, name);
  return loadPem(str, pass, name);
}

/**
 * A private key for signing: an unencrypted ed25519/ECDSA OpenSSH key straight into Node's crypto
 * (openssh-key.ts: no sshpk, ≈ 10 ms less start-up for `sshkit sign`, issue 14), any other key through
 * {@link loadPrivateKey} — whose errors every bad file still gets. Hand the result to signature.ts createSigner.
 */
export function loadSigningKey(text: string | Buffer, passphrase?: string | Buffer, name = 'private key'): SshpkNs.PrivateKey | PlainPrivateKey {
  const str = typeof text === 'string' ? text : text.toString('utf8');
  return plainOpensshKey(str) ?? loadPrivateKey(str, passphrase, name);
}

/** The key of a file that is an unencrypted ed25519/ECDSA OpenSSH key (openssh-key.ts), else null: load it the usual way. */
export function plainOpensshKey(text: string): PlainPrivateKey | null {
  try {
    const o = isPrivateKeyText(text) ? armorBody(text, 'OPENSSH PRIVATE KEY') : null;
    return o && readPlainOpensshKey(parseOpensshEnvelope(o));
  } catch {
    return null; // a malformed file: loadPrivateKey says what is wrong with it, as before
  }
}

/**
 * Private key files: OpenSSH (`openssh-key-v1`, PROTOCOL.key; bcrypt KDF encryption), PEM (PKCS#1/SEC1,
 * optionally OpenSSL-encrypted) and PKCS#8. Decoding is sshpk's job; this module adds the strict
 * framing, the typed errors and the passphrase-free public part of OpenSSH keys.
 * sshpk is loaded on first use, so commands that only read public keys never pay for it.
 */
import { createRequire } from 'node:module';
import type * as SshpkNs from 'sshpk';
import { bad, ParseError } from './errors.js';
import { keyFromBlob, type PublicKey } from './key.js';
import { WireReader } from './wire.js';

const require = createRequire(import.meta.url);
let sshpkMod: typeof SshpkNs | null = null;
/** sshpk, loaded on demand. */
export function sshpk(): typeof SshpkNs {
  return (sshpkMod ??= require('sshpk') as typeof SshpkNs);
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

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
  const body = text.slice(a + begin.length, b).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw new ParseError('invalid base64 in private key');
  return Buffer.from(body, 'base64');
}

/** Is the key encrypted (needs a passphrase)? */
export function isEncrypted(text: string): boolean {
  const o = armorBody(text, 'OPENSSH PRIVATE KEY');
  if (o) return parseOpensshEnvelope(o).cipher !== 'none';
  return /Proc-Type:\s*4,ENCRYPTED/.test(text) || text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

interface OpensshEnvelope {
  cipher: string;
  kdf: string;
  publicBlob: Buffer;
}

/** The clear-text envelope of an openssh-key-v1 file (PROTOCOL.key): one key, its public blob. */
function parseOpensshEnvelope(raw: Buffer): OpensshEnvelope {
  if (raw.length < OPENSSH_MAGIC.length || !raw.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
    throw new ParseError('not an openssh-key-v1 private key');
  }
  const r = new WireReader(raw.subarray(OPENSSH_MAGIC.length), 'private key');
  const cipher = r.text();
  const kdf = r.text();
  r.string(); // kdf options
  const n = r.u32();
  if (n !== 1) throw new ParseError(`private key file holds ${n} keys; expected 1`);
  const publicBlob = r.string();
  r.string(); // private section (possibly encrypted)
  r.end();
  return { cipher, kdf, publicBlob };
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
  return keyFromBlob(Buffer.from(k.toPublic().toBuffer('rfc4253')), k.comment && k.comment !== '(unnamed)' ? k.comment : '');
}

/**
 * Decodes a private key (any supported format). Errors are one line: a missing passphrase for an
 * encrypted key, a wrong passphrase, or an unparsable file.
 */
export function loadPrivateKey(text: string | Buffer, passphrase?: string | Buffer): SshpkNs.PrivateKey {
  const str = typeof text === 'string' ? text : text.toString('utf8');
  if (!isPrivateKeyText(str)) throw new ParseError('not a private key');
  const encrypted = isEncrypted(str);
  if (encrypted && (passphrase === undefined || passphrase.length === 0)) {
    throw bad('key is encrypted: a passphrase is required (-P or --passphrase-file)');
  }
  try {
    return sshpk().parsePrivateKey(str, 'auto', encrypted ? { passphrase: passphrase as any } : {});
  } catch (err) {
    const e = err as Error;
    if (e.name === 'KeyEncryptedError') throw bad('key is encrypted: a passphrase is required');
    if (encrypted && /passphrase|decrypt|bad decrypt|padding|check/i.test(e.message)) {
      throw bad('incorrect passphrase supplied to decrypt private key');
    }
    if (encrypted) throw bad('incorrect passphrase supplied to decrypt private key');
    throw new ParseError(`invalid private key: ${e.message.split('\n')[0]}`);
  }
}

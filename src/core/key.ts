/**
 * Public keys. A key *is* its wire blob (RFC 4253 §6.6; PROTOCOL.certkeys for certificates): identity,
 * equality and fingerprints are computed from the blob, never from a comment or a parsed object.
 * This module (with key-blob.ts, the blob parser it re-exports) is the one strict parser of public-key
 * blobs and of the `type base64 [comment]` text form; everything else (authorized_keys, known_hosts,
 * allowed_signers, the server) goes through it.
 */
import { ParseError } from './errors.js';
import { decodeBase64Strict } from './base64.js';
import { inspectBlob, isKnownKeyType, type KeyInfo } from './key-blob.js';

// the blob parser lives in key-blob.ts; callers keep importing it from here
export {
  CERT_MAX_PRINCIPALS,
  RSA_MIN_BITS,
  baseKeyType,
  bitLength,
  inspectBlob,
  inspectPlainBlob,
  isKnownKeyType,
  plainKeyBlob,
  readCertBody,
  readKeyFields,
  type CertBody,
  type KeyInfo,
} from './key-blob.js';

/** A public key: canonical wire blob, its type name (first string of the blob) and a comment. */
export interface PublicKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly comment: string;
}

/**
 * Strict base64 as OpenSSH's b64_pton reads it; kept under this name for existing callers. New code
 * imports {@link decodeBase64Strict} from base64.ts, the one reader.
 */
export const decodeBase64 = decodeBase64Strict;

/** A key from its blob: validates it, takes its type from the blob. */
export function keyFromBlob(blob: Buffer, comment = ''): PublicKey {
  const info = inspectBlob(blob);
  return { type: info.type, blob, comment };
}

/**
 * Signature-algorithm names sshkey_type_from_name also takes for a key type (the `sigonly` entries of
 * sshkey.c's keyimpls): `ssh-keygen -l` and sshd read `rsa-sha2-256 <ssh-rsa blob>` as that RSA key.
 */
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['rsa-sha2-256', 'ssh-rsa'],
  ['rsa-sha2-512', 'ssh-rsa'],
  ['rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['rsa-sha2-512-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['webauthn-sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'],
]);

/** A space or a tab, by char code (not one-character strings: {@link readKeyPrefix} runs over every key line). */
const blank = (c: number): boolean => c === 0x20 || c === 0x09;

/**
 * Reads `type base64` at the start of `text` (after leading blanks), like OpenSSH's sshkey_read:
 * the type token must name the blob's own type (or be one of its signature-algorithm aliases). Returns
 * the key and the offsets of the base64 field as written (`dataStart`, `end`; b64_pton lets it hold
 * whitespace, so identify keys by `key.blob`, never by that text), or null when `text` does not start
 * with a known key type (so callers can try options or hosts first). A known type followed by a bad
 * blob is an error, not null.
 */
export function readKeyPrefix(text: string, from = 0): { key: PublicKey; end: number; dataStart: number; info: KeyInfo } | null {
  let i = from;
  while (blank(text.charCodeAt(i))) i++;
  let j = i;
  while (j < text.length && !blank(text.charCodeAt(j))) j++;
  const token = text.slice(i, j);
  const type = TYPE_ALIASES.get(token) ?? token;
  if (!isKnownKeyType(type)) return null;
  while (blank(text.charCodeAt(j))) j++;
  let k = j;
  while (k < text.length && !blank(text.charCodeAt(k))) k++;
  if (k === j) throw new ParseError(`missing key data after ${type}`);
  // b64_pton skips white space inside the data: a CRLF line's `\r` belongs to no comment
  const blob = decodeBase64Strict(text.slice(j, k), 'base64 key data');
  // the blob is validated once; its description goes back with it (fingerprint prints bits and label)
  const info = inspectBlob(blob);
  if (info.type !== type) throw new ParseError(`key type mismatch: line says ${token}, key is ${info.type}`);
  return { key: { type: info.type, blob, comment: '' }, end: k, dataStart: j, info };
}

/** Parses a one-line OpenSSH public key `type base64 [comment]` (the .pub form). */
export function parsePublicKeyLine(line: string): PublicKey {
  const text = line.replace(/\r?\n$/, '');
  const got = readKeyPrefix(text);
  if (!got) throw new ParseError('not a public key line');
  const comment = text.slice(got.end).replace(/^[ \t]+/, '');
  return { ...got.key, comment };
}

/** The key of a .pub file: its first line that is neither blank nor a `#` comment (as sshkey_try_load_public). */
export function parsePublicKeyText(text: string): PublicKey {
  for (const line of text.split('\n')) {
    const t = line.replace(/^[ \t]+/, '');
    if (t === '' || t === '\r' || t.startsWith('#')) continue;
    return parsePublicKeyLine(line);
  }
  throw new ParseError('no public key found');
}

/** Formats the .pub line; an empty comment leaves no trailing space (SPEC). */
export function formatPublicKey(key: PublicKey): string {
  const b64 = key.blob.toString('base64');
  return key.comment ? `${key.type} ${b64} ${key.comment}` : `${key.type} ${b64}`;
}

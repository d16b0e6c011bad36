/**
 * The library's key functions (issue 15): thin wrappers over the one strict parser of each format
 * (key.ts, authorized-keys.ts, fingerprint.ts), shaped for callers — plain data in and out, no class
 * of a third-party library, every bad input an SshkitError with a string `code`.
 */
import { parseAuthorizedKeysLine, type AuthorizedKey, type KeyOptions } from '../core/authorized-keys.js';
import { ParseError } from '../core/errors.js';
import { fingerprint as fingerprintBlob, type FingerprintHash } from '../core/fingerprint.js';
import { formatPublicKey as formatKey, inspectBlob, parsePublicKeyText, type PublicKey } from '../core/key.js';
import { eachLine, type LineError } from '../core/lines.js';

export type { AuthorizedKey, FingerprintHash, KeyOptions, LineError, PublicKey };

/**
 * Parses a public key in the `.pub` form `type base64 [comment]` (its first line that is not blank or
 * a `#` comment), as strictly as OpenSSH's sshkey_read: the type must name the blob's own type and
 * the blob must be well-formed. Throws SshkitError (code `PARSE`) on bad input.
 */
export function parsePublicKey(text: string): PublicKey {
  if (typeof text !== 'string') throw new ParseError('public key: expected a string');
  return parsePublicKeyText(text);
}

/** The key a caller hands in: a parsed key, its wire blob, or its `.pub` text. */
export type KeyInput = PublicKey | Buffer | string;

function blobOf(key: KeyInput): Buffer {
  if (typeof key === 'string') return parsePublicKey(key).blob;
  if (Buffer.isBuffer(key)) return inspectBlob(key) && key;
  if (key && Buffer.isBuffer(key.blob)) return key.blob;
  throw new ParseError('key: expected a public key, its blob or its text');
}

/**
 * The fingerprint `ssh-keygen -l` prints: `SHA256:<base64>` (default) or `MD5:aa:bb:…` (`-E md5`);
 * a certificate's is its certified key's, as OpenSSH's (sshkey.c sshkey_fingerprint).
 */
export function fingerprint(key: KeyInput, hash: FingerprintHash = 'sha256'): string {
  if (hash !== 'sha256' && hash !== 'md5') throw new ParseError(`fingerprint: unsupported hash ${JSON.stringify(hash)} (sha256 or md5)`);
  return fingerprintBlob(blobOf(key), hash);
}

/** A key's type label and size as `ssh-keygen -l` shows them (`ED25519`, 256). */
export function describeKey(key: KeyInput): { type: string; label: string; bits: number } {
  const info = inspectBlob(blobOf(key));
  return { type: info.type, label: info.label, bits: info.bits };
}

/** The `.pub` line of a key (an empty comment leaves no trailing space). */
export function formatPublicKey(key: PublicKey): string {
  return formatKey(key);
}

/**
 * Parses an authorized_keys text as sshd reads it (sshd(8) AUTHORIZED_KEYS FILE FORMAT; auth2-pubkeyfile.c):
 * strict per line, forgiving per file — each bad line is reported as `{line, message}` and skipped,
 * the good lines are kept with their options and 1-based line numbers.
 */
export function parseAuthorizedKeys(text: string): { keys: AuthorizedKey[]; errors: LineError[] } {
  if (typeof text !== 'string') throw new ParseError('authorized_keys: expected a string');
  const keys: AuthorizedKey[] = [];
  const errors = eachLine(text, (line, n) => keys.push(parseAuthorizedKeysLine(line, n)));
  return { keys, errors };
}

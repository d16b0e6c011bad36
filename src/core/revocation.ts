/**
 * Revoked-keys files as `ssh-keygen -Y verify -r` and sshd's RevokedKeys read them when they are not a
 * KRL (sshkey_check_revoked → sshkey_in_file): one public key per line, blank and `#` lines ignored.
 * A key is revoked when its plain key is listed (a certificate of a revoked key is revoked too) or when
 * it is a certificate whose CA key is listed. Binary KRLs are recognised and refused (not supported
 * yet): failing closed beats silently ignoring a revocation list.
 */
import { ParseError } from './errors.js';
import { isCertificateBlob, parseCertificate } from './certificate.js';
import { plainKeyBlob, readKeyPrefix } from './key.js';
import { eachLine } from './lines.js';

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');

/** A set of revoked plain key blobs (base64 keys), plus the lines that could not be read. */
export interface RevokedKeys {
  readonly keys: ReadonlySet<string>;
  readonly errors: readonly { line: number; message: string }[];
}

/**
 * Parses a revoked-keys file. Unreadable lines are returned as errors; callers must not go on as if
 * the list were complete (ssh-keygen's sshkey_in_file aborts, so verification fails: never fail open).
 */
export function parseRevokedKeys(data: Buffer): RevokedKeys {
  if (data.length >= KRL_MAGIC.length && data.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC)) {
    throw new ParseError('binary KRL files are not supported; list revoked public keys one per line');
  }
  const keys = new Set<string>();
  const errors = eachLine(data.toString('latin1'), (line) => {
    const got = readKeyPrefix(line);
    if (!got) throw new ParseError('not a public key');
    keys.add(plainKeyBlob(got.key.blob).toString('base64'));
  });
  return { keys, errors };
}

/** Is this key (or certificate: its key or its CA) revoked? */
export function isRevoked(revoked: RevokedKeys, keyBlob: Buffer): boolean {
  if (revoked.keys.has(plainKeyBlob(keyBlob).toString('base64'))) return true;
  if (isCertificateBlob(keyBlob)) return revoked.keys.has(parseCertificate(keyBlob).signatureKey.toString('base64'));
  return false;
}

/**
 * The one reader of revocation files, for every consumer (verify-signature -r, find-principals -r,
 * krl --check, serve --revoked, exec --revoked-host-keys), as OpenSSH's sshkey_check_revoked reads
 * RevokedKeys / RevokedHostKeys / `-Y verify -r`: a file starting with the KRL magic is a binary KRL
 * (PROTOCOL.krl, read by krl-parse.ts: any flaw refuses the whole file); anything else is a list of
 * public keys, one per line, blank and `#` lines ignored (sshkey_in_file). In a list, a key is
 * revoked when its plain key is listed (a certificate of a revoked key is revoked too) or when it is
 * a certificate whose CA key is listed; in a KRL, by krl.c's rules (key, hash, serial or key ID under
 * its CA, the CA itself).
 */
import { ParseError } from './errors.js';
import { isCertificateBlob, parseCertificate } from './certificate.js';
import { plainKeyBlob, readKeyPrefix } from './key.js';
import { isKrl, type Krl } from './krl.js';
import { parseKrl } from './krl-parse.js';
import { eachLine } from './lines.js';

/** A parsed revocation file: listed plain key blobs (base64) or a KRL, plus the lines that could not be read. */
export interface RevokedKeys {
  readonly keys: ReadonlySet<string>;
  /** Set when the file was a binary KRL (then `keys` is empty). */
  readonly krl?: Krl;
  readonly errors: readonly { line: number; message: string }[];
}

/**
 * Parses a revocation file, KRL or key list. A KRL that does not parse throws (ParseError); a list's
 * unreadable lines are returned as errors, and callers must not go on as if the list were complete
 * (ssh-keygen's sshkey_in_file aborts, so verification fails: never fail open).
 */
export function parseRevokedKeys(data: Buffer): RevokedKeys {
  if (isKrl(data)) return { keys: new Set(), krl: parseKrl(data), errors: [] };
  const keys = new Set<string>();
  const errors = eachLine(data.toString('latin1'), (line) => {
    const got = readKeyPrefix(line);
    if (!got) throw new ParseError('not a public key');
    keys.add(plainKeyBlob(got.key.blob).toString('base64'));
  });
  return { keys, errors };
}

/** Is this key (or certificate: its key, serial, key ID or CA) revoked? */
export function isRevoked(revoked: RevokedKeys, keyBlob: Buffer): boolean {
  if (revoked.krl) return revoked.krl.isRevoked(keyBlob);
  if (revoked.keys.has(plainKeyBlob(keyBlob).toString('base64'))) return true;
  if (isCertificateBlob(keyBlob)) return revoked.keys.has(parseCertificate(keyBlob).signatureKey.toString('base64'));
  return false;
}

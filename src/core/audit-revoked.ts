/**
 * `sshkit audit --revoked FILE`: the revocation list as a predicate over key blobs, through the one
 * revocation reader (revocation.ts: one public key per line, as `ssh-keygen -Y verify -r` and sshd's
 * RevokedKeys read a non-KRL file; a certificate is revoked with its key or its CA). An unreadable line
 * makes the whole list bad input (exit 2): an audit that skipped part of a revocation list would report
 * a revoked key as fine, failing open.
 *
 * KRL hook: binary KRLs (`SSHKRL\n\0`, PROTOCOL.krl) are refused by parseRevokedKeys today (exit 2).
 * When the KRL reader lands (src/core/krl*.ts), this function is the one place to change: for data
 * starting with the KRL magic, return `(blob) => krlRevokes(parseKrl(data), blob)` instead.
 */
import { bad } from './errors.js';
import { isRevoked, parseRevokedKeys } from './revocation.js';

/** The --revoked list `data` (named `name` in errors) as a predicate; throws SshkitError (exit 2) when bad. */
export function revocationCheck(data: Buffer, name: string): (blob: Buffer) => boolean {
  let list;
  try {
    list = parseRevokedKeys(data);
  } catch (err) {
    throw bad(`${name}: ${(err as Error).message}`);
  }
  if (list.errors.length) throw bad(`${name}:${list.errors[0].line}: ${list.errors[0].message}`);
  return (blob) => isRevoked(list, blob);
}

/**
 * SSHFP resource records, as `ssh-keygen -r HOST` prints them (dns.c export_dns_rr): one record per
 * digest type, SHA-1 (type 1, RFC 4255 §3.1.2) and SHA-256 (type 2, RFC 6594 §4.1), of the key's wire
 * blob; algorithm numbers RSA 1 and DSA 2 (RFC 4255 §3.1.1), ECDSA 3 (RFC 6594 §4.1), Ed25519 4
 * (RFC 7479 §2). The generic form (`-g`) is RFC 3597's `TYPE44 \# LEN hex` unknown-RR syntax.
 * Certificates and other key types have no SSHFP algorithm: no record (as dns_read_key returns 0).
 */
import { createHash } from 'node:crypto';
import { inspectBlob } from './key.js';

/** SSHFP's RR type number (RFC 4255 §2). */
export const DNS_RDATATYPE_SSHFP = 44;

/** SSHFP algorithm numbers by OpenSSH key type (dns.h SSHFP_KEY_*). */
const SSHFP_ALGORITHMS: ReadonlyMap<string, number> = new Map([
  ['ssh-rsa', 1],
  ['ssh-dss', 2],
  ['ecdsa-sha2-nistp256', 3],
  ['ecdsa-sha2-nistp384', 3],
  ['ecdsa-sha2-nistp521', 3],
  ['ssh-ed25519', 4],
]);

const DIGESTS: ReadonlyArray<readonly [number, 'sha1' | 'sha256']> = [
  [1, 'sha1'],
  [2, 'sha256'],
];

/**
 * The SSHFP lines (each ending "\n") for `hostname` and a public key blob: `HOST IN SSHFP ALG TYPE HEX`,
 * or with `generic` `HOST IN TYPE44 \# LEN AA TT HEX`. Empty for keys SSHFP cannot name (certificates).
 */
export function sshfpRecords(hostname: string, blob: Buffer, generic = false): string {
  const info = inspectBlob(blob);
  const alg = info.isCert ? undefined : SSHFP_ALGORITHMS.get(info.type);
  if (alg === undefined) return '';
  let out = '';
  for (const [type, hash] of DIGESTS) {
    const d = createHash(hash).update(blob).digest();
    const hx = (n: number) => n.toString(16).padStart(2, '0');
    out += generic
      ? `${hostname} IN TYPE${DNS_RDATATYPE_SSHFP} \\# ${2 + d.length} ${hx(alg)} ${hx(type)} ${d.toString('hex')}\n`
      : `${hostname} IN SSHFP ${alg} ${type} ${d.toString('hex')}\n`;
  }
  return out;
}

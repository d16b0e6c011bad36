/**
 * Making OpenSSH certificates (PROTOCOL.certkeys; sshkey.c sshkey_certify_custom, as `ssh-keygen -s`):
 * the certified key's own fields copied as they are (so every key type sshkit can read may be certified),
 * a fresh 32-byte nonce first, the fields in PROTOCOL.certkeys order, the CA's plain key, and the CA's
 * signature over all of that. RSA CAs sign with rsa-sha2-512, as ssh-keygen 9.2 does by default.
 *
 * The signer may be a private key (signature.ts createSigner) or an ssh-agent (asynchronous), so every
 * signature is checked before it is written: its algorithm must be the one asked for (an agent may
 * answer rsa-sha2-512 with SHA-1 `ssh-rsa`; sshkey_certify_custom refuses that too) and it must verify
 * under the CA key; the finished blob must then parse with certificate.ts, the one strict reader, so
 * sshkit never writes a certificate it would itself refuse.
 */
import { randomBytes } from 'node:crypto';
import { CERT_MAX_PRINCIPALS, baseKeyType, inspectPlainBlob } from './key.js';
import type { CertOption, CertOptions } from './cert-options.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { ParseError } from './errors.js';
import { parseSignatureBlob, verifySignature } from './signature.js';
import { WireReader, WireWriter } from './wire.js';

/** What goes into a certificate besides the key and the CA (ssh-keygen -I, -n, -V, -z, -h, -O). */
export interface CertSpec {
  readonly certType: 'user' | 'host';
  readonly serial: bigint;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly options: CertOptions;
}

/** A CA: its plain public key blob and something that signs with it, at once or later (an agent). */
export interface CertSigner {
  readonly publicKey: Buffer;
  sign(data: Buffer, algorithm?: string): Buffer | Promise<Buffer>;
}

/** The certificate type of a plain key type: `ssh-ed25519` → `ssh-ed25519-cert-v01@openssh.com`. */
export function certTypeFor(keyType: string): string {
  const certType = keyType.replace(/@openssh\.com$/, '') + '-cert-v01@openssh.com';
  if (baseKeyType(certType) !== keyType) throw new ParseError(`key type ${keyType} cannot be certified`);
  return certType;
}

/** The signature algorithm ssh-keygen 9.2 uses for a CA key type (rsa-sha2-512 for RSA). */
export function caSignatureAlgorithm(caType: string): string {
  return caType === 'ssh-rsa' ? 'rsa-sha2-512' : caType;
}

function optionBuffer(list: readonly CertOption[]): Buffer {
  const w = new WireWriter();
  for (const o of list) {
    w.string(o.name);
    w.string(o.value === null ? Buffer.alloc(0) : new WireWriter().string(o.value).toBuffer());
  }
  return w.toBuffer();
}

/** Validates what ssh-keygen (and cert_parse on the other side) would refuse, before anything is signed. */
function checkSpec(spec: CertSpec): void {
  if (spec.principals.length > CERT_MAX_PRINCIPALS) throw new ParseError(`-n: Too many certificate principals specified (more than ${CERT_MAX_PRINCIPALS})`);
  for (const p of spec.principals) {
    if (p === '') throw new ParseError('-n: Empty principal name');
    if (p.includes('\0')) throw new ParseError('-n: NUL byte in a principal');
  }
  if (spec.keyId.includes('\0')) throw new ParseError('-I: NUL byte in the key id');
  if (spec.serial < 0n || spec.serial > 0xffffffffffffffffn) throw new ParseError('-z: serial out of range');
  if (spec.validBefore <= spec.validAfter) throw new ParseError('-V: Empty certificate validity interval');
}

/**
 * The bytes the CA signs: everything of the certificate up to and including the CA key.
 * `subject` must be a plain public key blob; `ca` the CA's plain public key blob.
 */
export function certificateToSign(subject: Buffer, spec: CertSpec, ca: Buffer, nonce: Buffer = randomBytes(32)): Buffer {
  const info = inspectPlainBlob(subject, 'public key to certify');
  inspectPlainBlob(ca, 'CA key');
  checkSpec(spec);
  const r = new WireReader(subject, 'public key');
  r.string(); // type
  const fields = r.rest();
  const principals = new WireWriter();
  for (const p of spec.principals) principals.string(p);
  return new WireWriter()
    .string(certTypeFor(info.type))
    .string(nonce)
    .raw(fields)
    .u64(spec.serial)
    .u32(spec.certType === 'user' ? 1 : 2)
    .string(spec.keyId)
    .string(principals.toBuffer())
    .u64(spec.validAfter)
    .u64(spec.validBefore)
    .string(optionBuffer(spec.options.critical))
    .string(optionBuffer(spec.options.extensions))
    .string(Buffer.alloc(0)) // reserved
    .string(ca)
    .toBuffer();
}

/** Signs a certificate for the plain key `subject` with `ca`; returns it parsed (blob included). */
export async function certify(subject: Buffer, spec: CertSpec, ca: CertSigner): Promise<Certificate> {
  const caInfo = inspectPlainBlob(ca.publicKey, 'CA key');
  const algorithm = caSignatureAlgorithm(caInfo.type);
  const tbs = certificateToSign(subject, spec, ca.publicKey);
  const sig = await ca.sign(tbs, algorithm);
  let got: string;
  try {
    got = parseSignatureBlob(sig).algorithm;
  } catch (err) {
    throw new ParseError(`CA signature: malformed (${(err as Error).message})`);
  }
  if (got !== algorithm) throw new ParseError(`CA signature: ${got} returned where ${algorithm} was asked for`);
  if (!verifySignature(ca.publicKey, tbs, sig)) throw new ParseError('CA signature: the signature does not verify under the CA key');
  return parseCertificate(new WireWriter().raw(tbs).string(sig).toBuffer());
}

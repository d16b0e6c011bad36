/**
 * openssh-key-v1 without sshpk, both ways. Reading (below) is the signing fast path for the commonest
 * private key file: an unencrypted openssh-key-v1 key
 * (PROTOCOL.key) of type ssh-ed25519 or ecdsa-sha2-nistp256/384/521, read straight into a Node KeyObject.
 * Every other file — encrypted, RSA, PEM, PKCS#8, anything unusual in this one — goes to private-key.ts
 * `loadPrivateKey` (sshpk), which keeps giving the errors and answers it always gave: this reader never
 * refuses, it only says "not mine" (null). Why: sshpk's first load and parse is ≈ 10 ms of a one-shot
 * `sshkit sign` (issue 14), more than the rest of the command.
 *
 * Taken only when the file is exactly what ssh-keygen writes (sshkey_private_serialize_opt): magic,
 * cipher and KDF "none" with empty options, one key, its public blob equal to the private section's
 * public part, equal check integers, the key's comment, padding 1, 2, 3 … to a multiple of 8, nothing
 * after; and the secret must give back the public key (computed from it by OpenSSL, never taken as given).
 */
import { createECDH, createPrivateKey, createPublicKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { OpensshEnvelope } from './private-key.js';
import { WireReader, WireWriter } from './wire.js';

/** A private key ready for signing: Node's KeyObject, the public key blob and the file's comment. */
export interface PlainPrivateKey {
  readonly keyObject: KeyObject;
  readonly publicBlob: Buffer;
  readonly comment: string;
}

/** ecdsa-sha2-* key types (a Map: the name comes from the file): curve name, JWK and OpenSSL curves, scalar size. */
const EC = new Map([
  ['ecdsa-sha2-nistp256', { curve: 'nistp256', crv: 'P-256', ossl: 'prime256v1', size: 32 }],
  ['ecdsa-sha2-nistp384', { curve: 'nistp384', crv: 'P-384', ossl: 'secp384r1', size: 48 }],
  ['ecdsa-sha2-nistp521', { curve: 'nistp521', crv: 'P-521', ossl: 'secp521r1', size: 66 }],
]);

const b64u = (b: Buffer) => b.toString('base64url');
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/** The key of an unencrypted ed25519/ECDSA openssh-key-v1 file (private-key.ts parseOpensshEnvelope's result), or null. */
export function readPlainOpensshKey(env: OpensshEnvelope): PlainPrivateKey | null {
  try {
    return read(env);
  } catch {
    return null; // a malformed file: loadPrivateKey says what is wrong with it, as before
  }
}

function read({ cipher, kdf, kdfOptions, publicBlob, section }: OpensshEnvelope): PlainPrivateKey | null {
  if (cipher !== 'none' || kdf !== 'none' || kdfOptions.length !== 0 || section.length % 8 !== 0) return null;
  const p = new WireReader(section, 'private key');
  if (p.u32() !== p.u32()) return null; // check integers: differ only after a wrong decryption
  const type = p.cstring();
  const w = new WireWriter().string(type);
  let keyObject: KeyObject;
  let pub: Buffer;
  if (type === 'ssh-ed25519') {
    pub = p.string();
    const secret = p.string(); // seed ‖ public key
    if (pub.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(pub)) return null;
    w.string(pub);
    keyObject = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(pub), d: b64u(secret.subarray(0, 32)) }, format: 'jwk' });
    if (createPublicKey(keyObject).export({ format: 'jwk' }).x !== b64u(pub)) return null;
  } else {
    const ec = EC.get(type);
    if (!ec || p.cstring() !== ec.curve) return null;
    pub = p.string(); // the point, uncompressed: 04 ‖ x ‖ y
    const d = p.mpint();
    const scalar = d[0] === 0 ? d.subarray(1) : d;
    if (pub.length !== 1 + 2 * ec.size || pub[0] !== 4 || scalar.length > ec.size) return null;
    w.string(ec.curve).string(pub);
    const x = b64u(pub.subarray(1, 1 + ec.size));
    const y = b64u(pub.subarray(1 + ec.size));
    const dd = Buffer.concat([Buffer.alloc(ec.size - scalar.length), scalar]);
    // a JWK's x and y are taken as given, never checked against d: the point is computed from d here
    const ecdh = createECDH(ec.ossl);
    ecdh.setPrivateKey(dd);
    if (!ecdh.getPublicKey().equals(pub)) return null;
    keyObject = createPrivateKey({ key: { kty: 'EC', crv: ec.crv, x, y, d: b64u(dd) }, format: 'jwk' });
  }
  if (!w.toBuffer().equals(publicBlob)) return null;
  const comment = p.string().toString('utf8'); // as sshpk decodes it (createSigner's comment either way)
  const padding = p.rest();
  for (let i = 0; i < padding.length; i++) if (padding[i] !== i + 1) return null;
  if (padding.length >= 8) return null;
  return { keyObject, publicBlob: Buffer.from(publicBlob), comment };
}

/** The SSH public key blob of a Node key (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4), from its JWK. */
export function sshPublicBlob(key: KeyObject): Buffer {
  return publicParts(key.export({ format: 'jwk' })).blob;
}

/** The key type, the public blob and the writer of the private fields (PROTOCOL.key, sshkey_private_serialize). */
function publicParts(jwk: JsonWebKey): { blob: Buffer; secret: (w: WireWriter) => void } {
  const raw = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    const pub = raw(jwk.x);
    return {
      blob: new WireWriter().string('ssh-ed25519').string(pub).toBuffer(),
      secret: (w) => w.string('ssh-ed25519').string(pub).string(Buffer.concat([raw(jwk.d), pub])),
    };
  }
  if (jwk.kty === 'EC') {
    const [type, ec] = [...EC].find(([, e]) => e.crv === jwk.crv) ?? [];
    if (!type || !ec) throw new Error(`unsupported curve ${jwk.crv}`);
    const point = Buffer.concat([Buffer.from([4]), raw(jwk.x), raw(jwk.y)]);
    return {
      blob: new WireWriter().string(type).string(ec.curve).string(point).toBuffer(),
      secret: (w) => w.string(type).string(ec.curve).string(point).mpint(raw(jwk.d)),
    };
  }
  if (jwk.kty === 'RSA') {
    const [n, e] = [raw(jwk.n), raw(jwk.e)];
    return {
      blob: new WireWriter().string('ssh-rsa').mpint(e).mpint(n).toBuffer(),
      secret: (w) => w.string('ssh-rsa').mpint(n).mpint(e).mpint(raw(jwk.d)).mpint(raw(jwk.qi)).mpint(raw(jwk.p)).mpint(raw(jwk.q)),
    };
  }
  throw new Error(`unsupported key type ${jwk.kty}`);
}

/**
 * An unencrypted private key in the openssh-key-v1 format, as ssh-keygen writes it without a passphrase
 * (sshkey_private_to_blob2: cipher and KDF "none", one key, two equal random check integers, the private
 * fields, the comment, padding 1, 2, 3 … to a multiple of 8, base64 in lines of 70 between the armor lines).
 * What keygen.ts writes for a key without a passphrase: no sshpk (≈ 40 ms of `sshkit keygen`, issue 14: its
 * PKCS#8 reader derives the ed25519 public key in JavaScript). Encrypted keys still go through sshpk.
 */
export function writePlainOpensshKey(key: KeyObject, comment: string): { text: string; publicBlob: Buffer } {
  const { blob, secret } = publicParts(key.export({ format: 'jwk' }));
  const check = randomBytes(4);
  const s = new WireWriter().raw(check).raw(check);
  secret(s);
  s.string(comment);
  let section = s.toBuffer();
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = new WireWriter().raw(MAGIC).string('none').string('none').string('').u32(1).string(blob).string(section).toBuffer();
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return { text: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`, publicBlob: blob };
}

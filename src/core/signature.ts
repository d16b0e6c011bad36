/**
 * The one signature primitive of sshkit: verify an SSH signature blob (RFC 4253 §6.6, RFC 5656 §3.1.2,
 * RFC 8332, RFC 8709) made by a public key blob over some bytes, and make such blobs from a private key.
 * `verify-signature` (SSHSIG), certificate CA checks and the server's public-key auth all call this, so
 * the algorithm policy lives here once: the signature's algorithm must belong to the key's type, RSA
 * signatures are rsa-sha2-256/512 unless the caller explicitly allows SHA-1 `ssh-rsa`, and every length
 * and encoding is checked before Node's crypto (OpenSSL) does the math. Public keys become Node
 * KeyObjects through JWK built from the blob (no sshpk on the verify path: cold start stays cheap).
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type * as SshpkNs from 'sshpk';
import { ParseError } from './errors.js';
import type { PlainPrivateKey } from './openssh-key.js';
import { baseKeyType, bitLength, keyFromBlob, plainKeyBlob, type PublicKey } from './key.js';
import { WireReader, WireWriter } from './wire.js';

/** Policy knobs for {@link verifySignature}. */
export interface VerifyOptions {
  /** Accept plain `ssh-rsa` (SHA-1) signatures. Off by default: OpenSSH refuses them in SSHSIG and by default in sshd. */
  allowSha1?: boolean;
  /** If given, the signature's algorithm must be one of these (e.g. SSHSIG's rsa-sha2-512,rsa-sha2-256). */
  algorithms?: readonly string[];
}

interface Curve {
  crv: string;
  hash: string;
  size: number;
}

/** Lookup tables are Maps: a name from the wire (`__proto__`, `constructor`) must never find an entry (issue 9 item 15). */
const CURVES = new Map<string, Curve>([
  ['ecdsa-sha2-nistp256', { crv: 'P-256', hash: 'sha256', size: 32 }],
  ['ecdsa-sha2-nistp384', { crv: 'P-384', hash: 'sha384', size: 48 }],
  ['ecdsa-sha2-nistp521', { crv: 'P-521', hash: 'sha512', size: 66 }],
]);

const RSA_HASH = new Map<string, string>([
  ['rsa-sha2-256', 'sha256'],
  ['rsa-sha2-512', 'sha512'],
  ['ssh-rsa', 'sha1'],
]);

/** The signature algorithms a plain key type can produce (RFC 8332 for RSA). */
export function signatureAlgorithms(keyType: string): string[] {
  const base = baseKeyType(keyType);
  if (base === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  if (base === 'ssh-ed25519' || CURVES.has(base)) return [base];
  return [];
}

interface Verifier {
  type: string;
  key: KeyObject;
  /** RSA modulus length in bytes. */
  modBytes: number;
}

const cache = new Map<string, Verifier>();
const CACHE_MAX = 1024;

const b64u = (b: Buffer) => b.toString('base64url');
const strip = (b: Buffer) => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
};

/** A public KeyObject from JWK; OpenSSL's refusal (bad point, odd modulus) is a ParseError naming the key. */
function jwkKey(jwk: Record<string, string>, why: string): KeyObject {
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new ParseError(why);
  }
}

/** A Node public KeyObject for a plain key blob, built from JWK (validated by key.ts first). Cached by blob. */
function verifierFor(blob: Buffer): Verifier {
  const id = blob.toString('base64');
  const hit = cache.get(id);
  if (hit) return hit;
  const plain = plainKeyBlob(keyFromBlob(blob).blob);
  const r = new WireReader(plain, 'public key');
  const type = r.text();
  let v: Verifier;
  if (type === 'ssh-ed25519') {
    v = { type, key: jwkKey({ kty: 'OKP', crv: 'Ed25519', x: b64u(r.string()) }, 'invalid Ed25519 public key'), modBytes: 0 };
  } else if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = strip(r.mpint());
    v = { type, key: jwkKey({ kty: 'RSA', n: b64u(n), e: b64u(strip(e)) }, 'invalid RSA public key'), modBytes: Math.ceil(bitLength(n) / 8) };
  } else if (CURVES.has(type)) {
    const c = CURVES.get(type)!;
    r.string(); // curve name, checked by key.ts
    const q = r.string();
    const x = q.subarray(1, 1 + c.size);
    const y = q.subarray(1 + c.size);
    v = { type, key: jwkKey({ kty: 'EC', crv: c.crv, x: b64u(x), y: b64u(y) }, 'invalid ECDSA public point (not on the curve)'), modBytes: 0 };
  } else {
    throw new ParseError(`unsupported key type for signatures: ${type}`);
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(id, v);
  return v;
}

/** A parsed signature blob: `string algorithm, string signature` (RFC 4253 §6.6). */
export interface SignatureBlob {
  readonly algorithm: string;
  readonly bytes: Buffer;
}

/** Splits a signature blob strictly (no trailing bytes). */
export function parseSignatureBlob(sig: Buffer): SignatureBlob {
  const r = new WireReader(sig, 'signature');
  const algorithm = r.text();
  const bytes = r.string();
  r.end();
  return { algorithm, bytes };
}

/** ECDSA `mpint r, mpint s` (RFC 5656 §3.1.2) → IEEE P1363 r‖s of the curve's size, or null if out of range. */
function ecdsaToP1363(inner: Buffer, size: number): Buffer | null {
  const r = new WireReader(inner, 'ECDSA signature');
  const rr = strip(r.mpint());
  const ss = strip(r.mpint());
  r.end();
  if (rr.length > size || ss.length > size) return null;
  const out = Buffer.alloc(size * 2);
  rr.copy(out, size - rr.length);
  ss.copy(out, 2 * size - ss.length);
  return out;
}

/**
 * Verifies `sigBlob` (an SSH signature blob) over `data` with the key `keyBlob` (a plain key or a
 * certificate, whose certified key signs). Returns false for a signature that does not verify or whose
 * algorithm the policy refuses; throws ParseError for blobs that are not well-formed.
 */
export function verifySignature(keyBlob: Buffer, data: Buffer, sigBlob: Buffer, opts: VerifyOptions = {}): boolean {
  const v = verifierFor(keyBlob);
  const { algorithm, bytes } = parseSignatureBlob(sigBlob);
  if (opts.algorithms && !opts.algorithms.includes(algorithm)) return false;
  try {
    return verifyParsed(v, algorithm, bytes, data, opts);
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // Node's crypto refused the bytes (issue 9 item 15): a typed refusal, never a raw TypeError
    throw new ParseError(`signature: ${algorithm} signature cannot be checked (${(err as { code?: string }).code ?? 'malformed'})`);
  }
}

/** The math for a parsed blob: the algorithm must fit the key (RFC 8332 §3, RFC 5656 §3.1.2, RFC 8709 §6). */
function verifyParsed(v: Verifier, algorithm: string, bytes: Buffer, data: Buffer, opts: VerifyOptions): boolean {
  switch (v.type) {
    case 'ssh-ed25519':
      if (algorithm !== 'ssh-ed25519' || bytes.length !== 64) return false;
      return cryptoVerify(null, data, v.key, bytes);
    case 'ssh-rsa': {
      const hash = RSA_HASH.get(algorithm);
      if (!hash || (hash === 'sha1' && !opts.allowSha1)) return false;
      if (bytes.length > v.modBytes || bytes.length === 0) return false;
      // OpenSSH accepts a signature shorter than the modulus and left-pads it (ssh-rsa.c).
      const s = bytes.length < v.modBytes ? Buffer.concat([Buffer.alloc(v.modBytes - bytes.length), bytes]) : bytes;
      return cryptoVerify(hash, data, v.key, s);
    }
    default: {
      const c = CURVES.get(v.type)!;
      if (algorithm !== v.type) return false;
      const p1363 = ecdsaToP1363(bytes, c.size);
      if (!p1363) return false;
      return cryptoVerify(c.hash, data, { key: v.key, dsaEncoding: 'ieee-p1363' }, p1363);
    }
  }
}

/** Something that signs: its public key (blob) and `sign(data, algorithm?)` → SSH signature blob. */
export interface Signer {
  readonly publicKey: PublicKey;
  /** Signs `data`; for RSA `algorithm` picks rsa-sha2-512 (default) or rsa-sha2-256. */
  sign(data: Buffer, algorithm?: string): Buffer;
}

function part(k: SshpkNs.PrivateKey, name: string): Buffer {
  const p = (k as any).part[name];
  if (!p) throw new ParseError(`private key: missing ${name}`);
  return Buffer.from(p.data);
}

const big = (b: Buffer) => BigInt('0x' + (b.length ? b.toString('hex') : '0'));
const unbig = (n: bigint) => {
  let h = n.toString(16);
  if (h.length % 2) h = '0' + h;
  return Buffer.from(h, 'hex');
};

/** Scalar sizes of the curves a private key file may name (a Map: the name comes from the file). */
const CURVE_SIZES = new Map([
  ['nistp256', 32],
  ['nistp384', 48],
  ['nistp521', 66],
]);

/** A Node private KeyObject from an sshpk private key, via JWK (sshpk's PKCS#8 for ed25519 is not OpenSSL-readable). */
function nodePrivateKey(k: SshpkNs.PrivateKey): KeyObject {
  switch (k.type) {
    case 'ed25519':
      return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(part(k, 'A')), d: b64u(part(k, 'k')) }, format: 'jwk' });
    case 'ecdsa': {
      const size = CURVE_SIZES.get(part(k, 'curve').toString());
      if (!size) throw new ParseError('private key: unsupported curve');
      const q = part(k, 'Q');
      const d = strip(part(k, 'd'));
      const dd = Buffer.concat([Buffer.alloc(Math.max(0, size - d.length)), d]);
      const crv = size === 32 ? 'P-256' : size === 48 ? 'P-384' : 'P-521';
      return createPrivateKey({
        key: { kty: 'EC', crv, x: b64u(q.subarray(1, 1 + size)), y: b64u(q.subarray(1 + size)), d: b64u(dd) },
        format: 'jwk',
      });
    }
    case 'rsa': {
      const d = big(part(k, 'd'));
      const p = big(part(k, 'p'));
      const q = big(part(k, 'q'));
      const jwk = {
        kty: 'RSA',
        n: b64u(strip(part(k, 'n'))),
        e: b64u(strip(part(k, 'e'))),
        d: b64u(unbig(d)),
        p: b64u(unbig(p)),
        q: b64u(unbig(q)),
        dp: b64u(unbig(d % (p - 1n))),
        dq: b64u(unbig(d % (q - 1n))),
        qi: b64u(strip(part(k, 'iqmp'))),
      };
      return createPrivateKey({ key: jwk, format: 'jwk' });
    }
    default:
      throw new ParseError(`private key: unsupported key type ${k.type}`);
  }
}

/**
 * A Signer for a private key loaded by private-key.ts `loadSigningKey` (or `loadPrivateKey`). `publicBlob` may be a certificate
 * for that key (signatures then carry the certificate, as ssh-keygen -Y sign -f KEY-cert.pub does); it
 * must certify this very key.
 */
export function createSigner(priv: SshpkNs.PrivateKey | PlainPrivateKey, publicBlob?: Buffer): Signer {
  const plain = 'keyObject' in priv ? priv : null;
  const own = plain ? plain.publicBlob : Buffer.from((priv as SshpkNs.PrivateKey).toPublic().toBuffer('rfc4253'));
  const pub = publicBlob ?? own;
  if (!plainKeyBlob(pub).equals(own)) throw new ParseError('public key or certificate does not match the private key');
  const comment = plain ? plain.comment : priv.comment && priv.comment !== '(unnamed)' ? priv.comment : '';
  const publicKey = keyFromBlob(pub, comment);
  const key = plain ? plain.keyObject : nodePrivateKey(priv as SshpkNs.PrivateKey);
  const base = baseKeyType(publicKey.type);
  return {
    publicKey,
    sign(data: Buffer, algorithm?: string): Buffer {
      const w = new WireWriter();
      if (base === 'ssh-ed25519') return w.string(base).string(cryptoSign(null, data, key)).toBuffer();
      if (base === 'ssh-rsa') {
        const alg = algorithm ?? 'rsa-sha2-512';
        if (alg !== 'rsa-sha2-512' && alg !== 'rsa-sha2-256') throw new ParseError(`unsupported RSA signature algorithm ${alg}`);
        return w.string(alg).string(cryptoSign(RSA_HASH.get(alg)!, data, key)).toBuffer();
      }
      const c = CURVES.get(base);
      if (!c) throw new ParseError(`unsupported key type for signing: ${base}`);
      const rs = cryptoSign(c.hash, data, { key, dsaEncoding: 'ieee-p1363' });
      const inner = new WireWriter().mpint(rs.subarray(0, c.size)).mpint(rs.subarray(c.size)).toBuffer();
      return w.string(base).string(inner).toBuffer();
    },
  };
}

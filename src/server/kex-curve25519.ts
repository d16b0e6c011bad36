/**
 * curve25519-sha256 (RFC 8731) at the cost of the curve math (issue 14: "where the ≈ 1 ms per login above
 * Conch goes"). ssh2 1.17's Curve25519Exchange (kex.js) makes its pair with generateKeyPairSync and moves
 * the 32-byte public values through DER: `publicKey.export({type:'spki', format:'der'})` for its own value
 * and `createPublicKey(<DER it wrote>)` for the client's. OpenSSL 3's encoder and decoder machinery behind
 * those calls costs ≈ 125 µs and ≈ 150 µs on the CI-like machine, where the raw form (JWK `x`, RFC 8037
 * §2) costs ≈ 2 µs and ≈ 13 µs. The server's pair is made from 32 random bytes imported as a JWK `d`
 * (OpenSSL derives the public value from it; Node requires an `x` member and ignores it for a private
 * key, the value then read back is the derived one), not with generateKeyPairSync: Node 20 deadlocked
 * (the main thread waiting forever on a key's mutex, seen under load) when a garbage collection ran inside
 * the JWK export of a generated key — the export holds the key's mutex while it allocates, and the
 * collected KeyGenJob's destructor takes that same mutex. An imported key has no KeyGenJob. Same bytes
 * out: Q_S, and the shared secret as an mpint (RFC 8731 §3.1, ssh2's convertToMpint); a client value
 * that is not 32 bytes, or for which X25519 fails (OpenSSL refuses the all-zero shared secret of a
 * small-order point, as OpenSSH's kexc25519.c does), is an Error, which ssh2 turns into a
 * KEY_EXCHANGE_FAILED disconnect exactly as before. If the import ever fails, ssh2's own methods stay.
 */
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';

/** The parts of ssh2's Curve25519Exchange used here (kex.js: `type`, `_keys`, the three methods). */
interface Curve25519Kex {
  type?: string;
  _keys: { publicKey: KeyObject; privateKey: KeyObject } | null;
  generateKeys(): void;
  getPublicKey(): Buffer;
  computeSecret(other: Buffer): Buffer | Error;
}

/** An unsigned big-endian integer as SSH's mpint body (RFC 4251 §5): no leading zeros, a 0x00 before a high bit. */
export function toMpint(n: Buffer): Buffer {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  const body = n.subarray(i);
  if (body.length > 0 && body[0] & 0x80) return Buffer.concat([Buffer.from([0]), body]);
  return Buffer.from(body);
}

const done = new WeakSet<object>();

/** The X25519 base point u = 9 (RFC 7748 §4.1), the placeholder `x` of the private JWK. */
const BASE_X = Buffer.concat([Buffer.from([9]), Buffer.alloc(31)]).toString('base64url');

/** An X25519 pair from 32 CSPRNG bytes (RFC 7748 §5: any 32 bytes are a private key, clamped by X25519). */
export function x25519Pair(): { privateKey: KeyObject; publicValue: Buffer } {
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: randomBytes(32).toString('base64url'), x: BASE_X }, format: 'jwk' });
  const publicValue = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x as string, 'base64url');
  return { privateKey, publicValue };
}

/**
 * Gives one of ssh2's key exchanges the raw-value public key and shared secret, when it is a
 * Curve25519Exchange (`type === '25519'`) that has not made its pair yet; any other exchange is left
 * as it is. Idempotent.
 */
export function fastCurve25519(kex: unknown): void {
  const k = kex as Curve25519Kex | null;
  if (!k || k.type !== '25519' || k._keys !== null || done.has(k) || typeof k.generateKeys !== 'function') return;
  done.add(k);
  let pair: ReturnType<typeof x25519Pair>;
  try {
    pair = x25519Pair();
  } catch {
    return; // this Node cannot import the JWK: ssh2's own methods stay
  }
  k.generateKeys = () => undefined;
  k.getPublicKey = () => pair.publicValue;
  k.computeSecret = (other: Buffer) => {
    try {
      if (!Buffer.isBuffer(other) || other.length !== 32) throw new Error('X25519 public value is not 32 bytes');
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: other.toString('base64url') }, format: 'jwk' });
      return toMpint(diffieHellman({ privateKey: pair.privateKey, publicKey }));
    } catch (err) {
      return err as Error; // ssh2's contract: finish() tests `instanceof Error`
    }
  };
}

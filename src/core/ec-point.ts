/**
 * Validation of ECDSA public points exactly as OpenSSH refuses them (sshkey.c sshkey_ec_validate_public,
 * called by sshkey_from_blob for every nistp* and sk-ecdsa key): uncompressed form, on the curve, and
 * the extra bounds OpenSSH adds — each coordinate longer than half the group order's bits and below
 * order − 1. (The curves have cofactor 1, so a point on the curve has order n: OpenSSH's nQ = ∞ check
 * holds.) BigInt arithmetic costs microseconds, far less than building an OpenSSL key object.
 */

/** NIST prime curves y² = x³ − 3x + b (mod p) with group order n, FIPS 186-4 D.1.2. */
const NIST: ReadonlyMap<string, { p: bigint; b: bigint; n: bigint; nBits: number }> = new Map([
  [
    'nistp256',
    {
      p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
      b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
      n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
      nBits: 256,
    },
  ],
  [
    'nistp384',
    {
      p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
      b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
      n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
      nBits: 384,
    },
  ],
  [
    'nistp521',
    {
      p: 2n ** 521n - 1n,
      b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
      n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
      nBits: 521,
    },
  ],
]);

/** Per curve, computed once: coordinate byte length, 2^(nBits/2) (a coordinate must reach it) and n − 1. */
const BOUNDS: ReadonlyMap<string, { len: number; min: bigint; nMinus1: bigint }> = new Map(
  [...NIST].map(([name, c]) => [name, { len: Math.ceil(c.p.toString(2).length / 8), min: 1n << BigInt(Math.floor(c.nBits / 2)), nMinus1: c.n - 1n }]),
);

/**
 * Would OpenSSH accept `q` as a public point of `curve` (nistp256/384/521)? `q` is the wire string:
 * 0x04 ‖ X ‖ Y with coordinates of the curve's byte length.
 */
export function validPublicPoint(curve: string, q: Buffer): boolean {
  const c = NIST.get(curve);
  const k = BOUNDS.get(curve);
  if (!c || !k) return false;
  const len = k.len;
  if (q.length !== 1 + 2 * len || q[0] !== 0x04) return false;
  const x = BigInt('0x' + q.toString('hex', 1, 1 + len));
  const y = BigInt('0x' + q.toString('hex', 1 + len));
  if (x >= c.p || y >= c.p) return false;
  if ((y * y - (x * x * x - 3n * x + c.b)) % c.p !== 0n) return false;
  // bits(v) > nBits/2, as OpenSSH's BN_num_bits test, is v ≥ 2^(nBits/2)
  if (x < k.min || y < k.min) return false;
  return x < k.nMinus1 && y < k.nMinus1;
}

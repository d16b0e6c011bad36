/**
 * OpenSSH key revocation lists (PROTOCOL.krl; krl.c): the in-memory model shared by the reader
 * (krl-parse.ts), the writer (krl-write.ts) and the spec-line reader (krl-spec.ts), and the one check
 * every consumer uses (krl.c ssh_krl_check_key). Serials are kept as sorted, coalesced ranges (what
 * krl.c's red-black tree converges to) in typed arrays, so a lookup is a binary search: O(log n).
 * Blobs, hashes and key IDs are kept as latin1 strings of their bytes, so JavaScript's string order is
 * krl.c's blob_cmp/strcmp order (memcmp, shorter first) and a Set lookup is O(1).
 */
import { createHash } from 'node:crypto';
import { ParseError } from './errors.js';
import { isCertificateBlob, parseCertificate } from './certificate.js';
import { plainKeyBlob } from './key.js';

/** krl.h section types. */
export const KRL_SECTION = { CERTIFICATES: 1, EXPLICIT_KEY: 2, FINGERPRINT_SHA1: 3, SIGNATURE: 4, FINGERPRINT_SHA256: 5 } as const;
/** krl.h certificate subsection types. */
export const KRL_CERT_SECTION = { SERIAL_LIST: 0x20, SERIAL_RANGE: 0x21, SERIAL_BITMAP: 0x22, KEY_ID: 0x23 } as const;
/** "SSHKRL\n\0", the first 8 bytes of every KRL (krl.h KRL_MAGIC). */
export const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');
/** krl.h KRL_FORMAT_VERSION. */
export const KRL_FORMAT_VERSION = 1;

const U64_MAX = (1n << 64n) - 1n;

/** Does this file start with the KRL magic? (sshkey_check_revoked tries a KRL first, then a key list) */
export function isKrl(data: Buffer): boolean {
  return data.length >= KRL_MAGIC.length && data.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC);
}

/**
 * Revoked serial numbers of one CA: ranges added in any order, coalesced on first use (overlapping and
 * adjacent ranges merge, as krl.c insert_serial_range does), then searched by bisection.
 */
export class SerialRanges {
  // pending lo,hi pairs in a growable typed array: a million serials stay two flat arrays, not 2M heap bigints
  private pending = new BigUint64Array(64);
  private count = 0;
  private lo = new BigUint64Array(0);
  private hi = new BigUint64Array(0);

  /** Revokes lo..hi inclusive; krl.c refuses serial 0 and lo > hi (ssh_krl_revoke_cert_by_serial_range). */
  add(lo: bigint, hi: bigint): void {
    if (lo === 0n || lo > hi) throw new ParseError(`invalid serial range ${lo}:${hi}`);
    if (2 * this.count + 2 > this.pending.length) {
      const grown = new BigUint64Array(this.pending.length * 2);
      grown.set(this.pending);
      this.pending = grown;
    }
    this.pending[2 * this.count] = lo;
    this.pending[2 * this.count + 1] = hi;
    this.count++;
  }

  /** The coalesced ranges in ascending order. */
  ranges(): { lo: BigUint64Array; hi: BigUint64Array } {
    if (this.count) this.normalize();
    return { lo: this.lo, hi: this.hi };
  }

  get size(): number {
    return this.ranges().lo.length;
  }

  /** Is this serial revoked? O(log n). */
  has(serial: bigint): boolean {
    const { lo, hi } = this.ranges();
    let a = 0;
    let b = lo.length - 1;
    while (a <= b) {
      const m = (a + b) >> 1;
      if (serial < lo[m]) b = m - 1;
      else if (serial > hi[m]) a = m + 1;
      else return true;
    }
    return false;
  }

  private normalize(): void {
    const n = this.count + this.lo.length;
    const all = new BigUint64Array(2 * n);
    all.set(this.pending.subarray(0, 2 * this.count));
    for (let i = 0; i < this.lo.length; i++) {
      all[2 * (this.count + i)] = this.lo[i];
      all[2 * (this.count + i) + 1] = this.hi[i];
    }
    this.pending = new BigUint64Array(64);
    this.count = 0;
    let order: Uint32Array | null = null;
    for (let i = 1; i < n; i++) {
      if (all[2 * i] < all[2 * i - 2]) {
        order = Uint32Array.from({ length: n }, (_, k) => k).sort((x, y) => (all[2 * x] < all[2 * y] ? -1 : all[2 * x] > all[2 * y] ? 1 : 0));
        break;
      }
    }
    const outLo = new BigUint64Array(n);
    const outHi = new BigUint64Array(n);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = order ? order[k] : k;
      const l = all[2 * i];
      const h = all[2 * i + 1];
      if (m > 0 && (outHi[m - 1] === U64_MAX || l <= outHi[m - 1] + 1n)) {
        if (h > outHi[m - 1]) outHi[m - 1] = h;
      } else {
        outLo[m] = l;
        outHi[m] = h;
        m++;
      }
    }
    this.lo = outLo.slice(0, m);
    this.hi = outHi.slice(0, m);
  }
}

/** Revocations scoped to one CA (or to any CA: `ca` null, the wildcard of krl.c). */
export interface KrlCa {
  /** The CA's plain key blob; null for the wildcard CA. */
  readonly ca: Buffer | null;
  readonly serials: SerialRanges;
  /** Key IDs as latin1 strings of their bytes. */
  readonly keyIds: Set<string>;
}

/** A KRL: header fields and the revoked keys, hashes and certificates (krl.c struct ssh_krl). */
export class Krl {
  version = 0n;
  /** Seconds since the epoch; 0 means "not yet written" (ssh_krl_to_blob fills it with now). */
  date = 0n;
  flags = 0n;
  /** The comment as latin1 bytes. */
  comment = '';
  /** CA sections in first-seen order (krl.c keeps a TAILQ), keyed by latin1 CA blob ('' = wildcard). */
  readonly cas = new Map<string, KrlCa>();
  /** Revoked plain key blobs, SHA1 and SHA256 digests of plain key blobs, as latin1 strings. */
  readonly keys = new Set<string>();
  readonly sha1 = new Set<string>();
  readonly sha256 = new Set<string>();
  private last?: { arg: Buffer | null; scope: KrlCa };

  /** The section of a CA, created on first use (revoked_certs_for_ca_key with allow_create). */
  ca(ca: Buffer | null): KrlCa {
    // a spec of a million `serial:` lines asks for the same CA each time: skip re-keying the blob
    if (this.last && this.last.arg === ca) return this.last.scope;
    const id = ca ? ca.toString('latin1') : '';
    let c = this.cas.get(id);
    if (!c) {
      c = { ca, serials: new SerialRanges(), keyIds: new Set() };
      this.cas.set(id, c);
    }
    this.last = { arg: ca, scope: c };
    return c;
  }

  /**
   * ssh_krl_revoke_key: a plain key is revoked explicitly; a certificate by serial under its own CA,
   * or by key ID when its serial is 0.
   */
  revokeKey(blob: Buffer): void {
    if (!isCertificateBlob(blob)) {
      this.keys.add(plainKeyBlob(blob).toString('latin1'));
      return;
    }
    const cert = parseCertificate(blob);
    const c = this.ca(cert.signatureKey);
    if (cert.serial === 0n) c.keyIds.add(Buffer.from(cert.keyId, 'utf8').toString('latin1'));
    else c.serials.add(cert.serial, cert.serial);
  }

  /** ssh_krl_check_key: is this key or certificate revoked (the certificate's CA key included)? */
  isRevoked(blob: Buffer): boolean {
    if (!isCertificateBlob(blob)) return this.keyRevoked(blob, null);
    const cert = parseCertificate(blob);
    return this.keyRevoked(blob, cert) || this.keyRevoked(cert.signatureKey, null);
  }

  /** krl.c is_key_revoked: hashes, then the explicit key, then the certificate's CA scope and the wildcard. */
  private keyRevoked(blob: Buffer, cert: ReturnType<typeof parseCertificate> | null): boolean {
    const plain = plainKeyBlob(blob);
    if (this.sha1.size && this.sha1.has(createHash('sha1').update(plain).digest().toString('latin1'))) return true;
    if (this.sha256.size && this.sha256.has(createHash('sha256').update(plain).digest().toString('latin1'))) return true;
    if (this.keys.has(plain.toString('latin1'))) return true;
    if (!cert) return false;
    const keyId = Buffer.from(cert.keyId, 'utf8').toString('latin1');
    for (const id of [cert.signatureKey.toString('latin1'), '']) {
      const c = this.cas.get(id);
      if (!c) continue;
      if (c.keyIds.has(keyId)) return true;
      if (cert.serial !== 0n && c.serials.has(cert.serial)) return true;
    }
    return false;
  }
}

/**
 * Writes a binary KRL byte for byte as OpenSSH 9.2's krl.c ssh_krl_to_blob does (PROTOCOL.krl):
 * header, one certificates section per CA in first-seen order, then the explicit-key, SHA1 and
 * SHA256 sections with their entries in blob_cmp order. Serials are encoded with krl.c's own cost
 * model (choose_next_state) picking list, range or bitmap subsections, so the bytes match.
 * One deliberate difference: krl.c lets a bitmap grow past 16384 bits, which its own reader then
 * refuses ("bignum is too large": sshd would deny every key); here such a bitmap is closed and a new
 * one started instead, so every KRL written can be read back by OpenSSH.
 */
import { KRL_CERT_SECTION, KRL_FORMAT_VERSION, KRL_MAGIC, KRL_SECTION, type Krl, type KrlCa } from './krl.js';
import { MAX_MPINT_BYTES, WireWriter } from './wire.js';

const BITMAP_MAX_BITS = MAX_MPINT_BYTES * 8;
const CAP = 2 ** 31;
const LIST = KRL_CERT_SECTION.SERIAL_LIST;
const RANGE = KRL_CERT_SECTION.SERIAL_RANGE;
const BITMAP = KRL_CERT_SECTION.SERIAL_BITMAP;

function capped(v: bigint): number {
  return v > BigInt(CAP) ? CAP : Number(v);
}

/** krl.c choose_next_state: the section type (and whether to restart a bitmap) of least byte cost. */
function chooseNextState(state: number, contigN: bigint, final: boolean, lastGapN: bigint, nextGapN: bigint): { next: number; restart: boolean } {
  const contig = capped(contigN);
  const lastGap = capped(lastGapN);
  const nextGap = capped(nextGapN);
  let costList = 0;
  let costBitmap = 0;
  let costRestart = 0;
  let costRange = 8;
  if (state === LIST) costRestart = costBitmap = 8 + 64;
  else if (state === BITMAP) {
    costList = 8;
    costRestart = 8 + 64;
  } else {
    costRestart = costBitmap = 8 + 64;
    costList = 8;
  }
  costList += 64 * contig + (final ? 0 : 8 + 64);
  costRange += 2 * 64 + (final ? 0 : 8 + 64);
  costBitmap += lastGap + contig + (final ? 0 : Math.min(nextGap, 8 + 64));
  costRestart += contig + (final ? 0 : Math.min(nextGap, 8 + 64));
  const bytes = (bits: number): number => Math.floor((bits + 7) / 8);
  let next: number = BITMAP;
  let cost = bytes(costBitmap);
  let restart = false;
  if (bytes(costRange) < cost) [next, cost] = [RANGE, bytes(costRange)];
  if (bytes(costList) < cost) [next, cost] = [LIST, bytes(costList)];
  if (bytes(costRestart) < cost) [next, cost, restart] = [BITMAP, bytes(costRestart), true];
  return { next, restart };
}

/** A growing bitmap: bit i stands for serial start+i; flushed as an mpint (big-endian magnitude). */
class Bitmap {
  private bytes = new Uint8Array(64);
  private top = -1;
  set(from: number, count: number): void {
    const last = from + count - 1;
    if (last >> 3 >= this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, (last >> 3) + 1));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    for (let i = from; i <= last; i++) this.bytes[i >> 3] |= 1 << (i & 7);
    if (last > this.top) this.top = last;
  }
  magnitude(): Buffer {
    const n = (this.top >> 3) + 1;
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[n - 1 - i] = this.bytes[i];
    return out;
  }
}

/** krl.c revoked_certs_generate: the body of one certificates section. */
function certSection(c: KrlCa): Buffer {
  const buf = new WireWriter();
  buf.string(c.ca ?? Buffer.alloc(0)).string(Buffer.alloc(0));
  const { lo, hi } = c.serials.ranges();
  let state = 0;
  let sect = new WireWriter();
  let bitmap: Bitmap | null = null;
  let bitmapStart = 0n;
  let last = 0n;
  const flush = (): void => {
    if (state === BITMAP) sect.mpint(bitmap!.magnitude());
    buf.u8(state).string(sect.toBuffer());
    sect = new WireWriter();
  };
  for (let i = 0; i < lo.length; i++) {
    const final = i === lo.length - 1;
    const gap = final ? 0n : lo[i + 1] - hi[i];
    const contig = 1n + (hi[i] - lo[i]);
    let { next, restart } = chooseNextState(state, contig, final, state === 0 ? 0n : lo[i] - last, gap);
    // the one difference from krl.c (module comment): never let a bitmap outgrow what OpenSSH reads
    if (next === BITMAP && state === BITMAP && !restart && hi[i] - bitmapStart >= BigInt(BITMAP_MAX_BITS)) restart = true;
    if (state !== 0 && (restart || next !== state || state === RANGE)) flush();
    if (next !== state || restart) {
      state = next;
      sect = new WireWriter();
      if (state === BITMAP) {
        bitmap = new Bitmap();
        bitmapStart = lo[i];
        sect.u64(bitmapStart);
      }
    }
    if (state === LIST) for (let s = lo[i]; s <= hi[i]; s++) sect.u64(s);
    else if (state === RANGE) sect.u64(lo[i]).u64(hi[i]);
    else bitmap!.set(Number(lo[i] - bitmapStart), Number(contig));
    last = hi[i];
  }
  if (state !== 0) flush();
  const ids = [...c.keyIds].sort();
  if (ids.length) {
    const s = new WireWriter();
    for (const id of ids) s.string(Buffer.from(id, 'latin1'));
    buf.u8(KRL_CERT_SECTION.KEY_ID).string(s.toBuffer());
  }
  return buf.toBuffer();
}

function blobSection(out: WireWriter, type: number, set: ReadonlySet<string>): void {
  if (!set.size) return;
  const s = new WireWriter();
  for (const b of [...set].sort()) s.string(Buffer.from(b, 'latin1'));
  out.u8(type).string(s.toBuffer());
}

/** ssh_krl_to_blob: the KRL's bytes; a KRL never written before gets `now` as its date. */
export function writeKrl(krl: Krl, now: bigint): Buffer {
  if (krl.date === 0n) krl.date = now;
  const out = new WireWriter()
    .raw(KRL_MAGIC)
    .u32(KRL_FORMAT_VERSION)
    .u64(krl.version)
    .u64(krl.date)
    .u64(krl.flags)
    .string(Buffer.alloc(0))
    .string(Buffer.from(krl.comment, 'latin1'));
  for (const c of krl.cas.values()) out.u8(KRL_SECTION.CERTIFICATES).string(certSection(c));
  blobSection(out, KRL_SECTION.EXPLICIT_KEY, krl.keys);
  blobSection(out, KRL_SECTION.FINGERPRINT_SHA1, krl.sha1);
  blobSection(out, KRL_SECTION.FINGERPRINT_SHA256, krl.sha256);
  return out.toBuffer();
}

/**
 * Reads a binary KRL (PROTOCOL.krl) as OpenSSH 9.2's krl.c ssh_krl_from_blob does, and refuses what it
 * refuses: a wrong magic or format version, a truncated header or section, an unknown section or
 * certificate subsection type, bytes left over in a section, a SHA1/SHA256 entry of the wrong length,
 * serial 0, a bitmap that is negative, over 16384 bits (sshbuf_get_bignum2_bytes_direct) or wraps
 * 2^64, a CA key that does not parse, a non-signature section after a signature, and a signature that
 * does not verify over everything before it (or a second signature by the same key). Every refusal is
 * a ParseError: a KRL that cannot be read in full never answers "not revoked".
 */
import { ParseError } from './errors.js';
import { inspectPlainBlob } from './key.js';
import { KRL_CERT_SECTION, KRL_FORMAT_VERSION, KRL_MAGIC, KRL_SECTION, Krl, type KrlCa } from './krl.js';
import { verifySignature } from './signature.js';
import { MAX_MPINT_BYTES, WireReader } from './wire.js';

/** sshbuf_get_cstring: no NUL except one at the very end, which is dropped. Returns latin1 bytes. */
function cstring(r: WireReader, what: string): string {
  let v = r.string();
  const nul = v.indexOf(0);
  if (nul >= 0 && nul !== v.length - 1) throw new ParseError(`KRL: NUL byte in ${what}`);
  if (nul >= 0) v = v.subarray(0, nul);
  return v.toString('latin1');
}

/** sshbuf_get_bignum2_bytes_direct: the magnitude of a non-negative mpint of at most 16384 bits. */
function bitmapBytes(r: WireReader): Buffer {
  let v = r.string();
  if (v.length > 0 && v[0] & 0x80) throw new ParseError('KRL: negative serial bitmap');
  if (v.length > MAX_MPINT_BYTES + 1 || (v.length === MAX_MPINT_BYTES + 1 && v[0] !== 0)) throw new ParseError('KRL: serial bitmap larger than 16384 bits');
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  v = v.subarray(i);
  return v;
}

function readBitmap(r: WireReader, ca: () => KrlCa): void {
  const start = r.u64();
  const bytes = bitmapBytes(r);
  const nbits = bytes.length * 8;
  for (let bit = 0; bit < nbits; bit++) {
    if (bit > 0 && start + BigInt(bit) > (1n << 64n) - 1n) throw new ParseError('KRL: serial bitmap wraps 2^64');
    if (bytes[bytes.length - 1 - (bit >> 3)] & (1 << (bit & 7))) {
      // consecutive set bits become one range: 1,000,000 serials stay cheap to load
      let end = bit;
      while (end + 1 < nbits && bytes[bytes.length - 1 - ((end + 1) >> 3)] & (1 << ((end + 1) & 7))) end++;
      if (start + BigInt(end) > (1n << 64n) - 1n) throw new ParseError('KRL: serial bitmap wraps 2^64');
      ca().serials.add(start + BigInt(bit), start + BigInt(end));
      bit = end;
    }
  }
}

/** krl.c parse_revoked_certs: `string ca_key, string reserved`, then typed subsections. */
function readCertificates(data: Buffer, krl: Krl): void {
  const r = new WireReader(data, 'KRL certificate section');
  const caBlob = r.string();
  r.string(); // reserved
  if (caBlob.length) inspectPlainBlob(caBlob, 'KRL CA key');
  // created on first use, as krl.c does: an empty section adds no CA (and so moves no CA's place)
  let scope: KrlCa | undefined;
  const ca = (): KrlCa => (scope ??= krl.ca(caBlob.length ? Buffer.from(caBlob) : null));
  while (r.remaining > 0) {
    const type = r.u8();
    const sub = new WireReader(r.string(), 'KRL certificate subsection');
    switch (type) {
      case KRL_CERT_SECTION.SERIAL_LIST:
        while (sub.remaining > 0) {
          const s = sub.u64();
          ca().serials.add(s, s);
        }
        break;
      case KRL_CERT_SECTION.SERIAL_RANGE:
        ca().serials.add(sub.u64(), sub.u64());
        break;
      case KRL_CERT_SECTION.SERIAL_BITMAP:
        readBitmap(sub, ca);
        break;
      case KRL_CERT_SECTION.KEY_ID:
        while (sub.remaining > 0) ca().keyIds.add(cstring(sub, 'key ID'));
        break;
      default:
        throw new ParseError(`KRL: unsupported certificate section type ${type}`);
    }
    sub.end();
  }
}

function readBlobs(data: Buffer, into: Set<string>, len: number, what: string): void {
  const r = new WireReader(data, `KRL ${what} section`);
  while (r.remaining > 0) {
    const v = r.string();
    if (len && v.length !== len) throw new ParseError(`KRL: ${what} entry of ${v.length} bytes, expected ${len}`);
    into.add(v.toString('latin1'));
  }
}

/**
 * First pass of ssh_krl_from_blob: each signature section (`string signing_key` as its data, then
 * `string signature` outside it) must verify over the KRL's bytes before that signature, and only
 * signatures may follow one. Returns the signing keys (their own revocation is checked afterwards).
 */
function checkSignatures(data: Buffer, sectionsAt: number): Buffer[] {
  const r = new WireReader(data.subarray(sectionsAt), 'KRL');
  const signers: Buffer[] = [];
  while (r.remaining > 0) {
    const type = r.u8();
    const body = r.string();
    if (type !== KRL_SECTION.SIGNATURE) {
      if (signers.length) throw new ParseError('KRL: non-signature section after signature');
      continue;
    }
    inspectPlainBlob(body, 'KRL signing key');
    const at = data.length - r.remaining;
    const sig = r.string();
    if (!verifySignature(body, data.subarray(0, at), sig)) throw new ParseError('KRL: bad signature');
    if (signers.some((k) => k.equals(body))) throw new ParseError('KRL: signed more than once with the same key');
    signers.push(Buffer.from(body));
  }
  return signers;
}

/** Parses a binary KRL strictly (see the module comment). */
export function parseKrl(data: Buffer): Krl {
  if (data.length < KRL_MAGIC.length || !data.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC)) throw new ParseError('not a KRL (bad magic)');
  const r = new WireReader(data.subarray(KRL_MAGIC.length), 'KRL header');
  const format = r.u32();
  if (format !== KRL_FORMAT_VERSION) throw new ParseError(`KRL: unsupported format version ${format}`);
  const krl = new Krl();
  krl.version = r.u64();
  krl.date = r.u64();
  krl.flags = r.u64();
  r.string(); // reserved
  krl.comment = cstring(r, 'comment');
  const sectionsAt = data.length - r.remaining;
  const signers = checkSignatures(data, sectionsAt);
  const s = new WireReader(data.subarray(sectionsAt), 'KRL');
  while (s.remaining > 0) {
    const type = s.u8();
    const body = s.string();
    switch (type) {
      case KRL_SECTION.CERTIFICATES:
        readCertificates(body, krl);
        break;
      case KRL_SECTION.EXPLICIT_KEY:
        readBlobs(body, krl.keys, 0, 'explicit key');
        break;
      case KRL_SECTION.FINGERPRINT_SHA1:
        readBlobs(body, krl.sha1, 20, 'SHA1');
        break;
      case KRL_SECTION.FINGERPRINT_SHA256:
        readBlobs(body, krl.sha256, 32, 'SHA256');
        break;
      case KRL_SECTION.SIGNATURE:
        s.string(); // verified above
        break;
      default:
        throw new ParseError(`KRL: unsupported section type ${type}`);
    }
  }
  if (signers.length && signers.every((k) => krl.isRevoked(k))) throw new ParseError('KRL: all keys used to sign the KRL are revoked');
  return krl;
}

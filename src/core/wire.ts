/**
 * Strict SSH wire encoding (RFC 4251 §5): uint32, string, mpint, name-list. The reader refuses to read
 * past its end and `end()` refuses leftover bytes, as x/crypto/ssh's parsers do: a blob that parses
 * must be exactly one well-formed value. Every value the reader accepts re-encodes to the very bytes
 * it came from (WireWriter), so a blob has one meaning and identity can be bytes: where OpenSSH
 * silently canonicalises (sshbuf_get_bignum2 trims leading zeros, sshbuf_get_cstring drops a final
 * NUL), this reader refuses instead. The one exception is `bool()`, which RFC 4251 §5 requires to read
 * any non-zero byte as TRUE.
 */
import { ParseError } from './errors.js';

/** sshbuf-getput-crypto.c SSHBUF_MAX_BIGNUM: OpenSSH refuses mpints of more than 16384 bits. */
export const MAX_MPINT_BYTES = 16384 / 8;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads wire-encoded values from one buffer, strictly (see the module comment). */
export class WireReader {
  private off = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what = 'blob',
  ) {}

  get remaining(): number {
    return this.buf.length - this.off;
  }

  private need(n: number): void {
    if (n > this.buf.length - this.off) throw new ParseError(`${this.what}: truncated`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.off++];
  }

  /** A boolean: any non-zero byte is TRUE (RFC 4251 §5 says so, so this one value is not re-encoded). */
  bool(): boolean {
    return this.u8() !== 0;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    return v;
  }

  /** A length-prefixed byte string (a view into the underlying buffer, not a copy). */
  string(): Buffer {
    const n = this.u32();
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  /** A string read as UTF-8 text, leniently (namespaces, hash names: compared as whole strings). */
  text(): string {
    return this.string().toString('utf8');
  }

  /**
   * A C string as sshbuf_get_cstring reads it (key type and curve names, FIDO applications, certificate
   * key ids and principals), stricter: no NUL at all (OpenSSH allows one at the very end and drops it,
   * so the value would not re-encode to its bytes) and well-formed UTF-8 (so the JavaScript string
   * stands for exactly those bytes).
   */
  cstring(what = 'string'): string {
    const v = this.string();
    if (v.includes(0)) throw new ParseError(`${this.what}: NUL byte in ${what}`);
    try {
      return utf8.decode(v);
    } catch {
      throw new ParseError(`${this.what}: ${what} is not UTF-8`);
    }
  }

  /**
   * An mpint (RFC 4251 §5): non-negative and minimal (zero is the empty string; a leading 0x00 only to
   * clear the sign bit), and at most 16384 bits as sshbuf_get_bignum2 allows.
   */
  mpint(): Buffer {
    const v = this.string();
    if (v.length > 0 && v[0] & 0x80) throw new ParseError(`${this.what}: negative mpint`);
    if (v.length > 0 && v[0] === 0 && (v.length === 1 || !(v[1] & 0x80))) throw new ParseError(`${this.what}: non-minimal mpint`);
    if (v.length > MAX_MPINT_BYTES + 1 || (v.length === MAX_MPINT_BYTES + 1 && v[0] !== 0)) throw new ParseError(`${this.what}: mpint larger than 16384 bits`);
    return v;
  }

  /** Raw bytes without a length prefix. */
  raw(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  /** Everything left, consumed. */
  rest(): Buffer {
    const v = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return v;
  }

  /** Asserts the value was consumed exactly. */
  end(): void {
    if (this.off !== this.buf.length) throw new ParseError(`${this.what}: ${this.buf.length - this.off} trailing bytes`);
  }
}

/** Builds wire-encoded values; `toBuffer()` concatenates once. */
export class WireWriter {
  private parts: Buffer[] = [];

  u8(v: number): this {
    this.parts.push(Buffer.from([v & 0xff]));
    return this;
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
    return this;
  }

  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }

  string(v: Buffer | string): this {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    this.u32(b.length);
    this.parts.push(b);
    return this;
  }

  /** An unsigned big-endian magnitude written as a minimal, non-negative mpint. */
  mpint(magnitude: Buffer): this {
    let i = 0;
    while (i < magnitude.length && magnitude[i] === 0) i++;
    let v = magnitude.subarray(i);
    if (v.length > 0 && v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return this.string(v);
  }

  raw(v: Buffer): this {
    this.parts.push(v);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

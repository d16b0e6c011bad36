/**
 * The KRL core in-process: SerialRanges against a naive model (krl.c's insert_serial_range coalesces
 * overlapping and adjacent ranges; lookups must agree with "is s in any added range"), and
 * writeKrl → parseKrl round trips over random serial sets (lists, ranges, bitmaps, the 16384-bit
 * bitmap cap, serials up to 2^64-1), key IDs and blobs: what is written is exactly what is read back.
 * (Byte equality with ssh-keygen -k itself is in krl.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../src/core/errors.js';
import { Krl, SerialRanges } from '../src/core/krl.js';
import { parseKrl } from '../src/core/krl-parse.js';
import { writeKrl } from '../src/core/krl-write.js';
import { fuzzParams } from './fuzz-helper.js';

const U64_MAX = (1n << 64n) - 1n;
const range = (base: bigint) => fc.tuple(fc.bigInt({ min: 1n, max: 300n }), fc.bigInt({ min: 0n, max: 40n })).map(([lo, len]) => [base + lo, base + lo + len] as [bigint, bigint]);

test('SerialRanges: lookups equal a naive model; ranges come out sorted, disjoint and non-adjacent', () => {
  fc.assert(
    fc.property(fc.array(range(0n), { maxLength: 40 }), (ranges) => {
      const s = new SerialRanges();
      for (const [lo, hi] of ranges) s.add(lo, hi);
      for (let v = 0n; v <= 345n; v++) assert.equal(s.has(v), ranges.some(([lo, hi]) => v >= lo && v <= hi), `serial ${v}`);
      const { lo, hi } = s.ranges();
      for (let i = 1; i < lo.length; i++) assert.ok(lo[i] > hi[i - 1] + 1n, 'coalesced');
    }),
    fuzzParams(150),
  );
});

test('SerialRanges refuses serial 0 and lo > hi, as krl.c does', () => {
  const s = new SerialRanges();
  assert.throws(() => s.add(0n, 3n), ParseError);
  assert.throws(() => s.add(5n, 4n), ParseError);
  s.add(U64_MAX, U64_MAX);
  s.add(U64_MAX - 1n, U64_MAX - 1n);
  assert.deepEqual([...s.ranges().lo], [U64_MAX - 1n]);
  assert.ok(s.has(U64_MAX));
});

const blob = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));

test('writeKrl → parseKrl: every serial, key ID, key and hash written is read back, nothing else', () => {
  const ca = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIOmVCSgGhWEBRpsNBgy6vrFqp2bF1lYvO7uOJxvNmXpS', 'base64');
  fc.assert(
    fc.property(
      fc.array(fc.oneof(range(0n), range(1n << 40n), range(U64_MAX - 400n)), { maxLength: 60 }),
      fc.array(fc.bigInt({ min: 1n, max: 60000n }), { maxLength: 300 }),
      fc.array(fc.string({ maxLength: 12 }).filter((s) => !s.includes('\0')), { maxLength: 5 }),
      fc.array(blob, { maxLength: 5 }),
      fc.boolean(),
      (ranges, singles, ids, keys, wildcard) => {
        const k = new Krl();
        const scope = k.ca(wildcard ? null : ca);
        for (const [lo, hi] of ranges) scope.serials.add(lo, hi > U64_MAX ? U64_MAX : hi);
        for (const s of singles) scope.serials.add(s, s);
        for (const id of ids) scope.keyIds.add(id);
        for (const b of keys) k.keys.add(b);
        k.comment = 'c';
        const back = parseKrl(writeKrl(k, 1700000000n));
        assert.equal(back.date, 1700000000n);
        assert.equal(back.comment, 'c');
        assert.deepEqual([...back.keys].sort(), [...k.keys].sort());
        if (!ranges.length && !singles.length && !ids.length) return;
        const got = [...back.cas.values()];
        assert.equal(got.length, 1);
        assert.deepEqual(got[0].ca, wildcard ? null : ca);
        assert.deepEqual([...got[0].keyIds].sort(), [...scope.keyIds].sort());
        assert.deepEqual([...got[0].serials.ranges().lo], [...scope.serials.ranges().lo]);
        assert.deepEqual([...got[0].serials.ranges().hi], [...scope.serials.ranges().hi]);
      },
    ),
    fuzzParams(150),
  );
});

test('a dense run of 30,000 serials (every other one) round-trips through bitmaps OpenSSH can read (≤ 16384 bits each)', () => {
  const k = new Krl();
  const scope = k.ca(null);
  for (let i = 0; i < 30000; i++) scope.serials.add(BigInt(1 + 2 * i), BigInt(1 + 2 * i));
  const back = parseKrl(writeKrl(k, 1n)); // parseKrl refuses bitmaps over 16384 bits, as sshbuf_get_bignum2_bytes_direct
  const s = [...back.cas.values()][0].serials;
  assert.equal(s.size, 30000);
  assert.ok(s.has(59999n) && !s.has(60000n) && s.has(1n) && !s.has(2n));
});

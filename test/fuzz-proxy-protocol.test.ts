/**
 * Property tests of core/proxy-protocol.ts (fast-check): valid v1 lines and v2 blocks (random
 * addresses, ports, commands, TLVs, trailing client bytes) parse back to what was encoded, every prefix
 * is `need-more`; for any bytes at all the parser never throws, never reads past the spec's bounds,
 * and is consistent as bytes arrive (a header or an error, once given, stays the same answer for any
 * longer input; `need-more` on an input means need-more on each of its prefixes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIpAddress } from '../src/core/addr-parse.js';
import { parseProxyHeader, V1_MAX_LINE, V2_MAX_BODY, V2_SIGNATURE } from '../src/core/proxy-protocol.js';
import { fuzzParams } from './fuzz-helper.js';

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Buffer.from(b));
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b));
const port = fc.integer({ min: 0, max: 65535 });
const text = (b: Buffer) => formatIpAddress({ bytes: b, scope: '' });
const tail = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
const tlv = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })).map(([t, v]) => Buffer.concat([Buffer.from([t, v.length >> 8, v.length & 255]), v]));

const endpoints = fc.oneof(
  fc.record({ family: fc.constant('TCP4' as const), src: v4, dst: v4, srcPort: port, dstPort: port }),
  fc.record({ family: fc.constant('TCP6' as const), src: v6, dst: v6, srcPort: port, dstPort: port }),
);

/** Answers for each prefix length must not contradict the answer for the whole. */
function consistent(buf: Buffer): void {
  const whole = parseProxyHeader(buf);
  const step = Math.max(1, Math.floor(buf.length / 24));
  for (let i = 0; i <= buf.length; i += step) {
    const part = parseProxyHeader(buf.subarray(0, i));
    if (part.kind === 'header') assert.deepEqual(whole, part, `prefix ${i} gave a header the whole input does not`);
    if (part.kind === 'error') assert.equal(whole.kind, 'error', `prefix ${i} was an error, the whole is ${whole.kind}`);
    if (whole.kind === 'need-more') assert.equal(part.kind, 'need-more');
  }
  if (whole.kind === 'header') {
    assert.ok(whole.header.headerLength <= buf.length);
    assert.ok(whole.header.headerLength <= Math.max(V1_MAX_LINE, 16 + V2_MAX_BODY));
  }
  if (whole.kind === 'need-more') assert.ok(buf.length < Math.max(V1_MAX_LINE, 16 + V2_MAX_BODY), 'need-more is bounded');
}

test('valid v1 lines parse to their fields; each prefix is need-more', () => {
  fc.assert(
    fc.property(endpoints, tail, (e, rest) => {
      const line = Buffer.from(`PROXY ${e.family} ${text(e.src)} ${text(e.dst)} ${e.srcPort} ${e.dstPort}\r\n`, 'latin1');
      const r = parseProxyHeader(Buffer.concat([line, rest]));
      assert.deepEqual(r, { kind: 'header', header: { version: 1, command: 'PROXY', family: e.family, src: text(e.src), srcPort: e.srcPort, dst: text(e.dst), dstPort: e.dstPort, headerLength: line.length } });
      for (let i = 0; i < line.length; i++) assert.equal(parseProxyHeader(line.subarray(0, i)).kind, 'need-more');
    }),
    fuzzParams(300),
  );
});

test('valid v2 blocks (PROXY or LOCAL, TLVs) parse to their fields; each prefix is need-more', () => {
  fc.assert(
    fc.property(endpoints, fc.boolean(), fc.array(tlv, { maxLength: 4 }), tail, (e, local, tlvs, rest) => {
      const ports = Buffer.from([e.srcPort >> 8, e.srcPort & 255, e.dstPort >> 8, e.dstPort & 255]);
      const body = Buffer.concat([e.src, e.dst, ports, ...tlvs]);
      const head = Buffer.concat([V2_SIGNATURE, Buffer.from([local ? 0x20 : 0x21, e.family === 'TCP4' ? 0x11 : 0x21, body.length >> 8, body.length & 255]), body]);
      const r = parseProxyHeader(Buffer.concat([head, rest]));
      const want = local
        ? { version: 2, command: 'LOCAL', family: 'UNKNOWN', headerLength: head.length }
        : { version: 2, command: 'PROXY', family: e.family, src: text(e.src), dst: text(e.dst), srcPort: e.srcPort, dstPort: e.dstPort, headerLength: head.length };
      assert.deepEqual(r, { kind: 'header', header: want });
      for (let i = 0; i < head.length; i += 3) assert.equal(parseProxyHeader(head.subarray(0, i)).kind, 'need-more');
    }),
    fuzzParams(300),
  );
});

test('any bytes: no throw, bounded, consistent as bytes arrive', () => {
  const start = fc.constantFrom(Buffer.alloc(0), Buffer.from('PROXY '), Buffer.from('PROXY TCP4 '), Buffer.from('PROXY UNKNOWN'), V2_SIGNATURE, Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11])]));
  fc.assert(
    fc.property(start, fc.uint8Array({ maxLength: 160 }), (s, b) => consistent(Buffer.concat([s, b]))),
    fuzzParams(1500),
  );
});

test('valid headers with one byte changed: no throw, consistent', () => {
  fc.assert(
    fc.property(endpoints, fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 255 }), (e, v2, at, byte) => {
      const buf = v2
        ? Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, e.family === 'TCP4' ? 0x11 : 0x21, 0, e.src.length * 2 + 4]), e.src, e.dst, Buffer.alloc(4)])
        : Buffer.from(`PROXY ${e.family} ${text(e.src)} ${text(e.dst)} ${e.srcPort} ${e.dstPort}\r\n`, 'latin1');
      buf[at % buf.length] = byte;
      consistent(buf);
    }),
    fuzzParams(1500),
  );
});

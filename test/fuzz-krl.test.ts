/**
 * Property tests of the KRL reader on mutated KRLs that ssh-keygen -k wrote (serial lists, ranges and
 * bitmaps under two CAs, key IDs, explicit keys, SHA1 and SHA256 hashes): byte flips, truncations,
 * insertions, deletions and rewritten length fields. Whatever the bytes, the reader returns a KRL or
 * throws a ParseError (a typed, one-line error), and a KRL it returns answers a boolean for every key,
 * never another exception. A smaller differential property runs `ssh-keygen -Q` on the same bytes:
 * sshkit never accepts a KRL that ssh-keygen refuses, and where both accept, their verdicts agree.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { ParseError } from '../src/core/errors.js';
import { isKrl } from '../src/core/krl.js';
import { parseKrl } from '../src/core/krl-parse.js';
import { isRevoked, parseRevokedKeys } from '../src/core/revocation.js';
import { openssh } from './helpers.js';
import { fuzzParams } from './fuzz-helper.js';
import { ALL_KEYS, keygen, makeFixture, writeSpec, type KrlFixture } from './krl-fixture.js';

let f: KrlFixture;
let seeds: Buffer[] = [];
let blobs: Buffer[] = [];
before(() => {
  f = makeFixture();
  const lines = ['serial: 5', 'serial: 9-20', ...[...Array(40).keys()].map((i) => `serial: ${100 + 2 * i}`), 'id: alice-laptop', 'id: bob'];
  keygen(['-k', '-f', f.p('seed1.krl'), '-s', f.p('ca1.pub'), writeSpec(f, 's1.spec', lines)]);
  const more = [f.pub('u-ed'), `sha1: ${f.pub('u-ec')}`, `sha256: ${f.pub('u-rsa')}`, f.pub('c-ca2-cert'), f.pub('c-id2-cert')];
  keygen(['-k', '-f', f.p('seed2.krl'), writeSpec(f, 's2.spec', more)]);
  keygen(['-k', '-f', f.p('seed3.krl'), '-s', 'none', writeSpec(f, 's3.spec', ['serial: 1-1000000', 'id: x'])]);
  seeds = [1, 2, 3].map((i) => readFileSync(f.p(`seed${i}.krl`)));
  blobs = ALL_KEYS.map((k) => Buffer.from(readFileSync(f.p(k), 'utf8').split(' ')[1], 'base64'));
});
after(() => f.cleanup());

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'u32'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.nat(64), fc.constant(0xffffffff), fc.nat()) }),
);

function mutate(seed: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const at = b.length ? m.at % b.length : 0;
    if (m.kind === 'flip' && b.length) b[at] ^= 1 << m.bit;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.n)]);
    else if (m.kind === 'u32' && b.length >= 4) b.writeUInt32BE(m.value >>> 0, Math.min(at, b.length - 4));
  }
  return b;
}

const input = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(mutation, { minLength: 1, maxLength: 4 }));

/** The reader's whole contract: a verdict per key, or a ParseError. Returns the verdicts, or null when refused. */
function read(data: Buffer): boolean[] | null {
  let list;
  try {
    list = parseRevokedKeys(data);
  } catch (err) {
    if (err instanceof ParseError) return null;
    throw err;
  }
  if (list.errors.length) return null;
  return blobs.map((b) => {
    const v = isRevoked(list, b);
    assert.equal(typeof v, 'boolean');
    return v;
  });
}

test('mutated ssh-keygen KRLs: a ParseError or a boolean verdict per key, never another exception', () => {
  // the seeds themselves are read and give verdicts (so the property is not vacuously "always refused")
  for (const s of seeds) assert.ok(read(s)?.some(Boolean));
  fc.assert(
    fc.property(input, ([which, ms]) => {
      const data = mutate(seeds[which], ms);
      read(data);
      try {
        parseKrl(data);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }),
    fuzzParams(400),
  );
});

test('mutated KRLs against ssh-keygen -Q: never accepted when ssh-keygen refuses; equal verdicts when both accept', () => {
  let n = 0;
  fc.assert(
    fc.property(input, ([which, ms]) => {
      const data = mutate(seeds[which], ms);
      // without the magic it is a key list (sshd reads both; ssh-keygen -Q only KRLs): not compared here
      if (!isKrl(data)) return;
      const path = f.p(`m${n++}.krl`);
      writeFileSync(path, data);
      const r = openssh('ssh-keygen', ['-Q', '-f', path, ...ALL_KEYS.map((k) => f.p(k))]);
      const ours = read(data);
      if (r.status === 255) {
        assert.equal(ours, null, `ssh-keygen refused (${r.stderr.trim()}) but sshkit read it`);
        return;
      }
      const theirs = r.stdout.trim().split('\n').map((l) => / REVOKED$/.test(l));
      if (ours !== null) assert.deepEqual(ours, theirs);
    }),
    fuzzParams(25),
  );
});

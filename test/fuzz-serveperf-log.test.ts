/**
 * log.ts's fast path for plain values (issue 14: ≈ 1 µs a value, ≈ 7 lines a login) writes exactly what
 * the strvis path writes: the text line of any value equals the line built with the escaping rule
 * spelled out here (strvis with `"` escaped, quotes unless the result is non-empty and free of blanks,
 * `"` and `=`), for values of printable ASCII (where the fast path applies) and for hostile ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { strvis } from '../src/core/escape.js';
import { Logger } from '../src/server/log.js';
import { fuzzParams } from './fuzz-helper.js';

/** The quoting rule before the fast path (log.ts `quote` as it was). */
const reference = (v: string) => {
  const e = strvis(v, '"');
  return /^[^\s"=]+$/.test(e) ? e : `"${e}"`;
};

const values = fc.oneof(
  fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 32 }),
  fc.constantFrom('', ' ', '"', '=', '\\', 'a=b', 'SHA256:abc+/=', 'root', 'x y', '\x7f', '~!#<>[]'),
);

test('text log values: the fast path writes what the strvis path writes', () => {
  fc.assert(
    fc.property(values, (v) => {
      let line = '';
      new Logger('text', (l) => (line = l)).event('auth', { user: v });
      assert.equal(line.slice(line.indexOf(' auth ') + 6), `user=${reference(v)}`);
    }),
    fuzzParams(3000),
  );
});

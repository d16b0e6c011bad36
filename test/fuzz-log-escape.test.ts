/**
 * Properties of the log escapers (core/escape.ts, server/log.ts) over arbitrary strings, including
 * lone surrogates, C0/C1 controls, U+2028/U+2029 and quotes: a text log line is printable ASCII only and
 * one line; `strvis` is reversible (the bytes come back by reading `\\` and `\ooo`); a JSON line parses
 * back to the same value and holds no raw line separator or control character.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonLine, strvis } from '../src/core/escape.js';
import { Logger, MAX_VALUE } from '../src/server/log.js';
import { fuzzParams } from './fuzz-helper.js';

/** Reads strvis output back into bytes (the inverse for VIS_OCTAL). */
function unvis(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') out.push(s.charCodeAt(i));
    else if (s[i + 1] === '\\') out.push(0x5c), i++;
    else out.push(parseInt(s.slice(i + 1, i + 4), 8)), (i += 3);
  }
  return Buffer.from(out);
}

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.array(fc.constantFrom('\x1b', '\r', '\n', '\u2028', '\u2029', '\u0085', '\u009b', '"', '\\', ' ', '=', '\ud800', 'a', '\x00', '\x7f'), { maxLength: 24 }).map((a) => a.join('')),
);

test('strvis: printable ASCII out, and the UTF-8 bytes come back', () => {
  fc.assert(
    fc.property(nasty, (s) => {
      const e = strvis(s);
      assert.match(e, /^[\x20-\x7e]*$/);
      assert.deepEqual(unvis(e), Buffer.from(s, 'utf8'));
    }),
    fuzzParams(2000),
  );
});

test('text log line: one line of printable ASCII whatever the values', () => {
  fc.assert(
    fc.property(nasty, nasty, (user, version) => {
      let line = '';
      new Logger('text', (l) => (line = l)).event('auth', { user, version });
      assert.match(line, /^[\x20-\x7e]+$/);
    }),
    fuzzParams(1000),
  );
});

test('jsonLine: parses back to the same value; no raw controls, U+0085, U+2028 or U+2029', () => {
  fc.assert(
    fc.property(nasty, (s) => {
      const j = jsonLine({ user: s });
      assert.doesNotMatch(j, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
      assert.equal(JSON.parse(j).user, s); // lone surrogates too: JSON.stringify writes them as \\uXXXX
    }),
    fuzzParams(2000),
  );
});

test('a 30,000-character user name is cut to MAX_VALUE (text and JSON); control: a short one is whole', () => {
  for (const format of ['text', 'json'] as const) {
    let line = '';
    const log = new Logger(format, (l) => (line = l));
    log.event('auth', { user: 'a'.repeat(30_000) });
    assert.ok(line.length < MAX_VALUE + 200, `${format}: ${line.length} characters`);
    assert.ok(line.includes('a'.repeat(MAX_VALUE) + '...'));
    log.event('auth', { user: 'alice' });
    assert.match(line, /alice/);
    assert.doesNotMatch(line, /\.\.\./);
  }
});

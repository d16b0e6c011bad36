/**
 * Cost shapes of the key-file parsers (issue 18 `scale--*` findings): hostile files of any size must be
 * read in time linear in their size. Each test times the same shape at 64 KiB and at 512 KiB (best of
 * three, so a busy machine does not decide) and allows 3× more than linear growth: a quadratic walk
 * grows 64× there, a linear one 8×. No absolute wall-clock bound.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { parseRfc4716, scanKeyLines } from '../src/core/key-file.js';

const SMALL = 64 * 1024;
const LARGE = 512 * 1024;

function best(fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return Math.max(min, 1);
}

const repeat = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

function linear(name: string, parse: (text: string) => unknown, make: (n: number) => string): void {
  test(`${name}: 512 KiB costs at most 3× linear growth over 64 KiB`, { timeout: 180_000 }, () => {
    const small = make(SMALL);
    const large = make(LARGE);
    const run = (text: string) => () => {
      try {
        parse(text);
      } catch (err) {
        if (!(err instanceof Error) || err.name !== 'ParseError') throw err;
      }
    };
    best(run(small)); // warm-up
    const a = best(run(small));
    const b = best(run(large));
    assert.ok(b / a < 3 * (LARGE / SMALL), `${a.toFixed(1)} ms at 64 KiB, ${b.toFixed(1)} ms at 512 KiB`);
  });
}

describe('hostile key files are read in linear time', () => {
  // scale--authorized-unterminated-quotes: many lines, each opening a quote that never closes
  linear('authorized_keys: lines starting an unterminated quote', parseAuthorizedKeys, (n) => repeat('"no-pty,command="x y z\n', n));
  linear('authorized_keys: one line of unterminated quotes and blanks', parseAuthorizedKeys, (n) => '"' + repeat('a "b ', n));
  // scale--key-lines-junk: any file given to `sshkit fingerprint` is tried line by line as keys, options, hosts
  linear('fingerprint input: short junk lines', scanKeyLines, (n) => repeat('x y\n', n));
  linear('fingerprint input: @marker lines with a second field', scanKeyLines, (n) => repeat('@a b c d\n', n));
  // scale--rfc4716-header-continuation: a header continued with `\` lines (was quadratic: never finished)
  linear(
    'RFC 4716: one header continued over every line',
    (text) => parseRfc4716(text),
    (n) => '---- BEGIN SSH2 PUBLIC KEY ----\nComment: "' + repeat('a\\\n', n) + '"\nAAAA\n---- END SSH2 PUBLIC KEY ----\n',
  );
  test('RFC 4716: the continued header is still read as one comment', () => {
    const text = '---- BEGIN SSH2 PUBLIC KEY ----\nComment: "a\\\nb\\\nc"\n' + 'AAAAC3NzaC1lZDI1NTE5AAAAIMOoP1hetgcI5nFvfMu13O267eqZH661Cj2MJqgMIlTE\n---- END SSH2 PUBLIC KEY ----\n';
    assert.equal(parseRfc4716(text).keys[0].comment, 'abc');
  });
});

/**
 * Properties of issue 17's pure parsers: any text given to argv_split, the token check and the
 * principals-file matcher yields an answer or a ParseError, never another exception; and an argument
 * vector written out as sshd's `argv_assemble()` (misc.c: `\`, `'`, `"` backslash-escaped, an argument
 * holding a blank double-quoted) splits back to itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkTokens, splitArgv } from '../src/core/command-line.js';
import { ParseError } from '../src/core/errors.js';
import { matchPrincipals } from '../src/core/principals-file.js';
import { fuzzParams } from './fuzz-helper.js';

/** sshd's argv_assemble() for one argument. */
function assembleArg(a: string): string {
  const escaped = a.replace(/[\\'"]/g, (c) => '\\' + c);
  return /[ \t]/.test(a) ? `"${escaped}"` : escaped;
}

function typed<T>(fn: () => T): T | ParseError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
}

const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '"', "'", '\\', '%', 'u', 'z', '#', ',', '=', '\n'), maxLength: 40 });

describe('fuzz: directory-backed key parsers', () => {
  test('argv_assemble then argv_split gives the argument vector back', () => {
    const arg = fc.string({ unit: fc.constantFrom('a', '-', ' ', '\t', '"', "'", '\\', '%', 'é'), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (argv) => {
        assert.deepEqual(splitArgv(argv.map(assembleArg).join(' ')), argv);
      }),
      fuzzParams(400),
    );
  });

  test('splitArgv and checkTokens answer or raise ParseError', () => {
    fc.assert(
      fc.property(text, (s) => {
        const r = typed(() => splitArgv(s));
        if (!(r instanceof ParseError)) for (const a of r) typed(() => checkTokens(a, 'uUfthk'));
      }),
      fuzzParams(400),
    );
  });

  test('matchPrincipals answers for any text; a match names a listed principal', () => {
    fc.assert(
      fc.property(text, fc.array(fc.constantFrom('a', 'b', 'ab', 'u'), { maxLength: 3 }), (t, principals) => {
        const r = matchPrincipals(t, principals);
        if (r.match) assert.ok((principals as string[]).includes(r.match.principal));
      }),
      fuzzParams(400),
    );
  });
});

/**
 * Properties of issue 17's pure parsers: any text given to argv_split, the token check and the
 * principals-file matcher yields an answer or a ParseError, never another exception; and an argument
 * vector written out as sshd's `argv_assemble()` (misc.c: `\`, `'`, `"` backslash-escaped, an argument
 * holding a blank double-quoted) splits back to itself; and the line trusted-ca.ts synthesizes for a
 * principal P either means exactly `principals` = [P] (one cert-authority entry for the CA, P as the
 * whole list) or is not written at all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkTokens, splitArgv } from '../src/core/command-line.js';
import { ParseError } from '../src/core/errors.js';
import { indexOneLine } from '../src/core/authorized-keys.js';
import { keyFromBlob } from '../src/core/key.js';
import { matchPrincipals } from '../src/core/principals-file.js';
import { caLine } from '../src/server/trusted-ca.js';
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

  test('a synthesized CA line means exactly its principal, or is refused', () => {
    // a fixed ed25519 public key (any valid blob does): type string, then 32 key bytes
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
    const ca = keyFromBlob(blob);
    const principal = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\t', '"', "'", '\\', ',', '=', '#', '%', '\n', 'é', '*', '?'), maxLength: 10 });
    const options = fc.constantFrom('', 'restrict', 'from="127.0.0.1"', 'command="echo a,b"', 'no-pty,expiry-time="20991231"');
    fc.assert(
      fc.property(principal, options, (p, o) => {
        const line = caLine(p, o, ca);
        if (line === null) return assert.ok(p === '' || /[",\\\x00-\x1f]/.test(p), JSON.stringify(p));
        const index = indexOneLine(line, 1);
        const [entry, ...more] = index.lookup(blob);
        assert.equal(more.length, 0);
        assert.equal(entry.options.certAuthority, true);
        assert.deepEqual(entry.options.principals!.split(','), [p]);
      }),
      fuzzParams(300),
    );
  });
});

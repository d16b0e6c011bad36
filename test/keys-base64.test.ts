/**
 * The one strict base64 reader (src/core/base64.ts) against OpenSSH's b64_pton, as `ssh-keygen -l -f`
 * applies it to the base64 field of a key line: each spelling of a real key's base64 (made by
 * ssh-keygen here) is given to both, and they must agree on accept/refuse and, when both accept, on
 * the fingerprint. A pure-unit table pins the same rules without ssh-keygen.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase64Strict, walkBase64 } from '../src/core/base64.js';
import fc from 'fast-check';
import { fuzzParams } from './fuzz-helper.js';
import { ParseError } from '../src/core/errors.js';
import { scanKeyLines } from '../src/core/key-file.js';
import { fingerprint } from '../src/core/fingerprint.js';
import { openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-b64-');
after(cleanup);

function makePub(name: string, args: string[]): { type: string; b64: string } {
  const r = openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', '', '-f', join(dir, name)]);
  assert.equal(r.status, 0, r.stderr);
  const [type, b64] = readFileSync(join(dir, `${name}.pub`), 'utf8').trim().split(' ');
  return { type, b64 };
}

/** `ssh-keygen -l -f FILE` on one line: the fingerprint it prints, or null when it refuses the file. */
function keygenFingerprint(line: string, n: number): string | null {
  const f = join(dir, `line${n}`);
  writeFileSync(f, line + '\n', 'latin1');
  const r = openssh('ssh-keygen', ['-l', '-f', f]);
  return r.status === 0 ? r.stdout.split(' ')[1] : null;
}

function sshkitFingerprint(line: string): string | null {
  const { keys, errors } = scanKeyLines(line + '\n');
  if (errors.length) return null;
  return fingerprint(keys[0].key.blob);
}

/** Replaces the character before the padding with one that keeps its top bits but sets slop bits. */
function dirtySlop(b64: string): string {
  const pad = b64.length - b64.replace(/=+$/, '').length;
  const at = b64.length - pad - 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const v = alphabet.indexOf(b64[at]) | 0x01; // the lowest bit is slop for one or two `=`
  return b64.slice(0, at) + alphabet[v] + b64.slice(at + 1);
}

describe('decodeBase64Strict vs ssh-keygen -l (b64_pton)', () => {
  const ec256 = makePub('ec256', ['-t', 'ecdsa', '-b', '256']); // 104-byte blob: one `=`
  const ec384 = makePub('ec384', ['-t', 'ecdsa', '-b', '384']); // 136-byte blob: `==`
  assert.match(ec256.b64, /[^=]=$/);
  assert.match(ec384.b64, /==$/);
  const spellings: [string, string, string][] = [];
  for (const k of [ec256, ec384]) {
    const body = k.b64.replace(/=+$/, '');
    const pad = k.b64.slice(body.length);
    spellings.push(
      [k.type, 'canonical (control)', k.b64],
      [k.type, 'non-zero bits before the padding', dirtySlop(k.b64)],
      [k.type, 'padding dropped', body],
      [k.type, 'one padding character too many', k.b64 + '='],
      [k.type, 'vertical tab inside the data', body.slice(0, 20) + '\v' + body.slice(20) + pad],
      [k.type, 'form feed and CR inside the data', body.slice(0, 9) + '\f\r' + body.slice(9) + pad],
      [k.type, 'a stray "!" inside the data', body.slice(0, 9) + '!' + body.slice(9) + pad],
      [k.type, 'data after the padding', k.b64 + 'AAAA'],
      [k.type, 'a vertical tab after the padding', k.b64 + '\v'],
      [k.type, 'a non-ASCII byte inside the data', body.slice(0, 9) + '\xe9' + body.slice(9) + pad],
    );
  }
  spellings.push([ec384.type, 'a vertical tab between the two `=`', ec384.b64.slice(0, -1) + '\v=']);
  let n = 0;
  for (const [type, what, b64] of spellings) {
    test(`${type}: ${what}`, () => {
      const line = `${type} ${b64}`;
      const want = keygenFingerprint(line, n++); // ssh-keygen -l -f FILE
      assert.equal(sshkitFingerprint(line), want, `ssh-keygen ${want === null ? 'refuses' : 'accepts'} ${JSON.stringify(b64)}`);
    });
  }
  test('the controls were accepted by ssh-keygen (so the refusals above mean something)', () => {
    assert.notEqual(keygenFingerprint(`${ec256.type} ${ec256.b64}`, 1000), null);
    assert.notEqual(keygenFingerprint(`${ec384.type} ${ec384.b64}`, 1001), null);
  });
});

describe('decodeBase64Strict rules', () => {
  const good: [string, string][] = [
    ['AAAA', '000000'],
    ['AA==', '00'],
    ['AAA=', '0000'],
    ['AA= =', '00'],
    ['A A\tA\rA', '000000'],
    ['AA==\n', '00'],
    ['', ''],
  ];
  for (const [text, hex] of good) {
    test(`accepts ${JSON.stringify(text)}`, () => assert.equal(decodeBase64Strict(text).toString('hex'), hex));
  }
  const badOnes = ['AB==', 'AAB=', 'AA=', 'AAA', 'A===', '====', 'AAAA=', 'AA==x', 'AA\0A', 'AA\u0100A', 'AAAAA==='];
  for (const text of badOnes) {
    test(`refuses ${JSON.stringify(text)} with a ParseError naming the value`, () => {
      assert.throws(() => decodeBase64Strict(text, 'key data'), (e: unknown) => e instanceof ParseError && /invalid key data/.test(e.message));
    });
  }
  test('decodes what Node encodes, for every length 0..64', () => {
    for (let len = 0; len <= 64; len++) {
      const bytes = Buffer.from(Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff));
      assert.deepEqual(decodeBase64Strict(bytes.toString('base64')), bytes);
    }
  });
});

describe('the fast path (decode, re-encode, compare) gives what the b64_pton walk gives', () => {
  const outcome = (f: () => Buffer) => {
    try {
      return f().toString('hex');
    } catch (err) {
      return `error: ${(err as Error).message}`;
    }
  };
  test('property: canonical text of random bytes, then up to 3 edits from the characters that matter', () => {
    const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'replace', 'delete'), ch: fc.constantFrom('A', 'Q', 'w', '+', '/', '=', ' ', '\t', '\n', '\r', '\v', '-', '_', '!', '\xe9', '\u0100') });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.array(edit, { maxLength: 3 }), (bytes, edits) => {
        let text = Buffer.from(bytes).toString('base64');
        for (const e of edits) {
          const at = text.length ? e.at % (text.length + (e.op === 'insert' ? 1 : 0)) : 0;
          if (e.op === 'insert') text = text.slice(0, at) + e.ch + text.slice(at);
          else if (e.op === 'replace') text = text.slice(0, at) + e.ch + text.slice(at + 1);
          else text = text.slice(0, at) + text.slice(at + 1);
        }
        assert.equal(outcome(() => decodeBase64Strict(text)), outcome(() => walkBase64(text)), JSON.stringify(text));
      }),
      fuzzParams(2000),
    );
  });
});

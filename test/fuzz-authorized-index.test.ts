/**
 * Property: the compact index (authorized-keys.ts KeyIndex, with key-index-hash.ts's fast ed25519 path)
 * accepts, refuses and finds exactly what the one line parser does. The oracle is eachLine +
 * parseAuthorizedKeysLine (the general path, itself differential against ssh-keygen in core-parsers):
 * for texts of ed25519 lines mutated where the fast path decides (type token, blanks, base64
 * characters, length, the key-length bytes, options, comments, CR), the index's bad-line numbers and
 * messages equal the oracle's, and every accepted line is found by its blob, with the oracle's entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams } from './fuzz-helper.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine, type AuthorizedKey } from '../src/core/authorized-keys.js';
import { eachLine } from '../src/core/lines.js';
import { WireWriter } from '../src/core/wire.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One line: a valid ed25519 line, then a few edits of one character each (or none). */
const line = fc
  .record({
    key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    keyLen: fc.constantFrom(32, 32, 32, 31, 33),
    typeToken: fc.constantFrom('ssh-ed25519', 'ssh-ed25519', 'ssh-ed25519', 'ssh-ed2551', 'ssh-rsa', 'SSH-ED25519'),
    lead: fc.constantFrom('', '', ' ', '\t', ' \t'),
    gap: fc.constantFrom(' ', ' ', '\t', '  ', '\v', ' \v'),
    options: fc.constantFrom('', '', '', 'no-pty ', 'command="x y" ', 'bogus ', 'restrict,pty '),
    tail: fc.constantFrom('', ' c', '\tc d', ' ', '\r', '=', 'A', '\v', ' é'),
    edits: fc.array(fc.record({ at: fc.nat(200), ch: fc.constantFrom(...B64.split(''), '=', ' ', '\t', '\v', '#', '-', 'é', '\0') }), { maxLength: 2 }),
  })
  .map((r) => {
    const blob = new WireWriter().string('ssh-ed25519').string(Buffer.from(r.key)).toBuffer();
    blob.writeUInt32BE(r.keyLen, 15); // the key string's length: 32 is the only valid one
    let l = `${r.lead}${r.options}${r.typeToken}${r.gap}${blob.toString('base64')}${r.tail}`;
    for (const e of r.edits) {
      const at = e.at % (l.length + 1);
      l = l.slice(0, at) + e.ch + l.slice(at + 1);
    }
    return l;
  });

test('the compact index refuses and finds exactly what the line parser does', () => {
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), fc.constantFrom('\n', '\r\n'), (lines, nl) => {
      const text = lines.join(nl);
      const oracle: AuthorizedKey[] = [];
      const errors = eachLine(text, (l, n) => oracle.push(parseAuthorizedKeysLine(l, n)));
      const index = parseAuthorizedKeys(text);
      assert.deepEqual(index.errors, errors);
      assert.equal(index.size, oracle.length);
      for (const e of oracle) {
        const found = index.lookup(e.key.blob);
        const same = oracle.filter((o) => o.key.blob.equals(e.key.blob));
        assert.deepEqual(found, same);
      }
    }),
    fuzzParams(300),
  );
});

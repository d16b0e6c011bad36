/**
 * The compact authorized_keys index (issue 14: 100,000 keys held in a few MiB, not 150): its size is
 * counted directly (the text plus ≈ 20 bytes a key, never parsed objects), and the behaviours the old
 * Map of parsed entries had are kept: every line listing a key is found in file order with its own
 * options (a refused line does not end the search), cert-authority lines, bad lines numbered, and
 * the fast ed25519 path taken only for lines the general parser accepts the same way
 * (fuzz-authorized-index.test.ts checks that on random lines). Key lines are made by ssh-keygen (differential: the
 * blobs it writes are the ones looked up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { blobHash, ed25519LineHash } from '../src/core/key-index-hash.js';
import { eachLine } from '../src/core/lines.js';
import { parseInSlices } from '../src/server/authorized.js';
import { WireWriter } from '../src/core/wire.js';

const ed25519Line = (i: number) => `ssh-ed25519 ${new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer().toString('base64')} k${i}`;
const blobOf = (line: string) => parseAuthorizedKeysLine(line).key.blob;

function sshKeygenPub(type: string): string {
  const tmp = tempDir();
  try {
    const f = join(tmp.dir, 'k');
    const r = openssh('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `made-by-ssh-keygen-${type}`, '-f', f]);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(f + '.pub', 'utf8').trim();
  } finally {
    tmp.cleanup();
  }
}

test('100,000 ed25519 keys: the index holds the text plus at most 40 bytes a key (counted, not RSS)', async () => {
  const lines = Array.from({ length: 100_000 }, (_, i) => ed25519Line(i));
  const text = lines.join('\n') + '\n';
  const index = await parseInSlices(text);
  assert.equal(index.size, 100_000); // control: every key is in
  assert.equal(index.errors.length, 0);
  const perKey = (index.bytes - text.length) / index.size;
  assert.ok(index.bytes >= text.length, 'the held text is counted');
  assert.ok(perKey <= 40, `${perKey.toFixed(1)} bytes a key beside the text`);
  for (const i of [0, 4_242, 99_999]) {
    const found = index.lookup(blobOf(lines[i]));
    assert.deepEqual(found.map((e) => [e.line, e.key.comment]), [[i + 1, `k${i}`]]);
  }
  assert.deepEqual(index.lookup(blobOf(ed25519Line(-1))), [], 'a key not in the file is not found');
});

test('a text past U+00FF is counted at two bytes a character, as V8 holds it', () => {
  const text = `${ed25519Line(0)} café ☃\n`;
  const index = parseAuthorizedKeys(text);
  assert.equal(index.size, 1);
  assert.ok(index.bytes >= text.length * 2);
});

test('every line listing a key is found, in file order, each with its own options; bad lines are numbered', () => {
  const ed = sshKeygenPub('ed25519');
  const rsa = sshKeygenPub('rsa');
  const other = ed25519Line(9);
  const text = [
    `from="10.0.0.0/8" ${ed}`, // 1
    '# a comment', // 2
    other, // 3
    `command="echo second",no-pty ${ed}`, // 4
    'ssh-ed25519 AAAA-not-base64', // 5: bad
    `cert-authority,principals="alice" ${rsa}`, // 6
    `\t ${ed}\r`, // 7: blanks before, CRLF
    'ssh-ed25519', // 8: bad
    `nosuchoption ${ed}`, // 9: bad option
  ].join('\n');
  for (const index of [parseAuthorizedKeys(text)]) {
    assert.deepEqual(index.errors.map((e) => e.line), [5, 8, 9]);
    assert.equal(index.size, 5);
    const found = index.lookup(blobOf(ed));
    assert.deepEqual(found.map((e) => e.line), [1, 4, 7]);
    assert.equal(found[0].options.from, '10.0.0.0/8');
    assert.equal(found[1].options.command, 'echo second');
    assert.equal(found[1].options.pty, false);
    assert.equal(found[2].options.command, undefined);
    assert.equal(found[2].key.comment, 'made-by-ssh-keygen-ed25519');
    assert.ok(found.every((e) => e.key.blob.equals(blobOf(ed)) && e.key.type === 'ssh-ed25519'));
    const ca = index.lookup(blobOf(rsa));
    assert.deepEqual(ca.map((e) => [e.line, e.options.certAuthority, e.options.principals]), [[6, true, 'alice']]);
  }
});

test('the sliced parse reports the same lines, errors and lookups as the one-shot parse', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 3_000; i++) lines.push(i % 997 === 5 ? 'ssh-ed25519 AAAA' : i % 7 === 0 ? `no-pty ${ed25519Line(i)}` : ed25519Line(i));
  const text = lines.join('\r\n');
  const [a, b] = [parseAuthorizedKeys(text), await parseInSlices(text)];
  assert.deepEqual(b.errors, a.errors);
  assert.equal(b.size, a.size);
  for (const i of [0, 7, 1_500, 2_999]) assert.deepEqual(b.lookup(blobOf(lines[i])), a.lookup(blobOf(lines[i])));
});

test('the fast ed25519 path hashes exactly the blob the general parser reads, and declines other lines', () => {
  const line = ed25519Line(1);
  assert.equal(ed25519LineHash(line, 0, line.length), blobHash(blobOf(line)));
  const declined = [
    `no-pty ${line}`, // options: the general path
    line.replace('ssh-ed25519 ', 'ssh-ed25519\t \t'), // blanks are fine...
    `ssh-rsa ${line.split(' ')[1]}`,
    line.replace(/ k1$/, '\v'), // b64_pton skips \v: not this path's to judge
  ];
  assert.ok(ed25519LineHash(declined[1], 0, declined[1].length) >= 0, '...tabs and spaces between the fields');
  for (const l of [declined[0], declined[2], declined[3]]) assert.equal(ed25519LineHash(l, 0, l.length), -1, l);
  // a blob whose key string is not 32 bytes, with a 68-character field: refused by both paths
  const b = Buffer.from(line.split(' ')[1], 'base64');
  b.writeUInt32BE(31, 15);
  const bad = `ssh-ed25519 ${b.toString('base64')}`;
  assert.equal(ed25519LineHash(bad, 0, bad.length), -1);
  assert.throws(() => parseAuthorizedKeysLine(bad), /ed25519/);
  assert.deepEqual(parseAuthorizedKeys(bad).errors.map((e) => e.line), [1]);
});

test('lookups along the probe chains of 20,000 keys return only their own line; errors match the line walk', () => {
  // 20,000 keys in a table of 65,536 slots: probe chains cross other entries; every lookup returns
  // only its own line (a chain's other entries are ruled out on hash, a collision on the blob)
  const lines = Array.from({ length: 20_000 }, (_, i) => ed25519Line(i));
  const index = parseAuthorizedKeys(lines.join('\n'));
  for (let i = 0; i < lines.length; i += 97) assert.deepEqual(index.lookup(blobOf(lines[i])).map((e) => e.line), [i + 1]);
  const errors = eachLine(lines.join('\n'), (l) => parseAuthorizedKeysLine(l));
  assert.deepEqual(index.errors, errors);
});

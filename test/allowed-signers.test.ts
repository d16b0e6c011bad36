/**
 * allowed_signers parsing and decisions (src/core/allowed-signers.ts): line grammar (quotes, options,
 * comments), OpenSSH's time forms, pattern lists with negation, first granting line wins, bad lines are
 * reported and skipped. Malformed lines in a table, each a ParseError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { checkAllowedSigners, formatAbsoluteTime, parseAbsoluteTime, parseAllowedSignersLine } from '../src/core/allowed-signers.js';
import { ParseError } from '../src/core/errors.js';
import { WireWriter } from '../src/core/wire.js';

function edKey(): { line: string; blob: Buffer } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const blob = new WireWriter().string('ssh-ed25519').string(raw).toBuffer();
  return { line: `ssh-ed25519 ${blob.toString('base64')}`, blob };
}
const A = edKey();
const B = edKey();

test('time forms: YYYYMMDD, YYYYMMDDHHMM, YYYYMMDDHHMMSS, Z/UTC suffix; others refused', () => {
  assert.equal(parseAbsoluteTime('20200101Z'), Date.UTC(2020, 0, 1) / 1000);
  assert.equal(parseAbsoluteTime('202001021304Z'), Date.UTC(2020, 0, 2, 13, 4) / 1000);
  assert.equal(parseAbsoluteTime('20200102130405utc'), Date.UTC(2020, 0, 2, 13, 4, 5) / 1000);
  assert.equal(parseAbsoluteTime('20200101'), new Date(2020, 0, 1).getTime() / 1000);
  for (const bad of ['2020', '2020010', '20201301', '20200100', '2020010125', 'abcdefgh', '20200101T', '']) {
    assert.throws(() => parseAbsoluteTime(bad), ParseError, bad);
  }
  assert.equal(formatAbsoluteTime(new Date(2020, 0, 2, 3, 4, 5).getTime() / 1000), '2020-01-02T03:04:05');
});

test('line grammar: quoted principals, options with quoted commas, comments and blank lines', () => {
  assert.equal(parseAllowedSignersLine('  # comment', 1), null);
  assert.equal(parseAllowedSignersLine('', 2), null);
  const s = parseAllowedSignersLine(`"a@x,b@y" namespaces="git,file",valid-after="20200101Z",Cert-Authority ${A.line} trailing comment`, 3)!;
  assert.equal(s.principals, 'a@x,b@y');
  assert.equal(s.options.namespaces, 'git,file');
  assert.equal(s.options.validAfter, Date.UTC(2020, 0, 1) / 1000);
  assert.equal(s.options.certAuthority, true);
  assert.deepEqual(s.key.blob, A.blob);
  assert.equal(parseAllowedSignersLine(`other ${A.line}`, 4, 'me'), null, 'principal filter before parsing');
});

const MALFORMED = [
  'onlyprincipals',
  `me bogus ${'ssh-ed25519 AAAA'}`,
  `me ssh-ed25519 not-base64!`,
  `me namespaces=git PLACEHOLDER`,
  `me namespaces="git",namespaces="x" PLACEHOLDER`,
  `me valid-after="yesterday" PLACEHOLDER`,
  `me unknown-opt PLACEHOLDER`,
  `me cert-authority,`,
  `me namespaces="git PLACEHOLDER`,
];
for (const line of MALFORMED) {
  test(`malformed line is a ParseError with its line number: ${line.slice(0, 40)}`, () => {
    const text = line.replace('PLACEHOLDER', A.line);
    assert.throws(
      () => parseAllowedSignersLine(text, 7),
      (e: unknown) => e instanceof ParseError && e.line === 7,
    );
  });
}

test('decisions: first granting line wins, negation, namespaces, validity, bad lines skipped with reasons', () => {
  const now = Date.UTC(2025, 5, 1) / 1000;
  const text = [
    'brokenline',
    `me valid-before="20200101Z" ${A.line}`,
    `me namespaces="git" ${A.line}`,
    `*,!evil ${A.line}`,
    `b@* ${B.line}`,
  ].join('\n');
  const ok = checkAllowedSigners(text, { key: A.blob, principal: 'me', namespace: 'file', now });
  assert.equal(ok.ok, true);
  if (ok.ok) assert.equal(ok.grant.line, 4);
  const no = checkAllowedSigners(text, { key: A.blob, principal: 'evil', namespace: 'file', now });
  assert.equal(no.ok, false);
  // 'brokenline' + newline does not list "evil", so it is skipped unread (ssh-keygen -Y verify -I evil is silent about it)
  if (!no.ok) assert.deepEqual(no.reasons.map((r) => r.line), []);
  const broken = checkAllowedSigners(text, { key: A.blob, principal: 'brokenline', namespace: 'file', now });
  if (!broken.ok) assert.deepEqual(broken.reasons.map((r) => [r.line, r.reason]), [[1, 'missing key']]);
  const ns = checkAllowedSigners(text.split('\n').slice(2, 3).join('\n'), { key: A.blob, principal: 'me', namespace: 'file', now });
  assert.equal(ns.ok, false);
  if (!ns.ok) assert.match(ns.reasons[0].reason, /namespace "file"/);
  const find = checkAllowedSigners(text, { key: B.blob, now });
  assert.equal(find.ok, true);
  if (find.ok) assert.deepEqual(find.grant.principals, ['b@*']);
  assert.equal(checkAllowedSigners(`Me ${A.line}`, { key: A.blob, principal: 'me', now }).ok, false, 'principals are case-sensitive');
});

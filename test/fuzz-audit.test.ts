/**
 * Property tests for `sshkit audit`'s per-file core (audit-files.ts): whatever a file holds, auditing it
 * as any kind returns findings (never throws, never a stack trace to the user), every finding names a
 * line of the file (or the whole file) and is one line of text without control bytes. Inputs: the
 * committed fuzz findings of the other parsers (test/fixtures/fuzz) and fast-check texts built from
 * real key lines, options, markers and junk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ROOT } from './helpers.js';
import { fuzzParams } from './fuzz-helper.js';
import { auditFile, type FileKind } from '../src/core/audit-files.js';

const KINDS: FileKind[] = ['authorized', 'known-hosts', 'allowed-signers', 'public', 'private'];
const ctx = { now: Date.now() / 1000, expiringWithin: 30 * 86400, isRevoked: () => false };

function check(text: string, kind: FileKind): void {
  const a = auditFile({ name: `f/${kind}`, kind, text, mode: 0o600 }, ctx);
  const lines = text.split('\n').length;
  for (const f of a.findings) {
    assert.ok(f.line === null || (Number.isInteger(f.line) && f.line >= 1 && f.line <= lines), `${kind}: line ${f.line} of ${lines}`);
    assert.doesNotMatch(f.message, /[\x00-\x1f\x7f]/, `${kind}: ${JSON.stringify(f.message)}`);
  }
}

test('every committed fuzz input, audited as every kind: findings only, lines in range, no control bytes', () => {
  const dir = join(ROOT, 'test/fixtures/fuzz');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bin'));
  assert.ok(files.length > 5);
  for (const f of files) {
    const text = readFileSync(join(dir, f)).toString('latin1');
    for (const kind of KINDS) check(text, kind);
  }
});

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const fragment = fc.constantFrom(
  ED, `from="10.0.0.0/8" ${ED}`, `restrict,command="x" ${ED}`, `expiry-time="20200101" ${ED}`, `expiry-time="2020" ${ED}`,
  `@revoked * ${ED}`, `@cert-authority *.example.com ${ED}`, `host ${ED}`, `|1|AAAA|BBBB ${ED}`,
  `alice@example.com ${ED}`, `bob valid-before="20200101" ${ED}`, `carol namespaces="git ${ED}`, 'dave',
  'ssh-rsa AAAA', 'ssh-dss', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----END OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEA',
  '---- BEGIN SSH2 PUBLIC KEY ----', '---- END SSH2 PUBLIC KEY ----', 'Comment: "x\\', '#', '', ' \t', '\r', '\x1b[2J', '"', 'constructor',
);
const text = fc.array(fc.oneof(fragment, fc.string({ maxLength: 40 }), fc.tuple(fragment, fc.string({ maxLength: 8 })).map(([a, b]) => a + b)), { maxLength: 12 }).map((ls) => ls.join('\n'));

test('fast-check: texts of key lines, options, markers and junk, audited as every kind', () => {
  fc.assert(
    fc.property(text, fc.constantFrom(...KINDS), (t, kind) => {
      check(t, kind);
    }),
    fuzzParams(400),
  );
});

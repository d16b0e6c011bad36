/** The command-line contract shared by every subcommand (SPEC "Everywhere"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sshkit } from './helpers.js';

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

test('--version prints the package version', () => {
  const r = sshkit(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${version}\n`);
});

test('--help lists every command and exits 0', () => {
  const r = sshkit(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  for (const cmd of ['keygen', 'fingerprint', 'sign', 'verify-signature', 'find-principals', 'serve', 'passwd', 'exec']) {
    assert.match(r.stdout, new RegExp(`^  sshkit ${cmd}(?: |$)`, 'm'), `--help does not list ${cmd}`);
  }
});

const usage: [string, string[], RegExp][] = [
  ['no command', [], /^sshkit: a command is required/],
  ['unknown command', ['frobnicate'], /^sshkit: Unknown argument: frobnicate/],
  ['unknown flag', ['fingerprint', '--frob', '-'], /^sshkit: Unknown argument: frob/],
  ['bad choice', ['fingerprint', '-E', 'sha1', '-'], /^sshkit: Invalid values/],
];
for (const [name, args, pattern] of usage) {
  test(`usage error (${name}): exit 2, one line on stderr, nothing on stdout`, () => {
    const r = sshkit(args);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  });
}

test('an error never shows a stack trace (without SSHKIT_DEBUG)', () => {
  const plain = sshkit(['fingerprint', '/no/such/file']);
  assert.equal(plain.status, 2);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
});

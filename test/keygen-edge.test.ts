/** keygen edge cases found in review: repeated options, a directory in the way, an empty HOME. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { homeDir } from '../src/home.js';
import { openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-kgedge-');
after(cleanup);

test('-N given twice: the last passphrase encrypts the key (ssh-keygen -y -P opens it)', () => {
  const f = join(dir, 'twice');
  const r = sshkit(['keygen', '-q', '-N', 'first-pass', '-N', 'second-pass', '-C', 'a', '-C', 'b', '-f', f]);
  assert.equal(r.status, 0, r.stderr);
  const y = openssh('ssh-keygen', ['-y', '-P', 'second-pass', '-f', f]);
  assert.equal(y.status, 0, y.stderr);
  assert.equal(y.stdout, readFileSync(`${f}.pub`, 'utf8'));
  assert.match(y.stdout, / b\n$/);
});

test('--force with a directory where FILE.pub goes: refused before the old key is touched', () => {
  const f = join(dir, 'blocked');
  assert.equal(sshkit(['keygen', '-q', '-N', '', '-f', f]).status, 0);
  const before = readFileSync(f);
  unlinkSync(`${f}.pub`);
  mkdirSync(`${f}.pub`);
  const r = sshkit(['keygen', '-q', '-N', '', '--force', '-f', f]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  assert.deepEqual(readFileSync(f), before);
  rmSync(`${f}.pub`, { recursive: true });
});

test('an empty or relative HOME never puts default keys under the current folder', () => {
  const saved = process.env.HOME;
  try {
    for (const home of ['', 'relative/dir']) {
      process.env.HOME = home;
      assert.ok(isAbsolute(homeDir()), `HOME=${JSON.stringify(home)} gave ${homeDir()}`);
      // not merely absolute (resolve('relative/dir') would be): the account's home from the passwd database
      assert.equal(homeDir(), userInfo().homedir, `HOME=${JSON.stringify(home)}`);
    }
  } finally {
    process.env.HOME = saved;
  }
});

test('an option that needs a value and has none is a usage error, not a silent default', () => {
  for (const flag of ['-C', '-t', '-b', '-N', '-m']) {
    const r = sshkit(['keygen', '-f', join(dir, 'never'), flag]);
    assert.equal(r.status, 2, flag);
    assert.match(r.stderr, /^sshkit: Not enough arguments following/);
  }
});

/**
 * `sshkit passphrase` and `sshkit comment` against ssh-keygen 9.2 in the same run: `ssh-keygen -y -P NEW`
 * must read what `sshkit passphrase` wrote (and the old passphrase no longer), a wrong old passphrase
 * leaves the file's bytes and exits 2 with one line; `sshkit comment` must leave the same .pub line as
 * `ssh-keygen -c` on a copy of the same key, and `ssh-keygen -l` of the private key shows the new comment.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-upkeep-keys-');
after(cleanup);

const TYPES: Record<string, string[]> = { ed25519: ['-t', 'ed25519'], ecdsa384: ['-t', 'ecdsa', '-b', '384'], rsa: ['-t', 'rsa', '-b', '2048'] };
let seq = 0;
function makeKey(type: string, pass: string, comment = `c ${type}`, extra: string[] = []): string {
  const file = join(dir, `k${seq++}_${type}`);
  const r = openssh('ssh-keygen', ['-q', ...TYPES[type], ...extra, '-N', pass, '-C', comment, '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  return file;
}
function pubOf(file: string): string {
  return readFileSync(`${file}.pub`, 'utf8');
}
function oneLineRefusal(r: { status: number | null; stdout: string; stderr: string }): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
}

describe('passphrase = ssh-keygen -p', () => {
  for (const type of Object.keys(TYPES)) {
    test(`${type}: ssh-keygen -y reads the new passphrase, not the old; mode 0600; no temp file left`, () => {
      const file = makeKey(type, 'old pass');
      const twin = `${file}-twin`;
      copyFileSync(file, twin);
      const want = openssh('ssh-keygen', ['-p', '-P', 'old pass', '-N', 'new pass', '-f', twin]);
      const r = sshkit(['passphrase', '-f', file, '-P', 'old pass', '-N', 'new pass']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, want.stdout); // Key has comment ... / Your identification has been saved ...
      const y = openssh('ssh-keygen', ['-y', '-P', 'new pass', '-f', file]);
      assert.equal(y.status, 0, y.stderr);
      assert.equal(y.stdout, pubOf(file)); // ssh-keygen -y prints the key and its comment
      assert.notEqual(openssh('ssh-keygen', ['-y', '-P', 'old pass', '-f', file]).status, 0);
      assert.match(readFileSync(file, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
    });
  }
  test('a wrong old passphrase: exit 2, one line, the file byte-identical (control: the right one works)', () => {
    const file = makeKey('ed25519', 'right');
    const before = readFileSync(file);
    const twin = `${file}-twin`;
    copyFileSync(file, twin);
    assert.notEqual(openssh('ssh-keygen', ['-p', '-P', 'wrong', '-N', 'x', '-f', twin]).status, 0); // ssh-keygen refuses too
    oneLineRefusal(sshkit(['passphrase', '-f', file, '-P', 'wrong', '-N', 'x']));
    assert.deepEqual(readFileSync(file), before);
    oneLineRefusal(sshkit(['passphrase', '-f', file, '-N', 'x'])); // no old passphrase at all
    assert.deepEqual(readFileSync(file), before);
    assert.equal(sshkit(['passphrase', '-f', file, '-P', 'right', '-N', 'x']).status, 0);
    assert.equal(openssh('ssh-keygen', ['-y', '-P', 'x', '-f', file]).status, 0);
  });
  test("-N '' removes the passphrase; a PEM key comes back in OpenSSH format, as ssh-keygen -p writes it", () => {
    const file = makeKey('rsa', 'pwpwpw', 'c', ['-m', 'PEM']);
    const twin = `${file}-twin`;
    copyFileSync(file, twin);
    const want = openssh('ssh-keygen', ['-p', '-P', 'pwpwpw', '-N', '', '-f', twin]);
    assert.equal(want.status, 0, want.stderr);
    const human = `${file}-human`;
    copyFileSync(file, human);
    // a PEM key has no comment: ssh-keygen prints no "Key has comment" line
    assert.equal(sshkit(['passphrase', '-f', human, '-P', 'pwpwpw', '-N', '']).stdout, want.stdout);
    const r = sshkit(['passphrase', '-f', file, '--old-passphrase-file', '-', '--passphrase-file', '/dev/null', '--json'], { input: 'pwpwpw\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).encrypted, false);
    assert.match(readFileSync(file, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    assert.equal(openssh('ssh-keygen', ['-y', '-f', file]).stdout, openssh('ssh-keygen', ['-y', '-f', twin]).stdout);
  });
});

describe('comment = ssh-keygen -c', () => {
  for (const type of Object.keys(TYPES)) {
    for (const pass of ['', 'secret']) {
      test(`${type}${pass ? ' (encrypted)' : ''}: the same .pub as ssh-keygen -c; ssh-keygen -l shows the new comment`, () => {
        const file = makeKey(type, pass);
        const twin = `${file}-twin`;
        copyFileSync(file, twin);
        copyFileSync(`${file}.pub`, `${twin}.pub`);
        const want = openssh('ssh-keygen', ['-c', '-C', 'the new one', '-P', pass, '-f', twin]);
        assert.equal(want.status, 0, want.stderr);
        const got = sshkit(['comment', '-f', file, '-C', 'the new one', '-P', pass]);
        assert.equal(got.status, 0, got.stderr);
        assert.equal(got.stdout, want.stdout); // "Old comment: …" / "Comment '…' applied"
        assert.equal(pubOf(file), pubOf(twin));
        // ssh-keygen -l reads the comment of the private key itself only when it is not encrypted
        if (!pass) for (const f of [file, twin]) assert.match(openssh('ssh-keygen', ['-l', '-f', f]).stdout, / the new one \(/);
        assert.equal(openssh('ssh-keygen', ['-l', '-f', `${file}.pub`]).stdout, openssh('ssh-keygen', ['-l', '-f', `${twin}.pub`]).stdout);
        const y = openssh('ssh-keygen', ['-y', '-P', pass, '-f', file]);
        assert.equal(y.stdout, pubOf(twin)); // the private key holds the new comment, same passphrase
        assert.equal(statSync(file).mode & 0o777, 0o600);
      });
    }
  }
  test("an empty comment: the .pub line keeps ssh-keygen's blank (byte-identical)", () => {
    const file = makeKey('ed25519', '');
    const twin = `${file}-twin`;
    copyFileSync(file, twin);
    copyFileSync(`${file}.pub`, `${twin}.pub`);
    assert.equal(openssh('ssh-keygen', ['-c', '-C', '', '-f', twin]).status, 0);
    assert.equal(sshkit(['comment', '-f', file, '-C', '']).status, 0);
    assert.equal(pubOf(file), pubOf(twin));
  });
  test('a wrong passphrase changes neither file (exit 2, one line); control: the right one does', () => {
    const file = makeKey('ecdsa384', 'pw');
    const priv = readFileSync(file);
    const pub = readFileSync(`${file}.pub`);
    assert.notEqual(openssh('ssh-keygen', ['-c', '-C', 'x', '-P', 'bad', '-f', file]).status, 0);
    oneLineRefusal(sshkit(['comment', '-f', file, '-C', 'x', '-P', 'bad']));
    assert.deepEqual(readFileSync(file), priv);
    assert.deepEqual(readFileSync(`${file}.pub`), pub);
    oneLineRefusal(sshkit(['comment', '-f', file, '-C', 'two\nlines', '-P', 'pw']));
    assert.deepEqual(readFileSync(file), priv);
    assert.equal(sshkit(['comment', '-f', file, '-C', 'x', '-P', 'pw']).status, 0);
    assert.match(pubOf(file), / x\n$/);
  });
});

describe('a private key others may read', () => {
  test('is refused by passphrase and comment, as by ssh-keygen -p/-c, and left as it is; control: 0600 works', { skip: process.getuid?.() === undefined }, async () => {
    const { chmodSync } = await import('node:fs');
    const file = makeKey('ed25519', '');
    chmodSync(file, 0o644);
    const before = readFileSync(file);
    const pubBefore = readFileSync(`${file}.pub`);
    const twin = `${file}-twin`;
    copyFileSync(file, twin);
    chmodSync(twin, 0o644);
    assert.notEqual(openssh('ssh-keygen', ['-p', '-P', '', '-N', 'abcde', '-f', twin]).status, 0);
    assert.notEqual(openssh('ssh-keygen', ['-c', '-C', 'x', '-f', twin]).status, 0);
    oneLineRefusal(sshkit(['passphrase', '-f', file, '-N', 'abcde']));
    oneLineRefusal(sshkit(['comment', '-f', file, '-C', 'x']));
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readFileSync(`${file}.pub`), pubBefore);
    chmodSync(file, 0o600);
    assert.equal(sshkit(['comment', '-f', file, '-C', 'x']).status, 0);
  });
});

describe('a key file reached through a symlink', () => {
  test('is rewritten where the link points (the link stays a link), as ssh-keygen -p writes through it', async () => {
    const { lstatSync, symlinkSync } = await import('node:fs');
    const file = makeKey('ed25519', '');
    const link = `${file}-link`;
    symlinkSync(file, link);
    assert.equal(sshkit(['passphrase', '-f', link, '-N', 'via link']).status, 0);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(openssh('ssh-keygen', ['-y', '-P', 'via link', '-f', file]).status, 0);
  });
});

describe('comment on a PEM or PKCS#8 key', () => {
  for (const m of ['PEM', 'PKCS8']) {
    test(`${m}: the same report and .pub as ssh-keygen -c, the key rewritten in OpenSSH format`, () => {
      const file = makeKey('ecdsa384', '', 'zz', ['-m', m]);
      const twin = `${file}-twin`;
      copyFileSync(file, twin);
      copyFileSync(`${file}.pub`, `${twin}.pub`);
      const want = openssh('ssh-keygen', ['-c', '-C', 'newc', '-f', twin]);
      assert.equal(want.status, 0, want.stderr);
      const got = sshkit(['comment', '-C', 'newc', '-f', file]);
      assert.equal(got.stdout, want.stdout); // "No existing comment"
      assert.equal(pubOf(file), pubOf(twin));
      assert.equal(readFileSync(file, 'utf8').split('\n')[0], readFileSync(twin, 'utf8').split('\n')[0]);
    });
  }
});

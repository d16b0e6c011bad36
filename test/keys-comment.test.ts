/**
 * Issue 10 item 5: the comment `sshkit fingerprint` shows for a private key must be the one
 * `ssh-keygen -l -f KEY` shows, byte for byte: an empty stored comment prints empty (two spaces before
 * the type), only a key with no comment to read prints "no comment", and sshpk's "(unnamed)" never
 * leaks. Keys come from ssh-keygen, Dropbear's dropbearconvert and PuTTY's puttygen, made here; each
 * expected line is ssh-keygen's output on the same file (no FILE.pub beside it unless said).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-comment-');
after(cleanup);

function keygen(name: string, args: string[], keepPub = false): string {
  const f = join(dir, name);
  const r = openssh('ssh-keygen', ['-q', ...args, '-f', f]);
  assert.equal(r.status, 0, r.stderr);
  if (!keepPub) rmSync(`${f}.pub`);
  return f;
}

function agree(file: string): string {
  const want = openssh('ssh-keygen', ['-l', '-f', file]);
  assert.equal(want.status, 0, want.stderr);
  const got = sshkit(['fingerprint', file]);
  assert.equal(got.status, 0, got.stderr);
  assert.equal(got.stdout, want.stdout); // ssh-keygen -l -f FILE
  return got.stdout;
}

describe('private key comments as ssh-keygen -l prints them', () => {
  test("ssh-keygen -C '' (OpenSSH format, no .pub): the empty comment, not \"no comment\"", () => {
    const out = agree(keygen('empty', ['-t', 'ed25519', '-N', '', '-C', '']));
    assert.match(out, /^256 SHA256:\S+  \(ED25519\)\n$/);
  });
  test('a key whose comment is literally "(unnamed)" keeps it', () => {
    assert.match(agree(keygen('unnamed', ['-t', 'ed25519', '-N', '', '-C', '(unnamed)'])), / \(unnamed\) \(ED25519\)\n$/);
  });
  test('control: an ordinary comment, and an empty-comment key beside its .pub (the .pub path stands in)', () => {
    assert.match(agree(keygen('plain', ['-t', 'ecdsa', '-N', '', '-C', 'alice@example'])), / alice@example \(ECDSA\)\n$/);
    assert.match(agree(keygen('withpub', ['-t', 'ed25519', '-N', '', '-C', ''], true)), /withpub\.pub \(ED25519\)\n$/);
  });
  test('no comment to read: encrypted OpenSSH, PEM and PKCS#8 keys print "no comment"', () => {
    for (const [name, args] of [
      ['enc', ['-t', 'ed25519', '-N', 'secret', '-C', 'hidden']],
      ['pem', ['-t', 'ecdsa', '-N', '', '-C', 'lost', '-m', 'PEM']],
      ['pkcs8', ['-t', 'rsa', '-b', '2048', '-N', '', '-C', 'lost', '-m', 'PKCS8']],
    ] as [string, string[]][]) {
      assert.match(agree(keygen(name, args)), / no comment \((ED25519|ECDSA|RSA)\)\n$/, name);
    }
  });
  test('a Dropbear key converted by dropbearconvert (empty comment)', (t) => {
    const convert = '/usr/lib/dropbear/dropbearconvert';
    if (!existsSync(convert)) return t.skip('dropbearconvert not installed');
    const db = join(dir, 'dropbear');
    const out = join(dir, 'dropbear-openssh');
    assert.equal(spawnSync('dropbearkey', ['-t', 'ed25519', '-f', db]).status, 0);
    assert.equal(spawnSync(convert, ['dropbear', 'openssh', db, out]).status, 0);
    assert.match(agree(out), /^256 SHA256:\S+  \(ED25519\)\n$/);
  });
  test("a puttygen key exported as OpenSSH with -C ''", (t) => {
    const empty = join(dir, 'nopass');
    writeFileSync(empty, '');
    const out = join(dir, 'putty-openssh');
    const r = spawnSync('puttygen', ['-t', 'ed25519', '-C', '', '-O', 'private-openssh-new', '-o', out, '--new-passphrase', empty]);
    if (r.error) return t.skip('puttygen not installed');
    assert.equal(r.status, 0, String(r.stderr));
    assert.match(agree(out), /^256 SHA256:\S+  \(ED25519\)\n$/);
  });
  test('a libssh key (ssh_pki_export_privkey_file: empty comment), 0600 and 0644', (t) => {
    const src = join(dir, 'libssh-key.c');
    const bin = join(dir, 'libssh-key');
    writeFileSync(
      src,
      '#include <libssh/libssh.h>\nint main(int c, char **v) { ssh_key k; if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &k) != SSH_OK) return 1;' +
        ' return ssh_pki_export_privkey_file(k, NULL, NULL, NULL, v[1]) == SSH_OK ? 0 : 2; }\n',
    );
    const cc = spawnSync('cc', ['-o', bin, src, '-lssh']);
    if (cc.error || cc.status !== 0) return t.skip('no cc or libssh-dev');
    const key = join(dir, 'libssh-ed25519');
    assert.equal(spawnSync(bin, [key]).status, 0);
    chmodSync(key, 0o600);
    assert.match(agree(key), /^256 SHA256:\S+  \(ED25519\)\n$/);
    // libssh writes 0644: ssh-keygen then ignores the private key ("UNPROTECTED PRIVATE KEY FILE") and
    // prints the public part it can read with no comment (as root too: the file is root's own)
    chmodSync(key, 0o644);
    assert.match(agree(key), / no comment \(ED25519\)\n$/);
  });
  test('--json reports the empty comment as ""', () => {
    const r = sshkit(['fingerprint', '--json', join(dir, 'empty')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout)[0].comment, '');
  });
});

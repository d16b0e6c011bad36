/**
 * `sshkit fingerprint` against the real `ssh-keygen -l` (OpenSSH 9.2): every expected line below is
 * what ssh-keygen printed for the same file in this run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-fp-');
after(cleanup);

/** Keys made by ssh-keygen: name → its arguments. */
const KEYS: Record<string, string[]> = { ...KEY_TYPES, dsa: ['-t', 'dsa'] };
const path = (name: string) => join(dir, name);

function keygen(name: string, args: string[]): void {
  const r = openssh('ssh-keygen', ['-q', ...args, '-f', path(name)]);
  assert.equal(r.status, 0, r.stderr);
}

/** ssh-keygen -l with args; must succeed. */
function reference(args: string[]): string {
  const r = openssh('ssh-keygen', ['-l', ...args], { env: { LC_ALL: 'C.UTF-8' } });
  assert.equal(r.status, 0, `ssh-keygen -l ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function ours(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  return sshkit(['fingerprint', ...args], { input });
}

/** `sshkit fingerprint` that must succeed silently (exit 0, empty stderr); returns its stdout. */
function oursOk(args: string[], input?: string): string {
  const r = ours(args, input);
  assert.equal(r.status, 0, `sshkit fingerprint ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

before(() => {
  for (const [name, args] of Object.entries(KEYS)) keygen(name, [...args, '-N', '', '-C', `${name}@test`]);
  keygen('enc', ['-t', 'ed25519', '-N', 'secret phrase', '-C', 'encrypted@test']);
  keygen('pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-C', 'pem@test']);
  keygen('pemenc', ['-t', 'ecdsa', '-m', 'PEM', '-N', 'pemsecret', '-C', 'pemenc@test']);
  keygen('pkcs8', ['-t', 'ecdsa', '-m', 'PKCS8', '-N', '', '-C', 'pkcs8@test']);
  keygen('nocomment', ['-t', 'ed25519', '-N', '', '-C', '']);
});

describe('public keys match ssh-keygen -l byte for byte', () => {
  for (const name of [...Object.keys(KEYS), 'nocomment']) {
    test(`${name}.pub: plain, -E md5, -v, -v -E md5`, () => {
      for (const flags of [[], ['-E', 'md5'], ['-v'], ['-v', '-E', 'md5']]) {
        const want = reference([...flags, '-f', path(`${name}.pub`)]);
        const got = ours([...flags, path(`${name}.pub`)]);
        assert.equal(got.status, 0, got.stderr);
        assert.equal(got.stdout, want, `flags ${flags.join(' ')}`);
        assert.equal(got.stderr, '');
      }
    });
  }
});

describe('private key files', () => {
  const cases = ['ed25519', 'ecdsa384', 'rsa2048', 'dsa', 'enc', 'pem', 'pemenc', 'pkcs8'];
  for (const name of cases) {
    test(`${name} (with its .pub beside it) matches ssh-keygen -l`, () => {
      for (const flags of [[], ['-v']]) {
        assert.equal(oursOk([...flags, path(name)]), reference([...flags, '-f', path(name)]));
      }
    });
  }
  for (const name of ['ed25519', 'ecdsa521', 'rsa3072', 'enc', 'pem', 'pkcs8']) {
    test(`${name} alone (no .pub): comment from the key or "no comment", as ssh-keygen`, () => {
      const sub = join(dir, `alone-${name}`);
      mkdirSync(sub, { recursive: true });
      copyFileSync(path(name), join(sub, 'key'));
      const got = ours([join(sub, 'key')]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout, reference(['-f', join(sub, 'key')]));
    });
  }
  test('an encrypted PEM key alone cannot be fingerprinted: exit 2, one line', () => {
    const sub = join(dir, 'alone-pemenc');
    mkdirSync(sub, { recursive: true });
    copyFileSync(path('pemenc'), join(sub, 'key'));
    const got = ours([join(sub, 'key')]);
    assert.equal(got.status, 2);
    assert.equal(got.stdout, '');
    assert.match(got.stderr, /^sshkit: .*key: .*passphrase.*\n$/);
  });
});

function pub(name: string): { type: string; b64: string } {
  const [type, b64] = readFileSync(path(`${name}.pub`), 'utf8').split(' ');
  return { type, b64 };
}

describe('multi-key files match ssh-keygen -l', () => {
  test('authorized_keys with options, quotes, comments and blank lines', () => {
    const k = (n: string) => `${pub(n).type} ${pub(n).b64}`;
    const text = [
      '# a comment line',
      '',
      `${k('ed25519')} plain comment`,
      `command="echo \\"hi, there\\"",no-pty,from="10.0.0.0/8,*.example.com" ${k('ecdsa256')} forced`,
      `restrict,pty ${k('rsa2048')}`,
      `   ${k('ecdsa521')}   spaced   comment`,
      `environment="A=b c",expiry-time="20990101" ${k('dsa')} env`,
      `cert-authority,principals="alice,bob" ${k('ecdsa384')} ca key`,
      '\t# indented comment',
      `${k('rsa3072')} ünïcödé comment`,
    ].join('\n') + '\n';
    writeFileSync(path('authorized_keys'), text);
    for (const flags of [[], ['-E', 'md5'], ['-v']]) {
      const got = ours([...flags, path('authorized_keys')]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout, reference([...flags, '-f', path('authorized_keys')]));
    }
  });

  test('known_hosts: plain, [host]:port, wildcard, negation, hashed (ssh-keygen -H)', () => {
    const k = (n: string) => `${pub(n).type} ${pub(n).b64}`;
    const text = [
      `server.example.com,192.0.2.10 ${k('ed25519')}`,
      `[server.example.com]:2222 ${k('ecdsa256')}`,
      `*.internal,!bad.internal ${k('rsa2048')}`,
      `other ${k('ecdsa384')} with a comment`,
    ].join('\n') + '\n';
    writeFileSync(path('known_hosts'), text);
    assert.equal(oursOk([path('known_hosts')]), reference(['-f', path('known_hosts')]));
    const h = openssh('ssh-keygen', ['-H', '-f', path('known_hosts')]);
    assert.equal(h.status, 0, h.stderr);
    assert.match(readFileSync(path('known_hosts'), 'utf8'), /^\|1\|/m);
    const got = ours(['-v', path('known_hosts')]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout, reference(['-v', '-f', path('known_hosts')]));
  });

  test('certificates (ssh-keygen -s): ED25519-CERT, RSA-CERT, ECDSA-CERT lines and randomart titles', () => {
    for (const name of ['ed25519', 'rsa2048', 'ecdsa256']) {
      const r = openssh('ssh-keygen', ['-q', '-s', path('ecdsa384'), '-I', `id-${name}`, '-n', 'alice,bob', path(`${name}.pub`)]);
      assert.equal(r.status, 0, r.stderr);
      for (const flags of [[], ['-v'], ['-E', 'md5'], ['-v', '-E', 'md5']]) {
        const got = ours([...flags, path(`${name}-cert.pub`)]);
        assert.equal(got.status, 0, got.stderr);
        assert.equal(got.stdout, reference([...flags, '-f', path(`${name}-cert.pub`)]));
      }
    }
  });

  test('allowed_signers: principals as the comment (as ssh-keygen); with options the key is still found', () => {
    const { type, b64 } = pub('ed25519');
    writeFileSync(path('allowed_plain'), `alice@example.com,bob@example.com ${type} ${b64}\n`);
    assert.equal(oursOk([path('allowed_plain')]), reference(['-f', path('allowed_plain')]));
    writeFileSync(path('allowed_opts'), `alice@example.com namespaces="git,file",valid-after="20200101" ${type} ${b64}\n`);
    const got = ours([path('allowed_opts')]);
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout, reference(['-f', path('ed25519.pub')]).replace('ed25519@test', 'alice@example.com'));
  });

  test('stdin (-) reads the same as a file', () => {
    const text = readFileSync(path('rsa2048.pub'), 'utf8');
    assert.equal(oursOk(['-'], text), reference(['-f', path('rsa2048.pub')]));
    assert.equal(oursOk([], text), reference(['-f', path('rsa2048.pub')]));
  });

  test('comments keep tabs and UTF-8, escape control bytes as \\ooo, like ssh-keygen', () => {
    const { type, b64 } = pub('ed25519');
    writeFileSync(path('odd.pub'), Buffer.concat([Buffer.from(`${type} ${b64} a\tb\x01c\x1bd\x7fe é `), Buffer.from([0xff, 0x41]), Buffer.from('\n')]));
    assert.equal(oursOk([path('odd.pub')]), reference(['-f', path('odd.pub')]));
  });

  test('RFC 4716 and PKCS#8 public keys exported by ssh-keygen -e have the same fingerprint', () => {
    for (const name of ['ed25519', 'rsa2048', 'ecdsa256']) {
      const want = reference(['-f', path(`${name}.pub`)]).split(' ')[1];
      const rfc = openssh('ssh-keygen', ['-e', '-f', path(`${name}.pub`)]);
      writeFileSync(path(`${name}.rfc`), rfc.stdout);
      const got = ours([path(`${name}.rfc`)]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout.split(' ')[1], want);
      assert.match(got.stdout, /converted by/);
      if (name === 'ed25519') continue; // ssh-keygen cannot export ed25519 as PKCS#8
      const pem = openssh('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', path(`${name}.pub`)]);
      writeFileSync(path(`${name}.pem`), pem.stdout);
      const got2 = ours([path(`${name}.pem`)]);
      assert.equal(got2.status, 0, got2.stderr);
      assert.equal(got2.stdout.split(' ')[1], want);
      assert.match(got2.stdout, / no comment \(/);
    }
  });
});

describe('bad input: exit 2, exactly one stderr line, no stack trace', () => {
  const { type, b64 } = { type: 'ssh-ed25519', b64: 'AAAAC3NzaC1lZDI1NTE5AAAAIG+nOBgLGEHp9+XJGkfIL20pYHmDB4atzqUP+EdCskjX' };
  const cases: [string, string | Buffer | null][] = [
    ['empty file', ''],
    ['only comments and blank lines', '# nothing\n\n   \n'],
    ['binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00, 0x0a, 0x01])],
    ['high bytes without NUL', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) % 256 || 1))],
    ['truncated base64', `${type} ${b64.slice(0, 40)} x\n`],
    ['base64 of the wrong length', `${type} ${b64.slice(0, 41)} x\n`],
    ['key type mismatch', `ssh-rsa ${b64} x\n`],
    ['a 1 MB line', `${type} ${'A'.repeat(1 << 20)}\n`],
    ['a 1 MB line of junk', 'x'.repeat(1 << 20) + '\n'],
    ['unterminated quote in options', `command="oops ${type} ${b64}\n`],
    ['a directory', null],
    ['a missing file', null],
  ];
  for (const [name, content] of cases) {
    test(name, () => {
      let file = path(`bad-${name.replace(/\W+/g, '-')}`);
      if (name === 'a directory') mkdirSync((file = path('a-dir')), { recursive: true });
      else if (content !== null) writeFileSync(file, content);
      const got = ours([file]);
      assert.equal(got.status, 2, got.stdout + got.stderr);
      assert.equal(got.stdout, '');
      const lines = got.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, got.stderr);
      assert.match(lines[0], /^sshkit: /);
      assert.doesNotMatch(got.stderr, /\n\s+at /);
    });
  }

  test('one bad line among good ones: good ones printed (as ssh-keygen), FILE:LINE reported, exit 2', () => {
    const good1 = readFileSync(path('ed25519.pub'), 'utf8').trim();
    const good2 = readFileSync(path('ecdsa256.pub'), 'utf8').trim();
    writeFileSync(path('mixed'), `${good1}\nthis is not a key\n${good2}\n`);
    const got = ours([path('mixed')]);
    assert.equal(got.status, 2);
    assert.equal(got.stdout, reference(['-f', path('mixed')]));
    assert.equal(got.stderr, `${path('mixed')}:2: not a public key\n`);
  });

  test('several files: the good ones still print, each bad file is one line', () => {
    const got = ours([path('ed25519.pub'), path('no-such-file'), path('rsa2048.pub')]);
    assert.equal(got.status, 2);
    assert.equal(got.stdout, reference(['-f', path('ed25519.pub')]) + reference(['-f', path('rsa2048.pub')]));
    assert.equal(got.stderr, `sshkit: ${path('no-such-file')}: No such file or directory\n`);
  });

  test('unknown flag is a usage error (exit 2)', () => {
    const got = ours(['--bogus', path('ed25519.pub')]);
    assert.equal(got.status, 2);
    assert.match(got.stderr, /^sshkit: Unknown argument/);
  });
});

describe('--json', () => {
  test('an array of {file, line, type, bits, fingerprint, comment}', () => {
    const got = ours(['--json', path('ed25519.pub'), path('rsa3072.pub')]);
    assert.equal(got.status, 0, got.stderr);
    const data = JSON.parse(got.stdout);
    const want = (n: string) => reference(['-f', path(`${n}.pub`)]).trim().split(' ');
    assert.deepEqual(
      data.map((d: any) => [d.file, d.line, d.type, d.bits, d.fingerprint, d.comment]),
      [
        [path('ed25519.pub'), 1, 'ED25519', 256, want('ed25519')[1], 'ed25519@test'],
        [path('rsa3072.pub'), 1, 'RSA', 3072, want('rsa3072')[1], 'rsa3072@test'],
      ],
    );
  });
});

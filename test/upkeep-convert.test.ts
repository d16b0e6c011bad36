/**
 * `sshkit export` / `sshkit import` against `ssh-keygen -e` / `ssh-keygen -i` (OpenSSH 9.2) run on the
 * same files in this run: the output must be byte-identical for every key type and -m format
 * ssh-keygen accepts, and where ssh-keygen refuses (Ed25519 as PKCS8/PEM, a PKCS8 file read as PEM, an
 * OpenSSH line read as RFC 4716) sshkit refuses too, with one line and exit 2.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { KEY_TYPES, ROOT, openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-upkeep-convert-');
after(cleanup);

const FORMATS = ['RFC4716', 'PKCS8', 'PEM'];
const keys = new Map<string, string>();
for (const [name, args] of Object.entries(KEY_TYPES)) {
  if (name === 'rsa3072') continue; // rsa2048 covers RSA; keeps the file quick
  const file = join(dir, `id_${name}`);
  const r = openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', `upkeep ${name}`, '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  keys.set(name, file);
}

function assertOneLineRefusal(r: { status: number | null; stdout: string; stderr: string }): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
}

describe('export = ssh-keygen -e', () => {
  for (const [name, file] of keys) {
    for (const m of FORMATS) {
      for (const input of [file, `${file}.pub`]) {
        test(`${name} -m ${m} from ${input.endsWith('.pub') ? '.pub' : 'private key'}`, () => {
          const want = openssh('ssh-keygen', ['-e', '-m', m, '-f', input]); // the expected value
          const got = sshkit(['export', '-m', m, '-f', input]);
          if (want.status === 0) {
            assert.equal(got.status, 0, got.stderr);
            assert.equal(got.stdout, want.stdout);
          } else {
            assert.equal(name, 'ed25519', `ssh-keygen refused ${name} ${m}: ${want.stderr}`);
            assertOneLineRefusal(got);
            assert.match(got.stderr, /unsupported key type ED25519/);
          }
        });
      }
    }
  }
  for (const name of ['ed25519', 'rsa2048', 'ecdsa384']) {
    test(`a ${name} certificate (ssh-keygen -s): every -m as ssh-keygen -e, refusals included`, () => {
      const file = keys.get(name)!;
      const made = openssh('ssh-keygen', ['-q', '-s', keys.get('ed25519')!, '-I', 'id', '-n', 'u', `${file}.pub`]);
      assert.equal(made.status, 0, made.stderr);
      for (const m of FORMATS) {
        const want = openssh('ssh-keygen', ['-e', '-m', m, '-f', `${file}-cert.pub`]);
        const got = sshkit(['export', '-m', m, '-f', `${file}-cert.pub`]);
        if (want.status === 0) assert.equal(got.stdout, want.stdout, m);
        else assertOneLineRefusal(got);
        assert.equal(got.status === 0, want.status === 0, `${m}: ${got.stderr}`);
      }
    });
  }
  test('a long host name: the RFC 4716 comment is cut at 60 bytes as ssh-keygen does (char comment[61]); control: a short one whole', () => {
    const pub = `${keys.get('ed25519')!}.pub`;
    const bin = join(ROOT, 'bin', 'sshkit');
    const long = 'averyveryverylonghostnamethatgoesonandonandon.example.com';
    // its own UTS namespace: the machine's host name stays as it is
    const r = spawnSync('unshare', ['-u', 'sh', '-c', `hostname "$1" && ssh-keygen -e -f "$2" && "$3" "$4" export -f "$2"`, 'sh', long, pub, process.execPath, bin], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const [want, got] = r.stdout.split('---- END SSH2 PUBLIC KEY ----\n');
    assert.match(want, /converted by [^"]*@averyveryverylonghostname"\n/, 'ssh-keygen cut it');
    assert.equal(got + '---- END SSH2 PUBLIC KEY ----\n', want + '---- END SSH2 PUBLIC KEY ----\n');
    const short = openssh('ssh-keygen', ['-e', '-f', pub]);
    assert.match(short.stdout, / from OpenSSH"\n/);
    assert.equal(sshkit(['export', '-f', pub]).stdout, short.stdout);
  });

  test('--json carries the same text; an unknown -m is refused as ssh-keygen does', () => {
    const file = keys.get('ecdsa256')!;
    const json = JSON.parse(sshkit(['export', '--json', '-f', file]).stdout);
    assert.equal(json.text, openssh('ssh-keygen', ['-e', '-f', file]).stdout);
    assert.notEqual(openssh('ssh-keygen', ['-e', '-m', 'FOO', '-f', file]).status, 0);
    assertOneLineRefusal(sshkit(['export', '-m', 'FOO', '-f', file]));
    assertOneLineRefusal(sshkit(['export', '-f', join(dir, 'missing')]));
  });
});

describe('import = ssh-keygen -i', () => {
  for (const [name, file] of keys) {
    for (const m of FORMATS) {
      const exported = openssh('ssh-keygen', ['-e', '-m', m, '-f', file]);
      if (exported.status !== 0) continue; // ssh-keygen writes no such file (ed25519 PKCS8/PEM)
      const conv = join(dir, `${name}.${m}`);
      writeFileSync(conv, exported.stdout);
      for (const readAs of FORMATS) {
        test(`${name} written as ${m}, read as -m ${readAs}`, () => {
          const want = openssh('ssh-keygen', ['-i', '-m', readAs, '-f', conv]);
          const got = sshkit(['import', '-m', readAs, '-f', conv]);
          if (want.status === 0) {
            assert.equal(got.status, 0, got.stderr);
            assert.equal(got.stdout, want.stdout);
          } else {
            assertOneLineRefusal(got);
          }
        });
      }
    }
  }
  test('an OpenSSH .pub line or a private key is not RFC 4716 (both refuse); control: its export imports', () => {
    const file = keys.get('ed25519')!;
    for (const input of [`${file}.pub`, file]) {
      assert.notEqual(openssh('ssh-keygen', ['-i', '-f', input]).status, 0);
      assertOneLineRefusal(sshkit(['import', '-f', input]));
    }
    const rfc = join(dir, 'ed25519.RFC4716');
    assert.equal(sshkit(['import', '-f', rfc]).stdout, openssh('ssh-keygen', ['-i', '-f', rfc]).stdout);
  });
  test('--json line equals the text output', () => {
    const rfc = join(dir, 'rsa2048.RFC4716');
    assert.equal(JSON.parse(sshkit(['import', '--json', '-f', rfc]).stdout).line + '\n', openssh('ssh-keygen', ['-i', '-f', rfc]).stdout);
  });
});

describe('import of RFC 4716 files written by other tools', () => {
  test('puttygen -O public and a continued Comment header + x- header: as ssh-keygen -i', () => {
    const ppk = join(dir, 'putty.ppk');
    const rfc = join(dir, 'putty.rfc');
    const made = openssh('puttygen', ['-t', 'ed25519', '-o', ppk, '--new-passphrase', '/dev/null']);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(openssh('puttygen', [ppk, '-O', 'public', '-o', rfc]).status, 0);
    const body = openssh('ssh-keygen', ['-e', '-f', keys.get('ed25519')!]).stdout.split('\n').slice(2).join('\n');
    const cont = join(dir, 'continued.rfc');
    writeFileSync(cont, `---- BEGIN SSH2 PUBLIC KEY ----\nComment: "a long \\\ncontinued"\nx-foo: bar\n${body}`);
    for (const f of [rfc, cont]) {
      const want = openssh('ssh-keygen', ['-i', '-f', f]);
      assert.equal(want.status, 0, want.stderr);
      assert.equal(sshkit(['import', '-f', f]).stdout, want.stdout);
    }
  });
});

/**
 * Edge cases found in review, each compared with the real `ssh-keygen -l` in this run: odd line endings,
 * `#` trailers, unsafe comment bytes, sk keys and certificates, keys OpenSSH refuses, the FILE.pub
 * comment rule, and the documented differences (refused input is reported, exit 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WireWriter } from '../src/core/wire.js';
import { openssh, SSHKIT, sshkit, tempDir, testEnv } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-fpedge-');
after(cleanup);
const path = (n: string) => join(dir, n);
const blobOf = (n: string) => Buffer.from(readFileSync(path(`${n}.pub`), 'utf8').split(' ')[1], 'base64');
const line = (blob: Buffer, comment = '') => {
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return `${type} ${blob.toString('base64')}${comment ? ' ' + comment : ''}`;
};

function reference(file: string, flags: string[] = []): { status: number | null; stdout: string } {
  const r = openssh('ssh-keygen', ['-l', ...flags, '-f', file], { env: { LC_ALL: 'C.UTF-8' } });
  return { status: r.status, stdout: r.stdout };
}

before(() => {
  for (const [n, t] of [['ed', 'ed25519'], ['ec', 'ecdsa'], ['ca', 'ecdsa']]) {
    const r = openssh('ssh-keygen', ['-q', '-t', t, '-N', '', '-C', `${n}@test`, '-f', path(n)]);
    assert.equal(r.status, 0, r.stderr);
  }
});

describe('same bytes as ssh-keygen -l', () => {
  const cases: [string, () => string | Buffer][] = [
    ['CRLF line without a comment', () => `${line(blobOf('ed'))}\r\n`],
    ['CRLF line with a comment (the CR is part of it)', () => `${line(blobOf('ed'), 'hello')}\r\n`],
    ['vertical tab inside the base64', () => {
      const l = line(blobOf('ed'));
      return `${l.slice(0, 30)}\v${l.slice(30)} vt\n`;
    }],
    ['a trailing #… is no comment', () => `${line(blobOf('ed'))} #note\n`],
    ['options, then a trailing #…: the options stand in', () => `no-pty ${line(blobOf('ec'))} #note\n`],
    ['C1 controls, surrogates, overlong UTF-8, U+2028, unassigned, noncharacters', () =>
      Buffer.concat([
        Buffer.from(`${line(blobOf('ed'))} a`),
        Buffer.from([0xc2, 0x9b, 0x41, 0xed, 0xa0, 0x80, 0xe0, 0x80, 0xaf, 0xe2, 0x80, 0xa8, 0xcd, 0xb8, 0xef, 0xbf, 0xbe, 0xf4, 0x90, 0x80, 0x80]),
        Buffer.from(' é ✓ 😀\n'),
      ])],
    ['sk-ssh-ed25519 and sk-ecdsa keys', () => {
      const ed = blobOf('ed').subarray(-32);
      const ec = blobOf('ec').subarray(-65);
      const sked = new WireWriter().string('sk-ssh-ed25519@openssh.com').string(ed).string('ssh:').toBuffer();
      const skec = new WireWriter().string('sk-ecdsa-sha2-nistp256@openssh.com').string('nistp256').string(ec).string('ssh:').toBuffer();
      return `${line(sked, 'sk1')}\n${line(skec, 'sk2')}\n`;
    }],
  ];
  for (const [name, make] of cases) {
    test(name, () => {
      const file = path(`case-${name.replace(/\W+/g, '-')}`);
      writeFileSync(file, make());
      for (const flags of [[], ['-v']]) {
        const want = reference(file, flags);
        assert.equal(want.status, 0);
        const got = sshkit(['fingerprint', ...flags, file]);
        assert.equal(got.status, 0, got.stderr);
        assert.equal(got.stdout, want.stdout);
      }
    });
  }

  test('sk certificates (ED25519-SK-CERT, ECDSA-SK-CERT) signed by ssh-keygen -s', () => {
    const ed = blobOf('ed').subarray(-32);
    const ec = blobOf('ec').subarray(-65);
    writeFileSync(path('sked.pub'), line(new WireWriter().string('sk-ssh-ed25519@openssh.com').string(ed).string('ssh:').toBuffer(), 'sked') + '\n');
    writeFileSync(path('skec.pub'), line(new WireWriter().string('sk-ecdsa-sha2-nistp256@openssh.com').string('nistp256').string(ec).string('ssh:').toBuffer(), 'skec') + '\n');
    for (const n of ['sked', 'skec']) {
      const r = openssh('ssh-keygen', ['-q', '-s', path('ca'), '-I', n, path(`${n}.pub`)]);
      assert.equal(r.status, 0, r.stderr);
      const got = sshkit(['fingerprint', '-v', path(`${n}-cert.pub`)]);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout, reference(path(`${n}-cert.pub`), ['-v']).stdout);
    }
  });

  test('a private key beside a comment-less FILE.pub shows the .pub path, as ssh-keygen', () => {
    const sub = path('pubv');
    mkdirSync(sub);
    copyFileSync(path('ed'), join(sub, 'k'));
    writeFileSync(join(sub, 'k.pub'), line(blobOf('ed')) + '\n');
    assert.equal(sshkit(['fingerprint', join(sub, 'k')]).stdout, reference(join(sub, 'k')).stdout);
  });

  test('a NUL byte makes only its own line bad; the other keys print', () => {
    writeFileSync(path('withnul'), Buffer.concat([Buffer.from(line(blobOf('ed'), 'a') + '\n'), Buffer.from('x\0y\n'), Buffer.from(line(blobOf('ec'), 'b') + '\n')]));
    const got = sshkit(['fingerprint', path('withnul')]);
    assert.equal(got.status, 2);
    assert.equal(got.stdout, reference(path('withnul')).stdout);
    assert.equal(got.stderr, `${path('withnul')}:2: binary data\n`);
  });
});

describe('keys OpenSSH refuses are refused (exit 2, one line), where ssh-keygen also fails', () => {
  const refused: [string, () => string][] = [
    ['an ECDSA point off the curve', () => {
      const b = Buffer.from(blobOf('ec'));
      b[b.length - 1] ^= 1;
      return line(b, 'bad');
    }],
    ['a certificate whose CA signature does not verify', () => {
      assert.equal(openssh('ssh-keygen', ['-q', '-s', path('ca'), '-I', 'myid', path('ed.pub')]).status, 0);
      const b = Buffer.from(readFileSync(path('ed-cert.pub'), 'utf8').split(' ')[1], 'base64');
      b[b.indexOf('myid')] = 'M'.charCodeAt(0);
      return line(b, 'tampered');
    }],
    ['non-canonical base64 padding', () => {
      const l = line(blobOf('ec'));
      const i = l.indexOf('=') - 1;
      const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      return l.slice(0, i) + A[A.indexOf(l[i]) | 1] + l.slice(i + 1);
    }],
  ];
  for (const [name, make] of refused) {
    test(name, () => {
      const file = path(`refused-${name.replace(/\W+/g, '-')}`);
      writeFileSync(file, make() + '\n');
      assert.notEqual(reference(file).status, 0, 'ssh-keygen refuses it too');
      const got = sshkit(['fingerprint', file]);
      assert.equal(got.status, 2);
      assert.equal(got.stdout, '');
      assert.equal(got.stderr.split('\n').filter(Boolean).length, 1, got.stderr);
    });
  }
});

describe('the command line', () => {
  test('a reader that goes away (| head -1) ends the run quietly: no stack trace', () => {
    const many = Array.from({ length: 20000 }, () => line(blobOf('ed'), 'x')).join('\n') + '\n';
    writeFileSync(path('many'), many);
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${SSHKIT}" fingerprint "${path('many')}" | head -1`], { env: testEnv(), encoding: 'utf8' });
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1);
    assert.equal(r.stderr, '');
  });

  test('a repeated option: the last value wins, as with getopt', () => {
    const got = sshkit(['fingerprint', '-E', 'md5', '-E', 'sha256', path('ed.pub')]);
    assert.equal(got.stdout, reference(path('ed.pub')).stdout);
  });

  test('-E is case-insensitive, as ssh-keygen', () => {
    assert.equal(sshkit(['fingerprint', '-E', 'MD5', path('ed.pub')]).stdout, reference(path('ed.pub'), ['-E', 'md5']).stdout);
  });
});

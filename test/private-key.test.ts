/**
 * src/core/private-key.ts against keys written by the REAL ssh-keygen (OpenSSH 9.2) in this run:
 * ed25519, ecdsa 256/384/521, rsa 2048/3072, in its own format, -m PEM and -m PKCS8, plain and
 * encrypted. The expected public key of each is the .pub ssh-keygen wrote beside it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../src/core/errors.js';
import { checkGenerateOptions, generateKey, keySpec, type PrivateFormat } from '../src/core/keygen.js';
import { isEncrypted, loadPrivateKey, PassphraseError, publicFromPrivate } from '../src/core/private-key.js';
import { KEY_TYPES, openssh, tempDir, testEnv } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-privkey-');
after(cleanup);

const PASS = 'correct horse';
const TYPES = KEY_TYPES;
/** ssh-keygen's -m names; RFC4716 is its own (openssh-key-v1) format for private keys. */
const FORMATS = ['RFC4716', 'PEM', 'PKCS8'];

interface Fixture {
  name: string;
  file: string;
  format: string;
  encrypted: boolean;
}
const fixtures: Fixture[] = [];
for (const type of Object.keys(TYPES)) {
  for (const format of FORMATS) {
    for (const encrypted of [false, true]) {
      const name = `${type}-${format}-${encrypted ? 'enc' : 'plain'}`;
      fixtures.push({ name, file: join(dir, name), format, encrypted });
    }
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: testEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`))));
  });
}

before(async () => {
  // Made by ssh-keygen itself, two at a time (RSA generation dominates).
  const jobs = fixtures.map((f) => () => {
    const type = f.name.split('-')[0];
    return run('ssh-keygen', ['-q', ...TYPES[type], '-m', f.format, '-N', f.encrypted ? PASS : '', '-C', `${f.name}@fixture`, '-f', f.file]);
  });
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  };
  await Promise.all([worker(), worker()]);
});

function pubBlob(file: string): Buffer {
  return Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1], 'base64');
}

function blobOf(key: ReturnType<typeof loadPrivateKey>): Buffer {
  return Buffer.from(key.toPublic().toBuffer('rfc4253'));
}

/** Asserts `fn` throws `type` with a one-line message, and returns it. */
function throwsOneLine<T extends Error>(fn: () => unknown, type: new (...a: any[]) => T): T {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error).name}: ${(err as Error).message}`);
    assert.doesNotMatch(err.message, /\n/);
    return err;
  }
  assert.fail(`expected ${type.name}`);
}

describe('keys written by ssh-keygen', { concurrency: 2 }, () => {
  for (const f of fixtures) {
    test(f.name, () => {
      const text = readFileSync(f.file, 'utf8');
      const want = pubBlob(f.file);
      assert.equal(isEncrypted(text), f.encrypted);
      assert.ok(blobOf(loadPrivateKey(text, f.encrypted ? PASS : undefined)).equals(want), 'right passphrase: same public key as .pub');

      const pub = publicFromPrivate(text);
      if (f.encrypted && !text.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----')) {
        assert.equal(pub, null, 'an encrypted PEM/PKCS#8 key hides its public part');
      } else {
        assert.ok(pub && pub.blob.equals(want), 'publicFromPrivate without a passphrase');
      }

      if (f.encrypted) {
        const missing = throwsOneLine(() => loadPrivateKey(text), PassphraseError);
        assert.equal(missing.reason, 'missing');
        assert.equal(missing.status, 2);
        assert.equal(missing.code, 'PASSPHRASE_MISSING');
        assert.equal(throwsOneLine(() => loadPrivateKey(text, ''), PassphraseError).reason, 'missing');
        const wrong = throwsOneLine(() => loadPrivateKey(text, 'wrong horse'), PassphraseError);
        assert.equal(wrong.reason, 'incorrect');
        assert.match(wrong.message, /^private key: incorrect passphrase$/);
        assert.match(throwsOneLine(() => loadPrivateKey(text, 'nope', 'id_test'), PassphraseError).message, /^id_test: /);
      } else {
        assert.ok(blobOf(loadPrivateKey(text, 'ignored for a plain key')).equals(want));
      }
    });
  }
});

describe('garbage is a ParseError (one line), never a passphrase error or a crash', () => {
  const ossh = () => readFileSync(join(dir, 'ed25519-RFC4716-plain'), 'utf8');
  const pem = () => readFileSync(join(dir, 'rsa2048-PEM-plain'), 'utf8');
  const body = (t: string) => t.split('\n').filter((l) => !l.startsWith('-----') && l !== '');
  const table: [string, () => string][] = [
    ['not a key at all', () => 'hello world\n'],
    ['a public key', () => readFileSync(join(dir, 'ed25519-RFC4716-plain.pub'), 'utf8')],
    ['bad base64 in OpenSSH armor', () => '-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n'],
    ['wrong magic', () => `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from('openssh-key-v2\0xxxxxxxx').toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`],
    ['truncated OpenSSH key', () => { const t = ossh(); const b = body(t); return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b.slice(0, 2).join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`; }],
    ['OpenSSH key with a corrupted private section', () => {
      const raw = Buffer.from(body(ossh()).join(''), 'base64');
      const pub = pubBlob(join(dir, 'ed25519-RFC4716-plain')).subarray(-32);
      raw[raw.indexOf(pub, raw.indexOf(pub) + 1) + 5] ^= 0xff; // the private section's public key; checkints intact
      return `-----BEGIN OPENSSH PRIVATE KEY-----\n${raw.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    }],
    ['truncated PEM', () => { const b = body(pem()); return `-----BEGIN RSA PRIVATE KEY-----\n${b.slice(0, 5).join('\n')}\n-----END RSA PRIVATE KEY-----\n`; }],
    ['PEM of random bytes', () => `-----BEGIN EC PRIVATE KEY-----\n${Buffer.alloc(64, 7).toString('base64')}\n-----END EC PRIVATE KEY-----\n`],
    ['empty PKCS#8', () => '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n'],
  ];
  for (const [name, make] of table) {
    test(name, () => {
      const text = make();
      throwsOneLine(() => loadPrivateKey(text, PASS), ParseError);
      throwsOneLine(() => loadPrivateKey(text), ParseError);
    });
  }

  test('an OpenSSH key encrypted with an AEAD cipher: unsupported (ParseError), yet its public part is readable', () => {
    const file = join(dir, 'gcm');
    const r = openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-Z', 'aes256-gcm@openssh.com', '-N', PASS, '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(file, 'utf8');
    assert.match(throwsOneLine(() => loadPrivateKey(text, PASS), ParseError).message, /unsupported cipher/);
    assert.ok(publicFromPrivate(text)!.blob.equals(pubBlob(file)));
  });
});

describe('keys written by sshkit keygen read back (in process)', () => {
  for (const [type, bits] of [['ed25519', undefined], ['ecdsa', '384'], ['rsa', '2048']] as const) {
    for (const format of ['openssh', 'pem', 'pkcs8'] as PrivateFormat[]) {
      for (const pass of ['', PASS]) {
        test(`${type} -m ${format}${pass ? ' encrypted' : ''}`, () => {
          const spec = keySpec(type, bits);
          const opts = { comment: 'c', passphrase: pass, format };
          checkGenerateOptions(spec, opts);
          const key = generateKey(spec, opts);
          assert.equal(isEncrypted(key.privateText), pass !== '');
          assert.ok(blobOf(loadPrivateKey(key.privateText, pass)).equals(key.publicKey.blob));
          if (pass) assert.equal(throwsOneLine(() => loadPrivateKey(key.privateText, 'wrong horse'), PassphraseError).reason, 'incorrect');
        });
      }
    }
  }
});

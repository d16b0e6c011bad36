/**
 * An encrypted private key chooses its own KDF cost (bcrypt rounds, PBKDF2 iterations), and neither
 * OpenSSH nor OpenSSL bounds it: fuzz-keys found a mutated key asking for millions of bcrypt rounds that
 * held loadPrivateKey for hours. Keys made by ssh-keygen here are rewritten to ask for absurd costs
 * and must be refused at once with a ParseError; the unmodified keys (controls) still load.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../src/core/errors.js';
import { decodeBase64Strict } from '../src/core/base64.js';
import { WireReader } from '../src/core/wire.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { MAX_BCRYPT_ROUNDS } from '../src/core/kdf-cost.js';
import { openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-kdf-');
after(cleanup);

function keygen(name: string, args: string[]): string {
  const f = join(dir, name);
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', 'secret', '-C', name, ...args, '-f', f]).status, 0);
  return readFileSync(f, 'latin1');
}

function armor(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

function body(pem: string): Buffer {
  return decodeBase64Strict(pem.replace(/-----[A-Z ]+-----/g, ''));
}

describe('KDF cost chosen by the key file is capped', () => {
  test('openssh-key-v1: bcrypt rounds above the cap are refused before any are spent', () => {
    const raw = body(keygen('openssh', ['-a', '1']));
    const r = new WireReader(raw.subarray(15)); // after "openssh-key-v1\0"
    r.string(); // cipher
    r.string(); // kdf
    r.string(); // kdf options
    const optionsEnd = raw.length - r.remaining;
    const roundsAt = optionsEnd - 4; // kdf options: string salt, uint32 rounds (last)
    assert.equal(raw.readUInt32BE(roundsAt), 1);
    assert.ok(loadPrivateKey(armor('OPENSSH PRIVATE KEY', raw), 'secret'), 'control: 1 round loads');
    for (const rounds of [MAX_BCRYPT_ROUNDS + 1, 0x04000001, 0xffffffff]) {
      raw.writeUInt32BE(rounds >>> 0, roundsAt);
      const t0 = Date.now();
      assert.throws(() => loadPrivateKey(armor('OPENSSH PRIVATE KEY', raw), 'secret'), (e: unknown) => e instanceof ParseError && /rounds/.test(e.message));
      assert.ok(Date.now() - t0 < 2000, `${rounds} rounds refused only after ${Date.now() - t0} ms`);
    }
  });
  test('PKCS#8: a PBKDF2 iteration count above the cap is refused before OpenSSL runs it', () => {
    const der = body(keygen('pkcs8', ['-m', 'PKCS8']));
    // ssh-keygen's (OpenSSL's) layout: SEQ{ SEQ{ PBES2, SEQ{ SEQ{ PBKDF2, SEQ{ salt(8), INTEGER 2048, … }}, … }}, data }
    assert.deepEqual([der[0], der[1], der[3], der[16], der[18], der[31], der[43], der[44]], [0x30, 0x81, 0x30, 0x30, 0x30, 0x30, 0x02, 0x02]);
    assert.equal(der.readUInt16BE(45), 2048);
    assert.ok(loadPrivateKey(armor('ENCRYPTED PRIVATE KEY', der), 'secret'), 'control: 2048 iterations load');
    // iterations 0x7fffffff: two more bytes, so every enclosing length grows by two
    const big = Buffer.concat([der.subarray(0, 44), Buffer.from([0x04, 0x7f, 0xff, 0xff, 0xff]), der.subarray(47)]);
    for (const at of [2, 4, 17, 19, 32]) big[at] += 2;
    const t0 = Date.now();
    assert.throws(() => loadPrivateKey(armor('ENCRYPTED PRIVATE KEY', big), 'secret'), (e: unknown) => e instanceof ParseError && /derivation cost/.test(e.message));
    assert.ok(Date.now() - t0 < 2000);
  });
});

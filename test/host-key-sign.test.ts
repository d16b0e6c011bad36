/**
 * host-key-sign.ts: ssh2's host keys sign through a cached KeyObject (issue 14, ≈ 0.8 ms of CPU a login
 * saved) and still produce what ssh2's own method produces: the same bytes for the deterministic
 * schemes (ed25519, RSA PKCS#1 v1.5 with each hash kex.js asks for), a signature ssh2's verify accepts
 * for ECDSA (randomized), errors returned as values. Keys are made by ssh-keygen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { fastHostKeySigning } from '../src/server/host-key-sign.js';

const { utils } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');

function hostKey(type: string, bits?: string): any {
  const tmp = tempDir();
  try {
    const f = join(tmp.dir, 'k');
    const r = openssh('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-f', f]);
    assert.equal(r.status, 0, r.stderr);
    return utils.parseKey(readFileSync(f));
  } finally {
    tmp.cleanup();
  }
}

const data = Buffer.from('exchange hash stand-in, 32 bytes');

test('ed25519 and RSA (ssh-rsa, rsa-sha2-256, rsa-sha2-512): the same signature bytes as ssh2 gives', () => {
  for (const [key, algos] of [[hostKey('ed25519'), [undefined]], [hostKey('rsa', '2048'), [undefined, 'sha256', 'sha512']]] as const) {
    const before = algos.map((a) => key.sign(data, a));
    fastHostKeySigning({ [key.type]: key });
    assert.ok(Object.prototype.hasOwnProperty.call(key, 'sign'), 'the key got its own sign');
    for (let i = 0; i < algos.length; i++) {
      const after = key.sign(data, algos[i]);
      assert.ok(Buffer.isBuffer(after) && after.equals(before[i]), `${key.type} ${algos[i] ?? 'default'}`);
    }
  }
});

test('ECDSA: the new signature verifies with ssh2; a bad algorithm is an Error value, not a throw', () => {
  for (const bits of ['256', '384', '521']) {
    const key = hostKey('ecdsa', bits);
    fastHostKeySigning({ [key.type]: key });
    const sig = key.sign(data);
    assert.ok(Buffer.isBuffer(sig));
    assert.equal(key.verify(data, sig), true, `ecdsa ${bits}`);
    assert.equal(key.verify(Buffer.from('other data'), sig), false, 'control: other data does not verify');
    assert.ok(key.sign(data, 'no-such-hash') instanceof Error);
  }
});

test('applying it twice keeps one wrapper (idempotent); an empty table is fine', () => {
  const key = hostKey('ed25519');
  fastHostKeySigning({ a: key });
  const first = key.sign;
  fastHostKeySigning({ a: key });
  assert.equal(key.sign, first);
  fastHostKeySigning(undefined);
});

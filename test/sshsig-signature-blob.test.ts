/**
 * Issue 9 item 15 (`signature--TypeError-0c9afe1154`): a mutated signature blob must give a verdict
 * (false) or a ParseError from verifySignature, never Node's raw TypeError. The finding names its
 * algorithm `__proto__`, which an object-literal table resolved to Object.prototype; the tables are Maps
 * now. Each refusal sits beside the same key's good signature verifying (the control).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, openssh, ROOT, tempDir } from './helpers.js';
import { createSigner, parseSignatureBlob, signatureAlgorithms, verifySignature } from '../src/core/signature.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { ParseError } from '../src/core/errors.js';
import { WireReader, WireWriter } from '../src/core/wire.js';

let dir = '';
let cleanup = () => {};
const p = (n: string) => join(dir, n);
const TYPES = Object.entries(KEY_TYPES).filter(([n]) => n !== 'rsa3072');
const data = Buffer.from('message');

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sigblob-'));
  for (const [n, a] of TYPES) assert.equal(openssh('ssh-keygen', ['-q', ...a, '-N', '', '-f', p(n)]).status, 0);
});
after(() => cleanup());

/** verifySignature's answer, or the name of the error class it threw. */
function outcome(key: Buffer, msg: Buffer, sig: Buffer): boolean | string {
  try {
    return verifySignature(key, msg, sig);
  } catch (err) {
    return err instanceof ParseError ? 'ParseError' : `${(err as Error).name}: ${(err as Error).message}`;
  }
}

test('fuzz finding signature--TypeError-0c9afe1154: algorithm "__proto__" under an RSA certificate → a typed refusal, not a TypeError', () => {
  const r = new WireReader(readFileSync(join(ROOT, 'test/fixtures/fuzz/signature--TypeError-0c9afe1154.bin')), 'fixture');
  const key = r.string();
  const sig = r.string();
  const msg = r.string();
  r.end();
  assert.equal(parseSignatureBlob(sig).algorithm, '__proto__');
  // a typed refusal: since h/keys' cert_parse rules the certificate itself is refused (its critical
  // options are truncated); the same algorithm under well-formed keys of every type is tested below
  assert.ok(['ParseError', false].includes(outcome(key, msg, sig)), String(outcome(key, msg, sig)));
});

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', ''];

for (const [n] of TYPES) {
  test(`${n}: prototype-named algorithms give false; the good signature (control) verifies`, () => {
    const s = createSigner(loadPrivateKey(readFileSync(p(n))));
    const good = s.sign(data);
    assert.equal(outcome(s.publicKey.blob, data, good), true);
    const bytes = parseSignatureBlob(good).bytes;
    for (const alg of NAMES) {
      const sig = new WireWriter().string(alg).string(bytes).toBuffer();
      assert.equal(outcome(s.publicKey.blob, data, sig), false, `algorithm ${JSON.stringify(alg)}`);
      assert.equal(outcome(s.publicKey.blob, data, new WireWriter().string(alg).string(Buffer.alloc(12, 7)).toBuffer()), false);
    }
  });
}

test('signatureAlgorithms does not answer for prototype names', () => {
  for (const alg of NAMES) assert.deepEqual(signatureAlgorithms(alg), []);
  assert.deepEqual(signatureAlgorithms('ecdsa-sha2-nistp256'), ['ecdsa-sha2-nistp256']);
});

/**
 * The verify primitive (src/core/signature.ts) and certificates (src/core/certificate.ts): Signer
 * blobs verify for every key type, algorithm policy (SHA-1 ssh-rsa refused unless allowed, algorithm
 * must fit the key), malformed blobs are ParseErrors, and ssh-keygen-made certificates parse and check
 * (type, window, principals, CA signature).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, openssh, tempDir } from './helpers.js';
import { createSigner, verifySignature, parseSignatureBlob } from '../src/core/signature.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { parsePublicKeyLine } from '../src/core/key.js';
import { checkCertificate, parseCertificate } from '../src/core/certificate.js';
import { ParseError } from '../src/core/errors.js';
import { WireWriter } from '../src/core/wire.js';

let dir = '';
let cleanup = () => {};
const p = (n: string) => join(dir, n);
/** ssh-keygen that must succeed. */
function keygen(args: string[]): void {
  const r = openssh('ssh-keygen', args);
  assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
}
/** Every key type once (RSA at 2048 bits only, to keep the run short). */
const TYPES = Object.entries(KEY_TYPES).filter(([n]) => n !== 'rsa3072');

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sig-'));
  for (const [n, a] of TYPES) keygen(['-q', ...a, '-N', '', '-f', p(n)]);
});
after(() => cleanup());

const signer = (n: string) => createSigner(loadPrivateKey(readFileSync(p(n))));
const data = Buffer.from('message');

for (const [n] of TYPES) {
  test(`Signer(${n}) signature verifies; other data and other keys do not`, () => {
    const s = signer(n);
    assert.deepEqual(s.publicKey.blob, parsePublicKeyLine(readFileSync(p(`${n}.pub`), 'utf8')).blob);
    const sig = s.sign(data);
    assert.equal(verifySignature(s.publicKey.blob, data, sig), true);
    assert.equal(verifySignature(s.publicKey.blob, Buffer.from('messagE'), sig), false);
    const otherKey = signer(n === 'ed25519' ? 'rsa2048' : 'ed25519').publicKey.blob;
    assert.equal(verifySignature(otherKey, data, sig), false);
  });
}

test('RSA: rsa-sha2-256/512 accepted, ssh-rsa (SHA-1) refused unless allowSha1', () => {
  keygen(['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', p('rsapem')]);
  const s = signer('rsapem');
  assert.equal(parseSignatureBlob(s.sign(data)).algorithm, 'rsa-sha2-512');
  assert.equal(verifySignature(s.publicKey.blob, data, s.sign(data, 'rsa-sha2-256')), true);
  const pem = createPrivateKey(readFileSync(p('rsapem')));
  const sha1 = new WireWriter().string('ssh-rsa').string(cryptoSign('sha1', data, pem)).toBuffer();
  assert.equal(verifySignature(s.publicKey.blob, data, sha1), false);
  assert.equal(verifySignature(s.publicKey.blob, data, sha1, { allowSha1: true }), true);
  assert.equal(verifySignature(s.publicKey.blob, data, s.sign(data), { algorithms: ['rsa-sha2-256'] }), false);
});

test('malformed signature blobs are ParseErrors; wrong algorithm names are just false', () => {
  const s = signer('ed25519');
  const sig = s.sign(data);
  assert.throws(() => verifySignature(s.publicKey.blob, data, sig.subarray(0, 10)), ParseError);
  assert.throws(() => verifySignature(s.publicKey.blob, data, Buffer.concat([sig, Buffer.from([0])])), ParseError);
  const renamed = new WireWriter().string('ecdsa-sha2-nistp256').string(parseSignatureBlob(sig).bytes).toBuffer();
  assert.equal(verifySignature(s.publicKey.blob, data, renamed), false);
  const e = signer('ecdsa256');
  const es = parseSignatureBlob(e.sign(data));
  const huge = new WireWriter().string(es.algorithm).string(new WireWriter().mpint(Buffer.alloc(40, 1)).mpint(Buffer.alloc(32, 1)).toBuffer()).toBuffer();
  assert.equal(verifySignature(e.publicKey.blob, data, huge), false);
});

test('certificates made by ssh-keygen parse and check like sshkey_cert_check_authority', () => {
  keygen(['-q', '-t', 'ed25519', '-N', '', '-f', p('ca')]);
  const r = openssh('ssh-keygen', ['-q', '-s', p('ca'), '-I', 'key-id', '-n', 'alice,bob', '-V', '20200101:20300101', '-O', 'force-command=/bin/true', p('ecdsa256.pub')]);
  assert.equal(r.status, 0, r.stderr);
  const cert = parseCertificate(parsePublicKeyLine(readFileSync(p('ecdsa256-cert.pub'), 'utf8')).blob);
  assert.equal(cert.keyId, 'key-id');
  assert.deepEqual(cert.principals, ['alice', 'bob']);
  assert.equal(cert.certType, 'user');
  assert.deepEqual(cert.key, signer('ecdsa256').publicKey.blob);
  assert.equal(cert.criticalOptions.get('force-command')?.toString(), '/bin/true');
  const now = Date.UTC(2025, 0, 1) / 1000;
  assert.deepEqual(checkCertificate(cert, { now, type: 'user', principal: 'alice' }), { ok: true });
  assert.deepEqual(checkCertificate(cert, { now, type: 'user', principal: 'carol' }), { ok: false, reason: 'Certificate invalid: name is not a listed principal' });
  assert.deepEqual(checkCertificate(cert, { now, type: 'host' }), { ok: false, reason: 'Certificate invalid: not a host certificate' });
  assert.deepEqual(checkCertificate(cert, { now: Date.UTC(2031, 0, 1) / 1000, type: 'user' }), { ok: false, reason: 'Certificate invalid: expired' });
  assert.deepEqual(checkCertificate(cert, { now: Date.UTC(2019, 0, 1) / 1000, type: 'user' }), { ok: false, reason: 'Certificate invalid: not yet valid' });
  assert.deepEqual(checkCertificate(cert, { now, type: 'user', criticalOptions: [] }).ok, false);
  const tampered = Buffer.from(cert.blob);
  tampered[tampered.length - 10] ^= 1;
  assert.deepEqual(checkCertificate(parseCertificate(tampered), { now, type: 'user' }), { ok: false, reason: 'Certificate signature invalid' });
  assert.throws(() => parseCertificate(cert.blob.subarray(0, cert.blob.length - 1)), ParseError);
  assert.throws(() => parseCertificate(signer('ecdsa256').publicKey.blob), ParseError);
});

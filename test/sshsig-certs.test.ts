/**
 * SSHSIG by a certificate under `cert-authority` (issue 18 `diff-certs--2985792e42`, `diff-certs--33e6bd47cc`):
 * a certificate whose key id holds a NUL, or with more than 256 principals, is one OpenSSH's cert_parse
 * refuses (sshbuf_get_cstring; SSHKEY_CERT_MAX_PRINCIPALS), so `ssh-keygen -Y verify` cannot parse the
 * signature object (exit 255) and `-Y find-principals` finds nobody; sshkit must refuse it too, on every SSHSIG path
 * (verify-signature, find-principals), through the one certificate parser. The certificates are built here
 * (ssh-keygen cannot write a NUL in a key id) and signed by a CA key ssh-keygen made; the SSHSIG is
 * ssh-keygen's own, with its key swapped for the certificate (the signed data does not include the key).
 * Each refusal has its control: the same construction with a clean key id / 256 principals, accepted by both.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, ROOT, sshkit, tempDir } from './helpers.js';
import { armorSignature, dearmorSignature, encodeSshsig, parseSshsig } from '../src/core/sshsig.js';
import { createSigner } from '../src/core/signature.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { parsePublicKeyText } from '../src/core/key.js';
import { WireReader, WireWriter } from '../src/core/wire.js';

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);
const FUZZ = join(ROOT, 'test/fixtures/fuzz');

function keygenFrom(args: string[], inputFile: string): { status: number | null; stdout: string; stderr: string } {
  const fd = openSync(inputFile, 'r');
  try {
    const r = spawnSync('ssh-keygen', args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sshsig-certs-'));
  const ok = (args: string[]) => assert.equal(openssh('ssh-keygen', args).status, 0, `ssh-keygen ${args.join(' ')}`);
  ok(['-q', '-t', 'ed25519', '-N', '', '-f', p('ca')]);
  ok(['-q', '-t', 'ed25519', '-N', '', '-f', p('u')]);
  writeFileSync(p('data'), 'signed by a certificate\n');
  ok(['-Y', 'sign', '-f', p('u'), '-n', 'file', p('data')]);
  writeFileSync(p('signers'), `alice cert-authority ${readFileSync(p('ca.pub'), 'utf8')}`);
});
after(() => cleanup());

/** An ed25519 user certificate for u.pub (PROTOCOL.certkeys), signed by ca, with the given key id and principals. */
function certificate(keyId: Buffer | string, principals: string[]): Buffer {
  const user = new WireReader(parsePublicKeyText(readFileSync(p('u.pub'), 'utf8')).blob);
  user.text();
  const pk = user.string();
  const ca = createSigner(loadPrivateKey(readFileSync(p('ca'))));
  const names = new WireWriter();
  for (const n of principals) names.string(n);
  const tbs = new WireWriter()
    .string('ssh-ed25519-cert-v01@openssh.com')
    .string(Buffer.alloc(32, 0x5a))
    .string(pk)
    .u64(1n)
    .u32(1)
    .string(keyId)
    .string(names.toBuffer())
    .u64(0n)
    .u64(0xffffffffffffffffn)
    .string('')
    .string('')
    .string('')
    .string(ca.publicKey.blob)
    .toBuffer();
  return new WireWriter().raw(tbs).string(ca.sign(tbs)).toBuffer();
}

/** ssh-keygen's signature of data with its key replaced by `cert`, written as NAME.sig. */
function certSignature(name: string, cert: Buffer): string {
  const sig = parseSshsig(dearmorSignature(readFileSync(p('data.sig'))));
  const file = p(`${name}.sig`);
  writeFileSync(file, armorSignature(encodeSshsig({ ...sig, publicKey: cert })));
  return file;
}

const many = (n: number) => [...Array.from({ length: n - 1 }, (_, i) => `p${i}`), 'alice'];
const CASES: [name: string, keyId: Buffer | string, principals: string[]][] = [
  ['clean key id, one principal (control)', 'id-1', ['alice']],
  ['key id with a NUL (diff-certs--2985792e42)', Buffer.from('id\0x', 'latin1'), ['alice']],
  ['256 principals incl. alice (control: the most OpenSSH takes)', 'id-2', many(256)],
  ['257 principals incl. alice (diff-certs--33e6bd47cc)', 'id-3', many(257)],
];

for (const [name, keyId, principals] of CASES) {
  test(`certificate signer, ${name}: sshkit verify-signature and find-principals decide as ssh-keygen -Y`, () => {
    const sig = certSignature(name.replace(/\W+/g, '_'), certificate(keyId, principals));
    const args = ['-f', p('signers'), '-I', 'alice', '-n', 'file', '-s', sig];
    const ref = keygenFrom(['-Y', 'verify', ...args], p('data'));
    const ours = sshkit(['verify-signature', ...args, p('data')]);
    if (ref.status === 0) {
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stdout, ref.stdout);
    } else {
      assert.equal(ref.status, 255, ref.stderr); // sshsig_wrap_verify: parse signature object: invalid format
      assert.notEqual(ours.status, 0, `ssh-keygen refuses, sshkit: ${ours.stdout}`);
      assert.equal(ours.stdout, '');
    }
    const refFp = openssh('ssh-keygen', ['-Y', 'find-principals', '-f', p('signers'), '-s', sig]);
    const oursFp = sshkit(['find-principals', '-f', p('signers'), '-s', sig]);
    assert.equal(oursFp.status === 0, refFp.status === 0, `find-principals: ssh-keygen ${refFp.status}, sshkit ${oursFp.status} ${oursFp.stderr}`);
    assert.equal(oursFp.stdout, refFp.stdout);
  });
}

for (const finding of ['diff-certs--2985792e42', 'diff-certs--33e6bd47cc']) {
  test(`fuzz finding ${finding}: find-principals under its CA finds nobody, as ssh-keygen -Y find-principals`, () => {
    const file = join(FUZZ, `${finding}.bin`);
    // the CA is the certificate's own signature key: trust it for alice, as the fuzzer did
    const cert = new WireReader(dearmorSignature(readFileSync(file)).subarray(10)).string();
    const signers = p(`${finding}.signers`);
    writeFileSync(signers, `alice cert-authority ssh-ed25519 ${caBlob(cert).toString('base64')}\n`);
    const ref = openssh('ssh-keygen', ['-Y', 'find-principals', '-f', signers, '-s', file]);
    assert.notEqual(ref.status, 0);
    const ours = sshkit(['find-principals', '-f', signers, '-s', file]);
    assert.notEqual(ours.status, 0, ours.stdout);
    assert.equal(ours.stdout, '');
  });
}

/** The CA key blob of an ed25519 certificate: the string before the final signature string. */
function caBlob(cert: Buffer): Buffer {
  // signature: string(string "ssh-ed25519" + string 64 bytes) = 4 + 83; the CA key (51 bytes) precedes it
  const sigLen = cert.readUInt32BE(cert.length - 87);
  assert.equal(sigLen, 83);
  const keyLen = cert.readUInt32BE(cert.length - 87 - 55);
  assert.equal(keyLen, 51);
  return cert.subarray(cert.length - 87 - 51, cert.length - 87);
}

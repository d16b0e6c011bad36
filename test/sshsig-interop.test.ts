/**
 * SSHSIG interop with the real ssh-keygen (OpenSSH 9.2), both directions, every key type and both hashes:
 * `ssh-keygen -Y sign` → `sshkit verify-signature`, `sshkit sign` → `ssh-keygen -Y verify`, identical
 * stdout lines, byte-identical signature files for deterministic keys (ed25519, RSA PKCS#1 v1.5), and
 * `find-principals` answers equal to `ssh-keygen -Y find-principals`. Certificates via cert-authority.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, openssh, sshkit, tempDir } from './helpers.js';

/** Every key type once (RSA at 2048 bits only, to keep the run short). */
const KEYS = Object.entries(KEY_TYPES).filter(([n]) => n !== 'rsa3072');
const DETERMINISTIC = new Set(['ed25519', 'rsa2048']);

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);
const pubText = (name: string) => readFileSync(p(`${name}.pub`), 'utf8').split(' ').slice(0, 2).join(' ');

function keygenSign(key: string, file: string, ns: string, hash: string) {
  rmSync(`${file}.sig`, { force: true });
  const r = openssh('ssh-keygen', ['-Y', 'sign', '-f', key, '-n', ns, '-O', `hashalg=${hash}`, file]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(`${file}.sig`);
}

function keygenVerify(signers: string, id: string, ns: string, sig: string, data: string) {
  return openssh('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', id, '-n', ns, '-s', sig], { input: readFileSync(data) });
}

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sshsig-'));
  for (const [name, args] of KEYS) {
    const r = openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', p(name)]);
    assert.equal(r.status, 0, r.stderr);
  }
  writeFileSync(p('data'), 'The quick brown fox\n'.repeat(1000));
  writeFileSync(p('allowed'), KEYS.map(([n]) => `${n}@example.com,ops-* ${pubText(n)} comment`).join('\n') + '\n');
  const ca = openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', p('ca')]);
  assert.equal(ca.status, 0, ca.stderr);
});
after(() => cleanup());

for (const [name] of KEYS) {
  for (const hash of ['sha512', 'sha256']) {
    test(`ssh-keygen -Y sign (${name}, ${hash}) verifies with sshkit, same output line`, () => {
      const data = p(`d-${name}-${hash}`);
      writeFileSync(data, `payload ${name} ${hash}\n`);
      keygenSign(p(name), data, 'file', hash);
      const id = `${name}@example.com`;
      const ref = keygenVerify(p('allowed'), id, 'file', `${data}.sig`, data);
      assert.equal(ref.status, 0, ref.stdout + ref.stderr);
      const ours = sshkit(['verify-signature', '-f', p('allowed'), '-I', id, '-n', 'file', '-s', `${data}.sig`, data]);
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stdout, ref.stdout);
      const stdin = sshkit(['verify-signature', '-f', p('allowed'), '-I', id, '-n', 'file', '-s', `${data}.sig`], { input: readFileSync(data) });
      assert.equal(stdin.stdout, ref.stdout);
    });

    test(`sshkit sign (${name}, ${hash}) verifies with ssh-keygen -Y verify${DETERMINISTIC.has(name) ? ', byte-identical' : ''}`, () => {
      const data = p(`s-${name}-${hash}`);
      writeFileSync(data, `sshkit payload ${name} ${hash}\n`);
      const theirs = keygenSign(p(name), data, 'git', hash);
      rmSync(`${data}.sig`);
      const r = sshkit(['sign', '-f', p(name), '-n', 'git', '--hash', hash, data]);
      assert.equal(r.status, 0, r.stderr);
      const ours = readFileSync(`${data}.sig`);
      if (DETERMINISTIC.has(name)) assert.deepEqual(ours, theirs);
      else assert.equal(ours.toString().split('\n').map((l) => l.length).slice(0, 2).join(), theirs.toString().split('\n').map((l) => l.length).slice(0, 2).join());
      const v = keygenVerify(p('allowed'), `${name}@example.com`, 'git', `${data}.sig`, data);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      const fpRef = openssh('ssh-keygen', ['-Y', 'find-principals', '-f', p('allowed'), '-s', `${data}.sig`]);
      const fpOurs = sshkit(['find-principals', '-f', p('allowed'), '-s', `${data}.sig`]);
      assert.equal(fpRef.status, 0);
      assert.equal(fpOurs.status, 0, fpOurs.stderr);
      assert.equal(fpOurs.stdout, fpRef.stdout);
    });
  }
}

test('sign stdin → stdout matches ssh-keygen -Y sign of stdin (ed25519)', () => {
  const input = readFileSync(p('data'));
  const ref = openssh('ssh-keygen', ['-Y', 'sign', '-f', p('ed25519'), '-n', 'file'], { input });
  assert.equal(ref.status, 0, ref.stderr);
  assert.match(ref.stdout, /^-----BEGIN SSH SIGNATURE-----\n/);
  const ours = sshkit(['sign', '-f', p('ed25519'), '-n', 'file'], { input });
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(ours.stdout, ref.stdout);
});

test('encrypted key with -P and --passphrase-file; wrong passphrase is exit 2', () => {
  const k = openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sekrit', '-f', p('enc')]);
  assert.equal(k.status, 0, k.stderr);
  writeFileSync(p('enc.allowed'), `me ${pubText('enc')}\n`);
  writeFileSync(p('pass'), 'sekrit\n');
  const d = p('enc-data');
  writeFileSync(d, 'x');
  assert.equal(sshkit(['sign', '-f', p('enc'), '-n', 'file', '-P', 'sekrit', d]).status, 0);
  assert.equal(keygenVerify(p('enc.allowed'), 'me', 'file', `${d}.sig`, d).status, 0);
  rmSync(`${d}.sig`); // so the check below sees the --passphrase-file signature, not the -P one
  const pf = sshkit(['sign', '-f', p('enc'), '-n', 'file', '--passphrase-file', p('pass'), d]);
  assert.equal(pf.status, 0, pf.stderr);
  const pfv = keygenVerify(p('enc.allowed'), 'me', 'file', `${d}.sig`, d);
  assert.equal(pfv.status, 0, pfv.stdout + pfv.stderr);
  const bad = sshkit(['sign', '-f', p('enc'), '-n', 'file', '-P', 'nope', '--force', d]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});

test('sign refuses to overwrite FILE.sig without --force (exit 2)', () => {
  const d = p('exists');
  writeFileSync(d, 'x');
  writeFileSync(`${d}.sig`, 'keep me');
  const r = sshkit(['sign', '-f', p('ed25519'), '-n', 'file', d]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^sshkit: .*exists.*\n$/);
  assert.equal(readFileSync(`${d}.sig`, 'utf8'), 'keep me');
  assert.equal(sshkit(['sign', '-q', '-f', p('ed25519'), '-n', 'file', '--force', d]).status, 0);
});

test('certificate signer: cert-authority line, verify and find-principals agree with ssh-keygen', () => {
  const r = openssh('ssh-keygen', ['-q', '-s', p('ca'), '-I', 'id', '-n', 'alice,bob', '-V', '-5m:+1h', p('ed25519.pub')]);
  assert.equal(r.status, 0, r.stderr);
  const d = p('cert-data');
  writeFileSync(d, 'signed with a certificate\n');
  const sig = keygenSign(p('ed25519-cert.pub'), d, 'file', 'sha512');
  rmSync(`${d}.sig`);
  assert.equal(sshkit(['sign', '-q', '-f', p('ed25519-cert.pub'), '-n', 'file', d]).status, 0);
  assert.deepEqual(readFileSync(`${d}.sig`), sig);
  writeFileSync(p('ca.allowed'), `al*,carol cert-authority ${pubText('ca')}\n`);
  // alice: line pattern and certificate both match; bob: in the certificate but not on the line;
  // carol: on the line but not a principal of the certificate.
  const statuses: (number | null)[] = [];
  for (const id of ['alice', 'bob', 'carol']) {
    const ref = keygenVerify(p('ca.allowed'), id, 'file', `${d}.sig`, d);
    statuses.push(ref.status);
    const ours = sshkit(['verify-signature', '-f', p('ca.allowed'), '-I', id, '-n', 'file', '-s', `${d}.sig`, d]);
    assert.equal(ours.status, ref.status === 0 ? 0 : 1, `${id}: ${ours.stderr}`);
    assert.equal(ours.stdout, ref.status === 0 ? ref.stdout : '');
  }
  assert.deepEqual(statuses, [0, 255, 255], 'ssh-keygen -Y verify statuses for alice, bob, carol');
  const fpRef = openssh('ssh-keygen', ['-Y', 'find-principals', '-f', p('ca.allowed'), '-s', `${d}.sig`]);
  assert.equal(fpRef.status, 0, fpRef.stderr);
  const fpOurs = sshkit(['find-principals', '-f', p('ca.allowed'), '-s', `${d}.sig`]);
  assert.equal(fpOurs.status, 0, fpOurs.stderr);
  assert.equal(fpOurs.stdout, fpRef.stdout);
});

test('--public-key mode and --json', () => {
  const d = p('pk-data');
  writeFileSync(d, 'y');
  keygenSign(p('ecdsa384'), d, 'file', 'sha512');
  const ref = openssh('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${d}.sig`], { input: 'y' });
  assert.equal(ref.status, 0, ref.stderr);
  const ok = sshkit(['verify-signature', '--public-key', p('ecdsa384.pub'), '-n', 'file', '-s', `${d}.sig`, d]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, ref.stdout);
  assert.equal(sshkit(['verify-signature', '--public-key', p('rsa2048.pub'), '-n', 'file', '-s', `${d}.sig`, d]).status, 1);
  const j = sshkit(['verify-signature', '--json', '-f', p('allowed'), '-I', 'ecdsa384@example.com', '-n', 'file', '-s', `${d}.sig`, d]);
  const doc = JSON.parse(j.stdout);
  assert.equal(doc.result, 'good');
  assert.equal(doc.principal, 'ecdsa384@example.com');
  const l = openssh('ssh-keygen', ['-l', '-f', p('ecdsa384.pub')]);
  assert.equal(l.status, 0, l.stderr);
  assert.equal(doc.signer.fingerprint, l.stdout.split(' ')[1]);
  const jb = sshkit(['verify-signature', '--json', '-f', p('allowed'), '-I', 'nobody', '-n', 'file', '-s', `${d}.sig`, d]);
  assert.equal(jb.status, 1);
  assert.equal(JSON.parse(jb.stdout).result, 'bad');
  assert.ok(JSON.parse(jb.stdout).reason);
});

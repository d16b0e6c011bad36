/**
 * Negative answers and malformed input for verify-signature / find-principals, each checked against what
 * the real `ssh-keygen -Y verify` says for the very same files (it exits 255 for all of them):
 * sshkit must exit 1 with a reason for a "no", and 2 with exactly one stderr line for bad input.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);
let pub = '';
let other = '';
let ca = '';

function armor(blob: Buffer): string {
  const b64 = blob.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN SSH SIGNATURE-----\n${b64}\n-----END SSH SIGNATURE-----\n`;
}
const blobOf = (sig: string) => Buffer.from(sig.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64');

/** ssh-keygen with stdin from a file (a pipe would EPIPE when it exits before reading). */
function keygenFrom(args: string[], inputFile: string): number | null {
  const fd = openSync(inputFile, 'r');
  try {
    return spawnSync('ssh-keygen', args, { stdio: [fd, 'pipe', 'pipe'] }).status;
  } finally {
    closeSync(fd);
  }
}

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sshsig-neg-'));
  const ok = (args: string[]) => {
    const r = openssh('ssh-keygen', args);
    assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  };
  for (const name of ['k', 'other', 'ca', 'ck']) ok(['-q', '-t', 'ed25519', '-N', '', '-f', p(name)]);
  ok(['-q', '-s', p('ca'), '-I', 'ck-id', '-n', 'me', p('ck.pub')]); // ck-cert.pub, signed by ca, for "me"
  pub = readFileSync(p('k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  other = readFileSync(p('other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  ca = readFileSync(p('ca.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(p('data'), 'important release artifact\n');
  ok(['-Y', 'sign', '-f', p('k'), '-n', 'file', p('data')]);
  // The same data signed by a certificate (ca → ck) and by the CA key itself, each with its own .sig.
  writeFileSync(p('certdata'), readFileSync(p('data')));
  ok(['-Y', 'sign', '-f', p('ck-cert.pub'), '-n', 'file', p('certdata')]);
  writeFileSync(p('cadata'), readFileSync(p('data')));
  ok(['-Y', 'sign', '-f', p('ca'), '-n', 'file', p('cadata')]);
});
after(() => cleanup());

interface Case {
  name: string;
  signers: string;
  id?: string;
  ns?: string;
  data?: string;
  sig?: () => string;
  revoked?: string;
  /** A signature file other than data.sig (made in before()). */
  sigFile?: string;
  reason: RegExp;
}

const CASES: Case[] = [
  { name: 'wrong namespace', signers: 'me ${pub}', ns: 'git', reason: /namespace does not match/ },
  { name: 'wrong identity', signers: 'me ${pub}', id: 'mallory', reason: /no line allows "mallory"/ },
  { name: 'tampered data', signers: 'me ${pub}', data: 'important release artifacT\n', reason: /incorrect signature/ },
  {
    name: 'tampered signature bytes',
    signers: 'me ${pub}',
    sig: () => {
      const b = blobOf(readFileSync(p('data.sig'), 'utf8'));
      b[b.length - 5] ^= 0x01; // inside the ed25519 signature value
      return armor(b);
    },
    reason: /incorrect signature/,
  },
  { name: 'signer not listed', signers: 'me ${other}', reason: /no line allows "me"/ },
  { name: 'valid-before in the past', signers: 'me valid-before="20200101" ${pub}', reason: /key has expired/ },
  { name: 'valid-after in the future', signers: 'me valid-after="20990101Z" ${pub}', reason: /not yet valid/ },
  { name: 'namespaces= excluding the namespace', signers: 'me namespaces="git,ci-*" ${pub}', reason: /not permitted for use in signature namespace "file"/ },
  { name: 'negated principal pattern', signers: 'm*,!me ${pub}', reason: /no line allows "me"/ },
  { name: 'revoked key', signers: 'me ${pub}', revoked: '# revoked\n${pub}\n', reason: /revoked/ },
  { name: 'bad options line only', signers: 'me bogus-option ${pub}', reason: /unknown key option/ },
  {
    name: 'certificate whose CA is revoked',
    signers: 'me cert-authority ${ca}',
    sigFile: 'certdata.sig',
    revoked: '${ca}\n',
    reason: /revoked/,
  },
  {
    name: 'plain signature by the CA key, listed only as cert-authority',
    signers: 'me cert-authority ${ca}',
    sigFile: 'cadata.sig',
    reason: /no line allows "me" to sign with ED25519 key/,
  },
];

for (const c of CASES) {
  test(`negative: ${c.name} → ssh-keygen 255, sshkit 1 with a reason`, () => {
    const fill = (s: string) => s.replace(/\$\{pub\}/g, pub).replace(/\$\{other\}/g, other).replace(/\$\{ca\}/g, ca);
    const signers = p(`signers-${c.name.replace(/\W/g, '_')}`);
    writeFileSync(signers, fill(c.signers) + '\n');
    const sigPath = c.sig ? p(`sig-${c.name.replace(/\W/g, '_')}`) : p(c.sigFile ?? 'data.sig');
    if (c.sig) writeFileSync(sigPath, c.sig());
    const extra: string[] = [];
    if (c.revoked) {
      writeFileSync(p('revoked'), fill(c.revoked));
      extra.push('-r', p('revoked'));
    }
    const input = c.data ?? readFileSync(p('data'), 'utf8');
    const args = ['-f', signers, '-I', c.id ?? 'me', '-n', c.ns ?? 'file', '-s', sigPath, ...extra];
    writeFileSync(p('input'), input);
    assert.equal(keygenFrom(['-Y', 'verify', ...args], p('input')), 255, 'ssh-keygen accepted it');
    const ours = sshkit(['verify-signature', ...args], { input });
    assert.equal(ours.status, 1, ours.stdout + ours.stderr);
    assert.equal(ours.stdout, '');
    assert.match(ours.stderr, c.reason);
    assert.match(ours.stderr, /Could not verify signature\.\n$/);
    assert.doesNotMatch(ours.stderr, /at .*\.js:\d+/);
    const j = sshkit(['verify-signature', '--json', ...args], { input });
    assert.equal(j.status, 1);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.result, 'bad');
    assert.match(doc.reason, c.reason);
  });
}

const MALFORMED: [string, () => Buffer | string][] = [
  ['empty file', () => ''],
  ['garbage text', () => 'hello world\n'],
  ['missing footer', () => readFileSync(p('data.sig'), 'utf8').replace(/-----END[^\n]*\n/, '')],
  ['bad base64', () => readFileSync(p('data.sig'), 'utf8').replace(/\n(.)/, '\n!')],
  ['bad magic', () => armor(Buffer.concat([Buffer.from('SSHSIX'), blobOf(readFileSync(p('data.sig'), 'utf8')).subarray(6)]))],
  ['version 2', () => {
    const b = blobOf(readFileSync(p('data.sig'), 'utf8'));
    b.writeUInt32BE(2, 6);
    return armor(b);
  }],
  ['truncated blob', () => armor(blobOf(readFileSync(p('data.sig'), 'utf8')).subarray(0, 60))],
  ['trailing bytes in blob', () => armor(Buffer.concat([blobOf(readFileSync(p('data.sig'), 'utf8')), Buffer.from([0, 0, 0, 0])]))],
  ['truncated file', () => readFileSync(p('data.sig')).subarray(0, 100)],
  ['10 MB of garbage', () => Buffer.alloc(10 * 1024 * 1024, 0x41)],
];

for (const [name, make] of MALFORMED) {
  test(`malformed signature: ${name} → exit 2, one line`, () => {
    const sig = p(`bad-${name.replace(/\W/g, '_')}.sig`);
    writeFileSync(sig, make());
    writeFileSync(p('ok-signers'), `me ${pub}\n`);
    const args = ['-f', p('ok-signers'), '-I', 'me', '-n', 'file', '-s', sig];
    const input = readFileSync(p('data'));
    assert.equal(keygenFrom(['-Y', 'verify', ...args], p('data')), 255);
    const ours = sshkit(['verify-signature', ...args], { input });
    assert.equal(ours.status, 2, ours.stderr);
    assert.equal(ours.stdout, '');
    assert.match(ours.stderr, /^sshkit: [^\n]+\n$/);
    const fp = sshkit(['find-principals', '-f', p('ok-signers'), '-s', sig]);
    assert.equal(fp.status, 2);
    assert.match(fp.stderr, /^sshkit: [^\n]+\n$/);
  });
}

test('bad input files: missing signature / allowed_signers / data → exit 2, one line', () => {
  writeFileSync(p('ok-signers'), `me ${pub}\n`);
  for (const args of [
    ['-f', p('ok-signers'), '-I', 'me', '-n', 'file', '-s', p('nope.sig'), p('data')],
    ['-f', p('nope'), '-I', 'me', '-n', 'file', '-s', p('data.sig'), p('data')],
    ['-f', p('ok-signers'), '-I', 'me', '-n', 'file', '-s', p('data.sig'), p('no-data')],
  ]) {
    const r = sshkit(['verify-signature', ...args]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
  }
});

test('find-principals: no match → exit 1 and "No principal matched." (as ssh-keygen)', () => {
  writeFileSync(p('fp-signers'), `someone ${other}\n`);
  const ref = openssh('ssh-keygen', ['-Y', 'find-principals', '-f', p('fp-signers'), '-s', p('data.sig')]);
  assert.equal(ref.status, 255);
  const ours = sshkit(['find-principals', '-f', p('fp-signers'), '-s', p('data.sig')]);
  assert.equal(ours.status, 1);
  assert.equal(ours.stderr, ref.stderr);
});

test('a revoked-keys file with an unreadable line fails closed (exit 2), as ssh-keygen refuses too', () => {
  writeFileSync(p('ok-signers'), `me ${pub}\n`);
  writeFileSync(p('bad-revoked'), `garbage line\n${other}\n`);
  const args = ['-f', p('ok-signers'), '-I', 'me', '-n', 'file', '-s', p('data.sig'), '-r', p('bad-revoked')];
  assert.equal(keygenFrom(['-Y', 'verify', ...args], p('data')), 255, 'ssh-keygen refuses');
  const ours = sshkit(['verify-signature', ...args], { input: readFileSync(p('data')) });
  assert.equal(ours.status, 2, ours.stdout + ours.stderr);
  assert.equal(ours.stdout, '');
  assert.doesNotMatch(ours.stderr, /Good/);
  assert.match(ours.stderr, /bad-revoked:1: not a public key\nsshkit: .*bad-revoked: unreadable revoked-keys file/);
});

/**
 * Contract defects of sign / verify-signature found by the acceptance run (issue 10 items 6, 7, 11):
 * data named `-` is stdin; `sign` checks every input before its first progress line; the core's
 * verify refuses to answer without a trust anchor. Expected lines come from ssh-keygen -Y run here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { verifySignatureFile, type VerifyRequest } from '../src/core/sshsig-verify.js';
import { SshkitError } from '../src/core/errors.js';
import { parsePublicKeyText } from '../src/core/key.js';
import { createHash } from 'node:crypto';

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sshsig-cli-'));
  const ok = (args: string[]) => assert.equal(openssh('ssh-keygen', args).status, 0, `ssh-keygen ${args.join(' ')}`);
  ok(['-q', '-t', 'ed25519', '-N', '', '-f', p('k')]);
  writeFileSync(p('data'), 'signed on stdin\n');
  ok(['-Y', 'sign', '-f', p('k'), '-n', 'file', p('data')]);
  writeFileSync(p('signers'), `me ${readFileSync(p('k.pub'), 'utf8')}`);
});
after(() => cleanup());

test('verify-signature … - reads the data from stdin and prints ssh-keygen -Y verify\'s line (issue 10 item 6)', () => {
  const args = ['-f', p('signers'), '-I', 'me', '-n', 'file', '-s', p('data.sig')];
  const ref = openssh('ssh-keygen', ['-Y', 'verify', ...args], { input: readFileSync(p('data')) });
  assert.equal(ref.status, 0, ref.stderr);
  const named = sshkit(['verify-signature', ...args, p('data')]); // control: the file by name
  assert.equal(named.status, 0, named.stderr);
  assert.equal(named.stdout, ref.stdout);
  const dash = sshkit(['verify-signature', ...args, '-'], { input: readFileSync(p('data')) });
  assert.equal(dash.status, 0, dash.stderr);
  assert.equal(dash.stdout, ref.stdout);
  const other = sshkit(['verify-signature', ...args, '-'], { input: 'other data\n' });
  assert.equal(other.status, 1, 'stdin really is what is checked');
});

test('sign -f K -n file MISSING: one error line and no progress line before it (issue 10 item 7)', () => {
  writeFileSync(p('a'), 'a\n');
  const r = sshkit(['sign', '-f', p('k'), '-n', 'file', p('a'), p('MISSING')]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, `sshkit: ${p('MISSING')}: No such file or directory\n`);
  assert.equal(existsSync(p('a.sig')), false, 'nothing is signed when an input is bad');
  const dirArg = sshkit(['sign', '-f', p('k'), '-n', 'file', dir]);
  assert.equal(dirArg.status, 2);
  assert.equal(dirArg.stderr, `sshkit: ${dir}: Is a directory\n`);
  // control: the same command without the missing file signs, announcing as ssh-keygen -Y sign does
  const ok = sshkit(['sign', '-f', p('k'), '-n', 'file', p('a')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr, `Signing file ${p('a')}\nWrite signature to ${p('a')}.sig\n`);
  assert.equal(openssh('ssh-keygen', ['-Y', 'verify', '-f', p('signers'), '-I', 'me', '-n', 'file', '-s', p('a.sig')], { input: 'a\n' }).status, 0);
});

test('the core verify needs a trust anchor: without one it refuses, with the key it is Good (issue 10 item 11)', async () => {
  const base = {
    signature: readFileSync(p('data.sig')),
    digest: async (h: string) => createHash(h).update(readFileSync(p('data'))).digest(),
    namespace: 'file',
    now: Math.floor(Date.now() / 1000),
  };
  // @ts-expect-error the anchor is a required property
  const typed: VerifyRequest = { ...base };
  await assert.rejects(verifySignatureFile(typed), (err: unknown) => err instanceof SshkitError && /trust anchor/.test(err.message));
  await assert.rejects(verifySignatureFile({ ...base, anchor: { kind: 'public-key' } } as unknown as VerifyRequest), SshkitError);
  await assert.rejects(verifySignatureFile({ ...base, anchor: { kind: 'allowed-signers' } } as unknown as VerifyRequest), SshkitError);
  const key = parsePublicKeyText(readFileSync(p('k.pub'), 'utf8')).blob;
  const good = await verifySignatureFile({ ...base, anchor: { kind: 'public-key', blob: key } });
  assert.equal(good.ok, true);
  const listed = await verifySignatureFile({ ...base, anchor: { kind: 'allowed-signers', text: readFileSync(p('signers'), 'utf8'), path: 'signers', principal: 'me' } });
  assert.equal(listed.ok, true);
  const nobody = await verifySignatureFile({ ...base, anchor: { kind: 'allowed-signers', text: '', path: 'empty', principal: 'me' } });
  assert.equal(nobody.ok, false);
});

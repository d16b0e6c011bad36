/**
 * `sshkit certify -s CA.pub` with the CA's private key in a real OpenSSH ssh-agent (SSH_AUTH_SOCK), as
 * `ssh-keygen -s CA.pub -U`: the certificates list under `ssh-keygen -L` exactly as ssh-keygen's own
 * agent-signed ones (an RSA CA signs rsa-sha2-512 through the agent's flag); refused, exit 2, with no
 * agent or when the agent lacks the CA key, beside the passing runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openssh, sshkit, tempDir } from './helpers.js';
import { certPath, copyPub, keygenList, makeKey } from './certify-helper.js';

describe('certify with the CA key in ssh-agent', () => {
  const { dir, cleanup } = tempDir('sshkit-certify-agent-');
  const sock = join(dir, 'agent.sock');
  let agent: ChildProcess;
  const env = { SSH_AUTH_SOCK: sock };
  const cas = new Map<string, string>();
  let subject = '';
  let stranger = '';

  before(async () => {
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), 'ssh-agent did not create its socket');
    for (const t of ['ed25519', 'ecdsa384', 'rsa2048']) {
      const ca = makeKey(dir, `ca_${t}`, t);
      cas.set(t, ca);
      const r = openssh('ssh-add', ['-q', ca], { env }); // ssh-add CA
      assert.equal(r.status, 0, r.stderr);
    }
    subject = makeKey(dir, 'subject', 'ecdsa256');
    stranger = makeKey(dir, 'stranger_ca', 'ed25519'); // never added to the agent
  });
  after(() => {
    agent.kill();
    cleanup();
  });

  for (const t of ['ed25519', 'ecdsa384', 'rsa2048']) {
    it(`-s CA.pub (${t}) signs through the agent; ssh-keygen -L lists it as ssh-keygen -s -U's certificate`, () => {
      const ca = cas.get(t)!;
      const k = copyPub(subject, dir, `k_${t}`);
      const s = copyPub(subject, dir, `s_${t}`);
      const flags = ['-I', 'agent', '-n', 'alice', '-V', '20200101:20300101'];
      const kr = openssh('ssh-keygen', ['-q', '-U', '-s', `${ca}.pub`, ...flags, k], { env }); // ssh-keygen -U -s CA.pub …
      assert.equal(kr.status, 0, kr.stderr);
      const sr = sshkit(['certify', '-q', '-s', `${ca}.pub`, ...flags, s], { env });
      assert.equal(sr.status, 0, sr.stderr);
      const listed = keygenList(certPath(s));
      assert.equal(listed.replace(certPath(s), certPath(k)), keygenList(certPath(k)));
      if (t === 'rsa2048') assert.match(listed, /\(using rsa-sha2-512\)/);
    });
  }

  it('-U takes the agent even when -s names the private key file', () => {
    const ca = cas.get('ed25519')!;
    const s = copyPub(subject, dir, 'u_flag');
    const r = sshkit(['certify', '-q', '-U', '-s', ca, '-I', 'u', s], { env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(keygenList(certPath(s)), /Key ID: "u"/);
  });

  it('refused without SSH_AUTH_SOCK, and when the agent lacks the CA key (nothing written)', () => {
    const s = copyPub(subject, dir, 'refused');
    const none = sshkit(['certify', '-s', `${cas.get('ed25519')}.pub`, '-I', 'x', s]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^sshkit: .*SSH_AUTH_SOCK is not set\n$/);
    const missing = sshkit(['certify', '-s', `${stranger}.pub`, '-I', 'x', s], { env });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /not found in ssh-agent\n$/);
    assert.ok(!existsSync(certPath(s)));
    const gone = sshkit(['certify', '-s', `${cas.get('ed25519')}.pub`, '-I', 'x', s], { env: { SSH_AUTH_SOCK: join(dir, 'nosuch.sock') } });
    assert.equal(gone.status, 2);
    assert.match(gone.stderr, /^sshkit: ssh-agent: .*cannot connect/);
    const ok = sshkit(['certify', '-s', `${cas.get('ed25519')}.pub`, '-I', 'x', s], { env }); // control
    assert.equal(ok.status, 0, ok.stderr);
  });
});

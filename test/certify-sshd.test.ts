/**
 * Certificates sshkit made, used by the real OpenSSH: sshd with `TrustedUserCAKeys` and with a
 * `cert-authority,principals=` line accepts sshkit's user certificates for listed principals and refuses
 * others (each refusal beside a passing login on the same server); `ssh` with an `@cert-authority`
 * known_hosts line accepts the host certificate sshkit made for sshd's `HostCertificate` (and refuses
 * it under another CA or for a name it does not list).
 */
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAsync, tempDir } from './helpers.js';
import { sshArgs } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { certPath, copyPub, makeKey, sshkitSign } from './certify-helper.js';

describe('sshd and ssh accept what sshkit certify makes', () => {
  const { dir, cleanup } = tempDir('sshkit-certify-sshd-');
  let sshd: StartedSshd;
  let userCa = '';
  let hostCa = '';
  let otherCa = '';
  let user = '';

  /** A fresh user key certified by sshkit with ARGS; returns the private key path (KEY-cert.pub beside it). */
  function userKey(name: string, ca: string, args: string[], type = 'ed25519'): string {
    const key = makeKey(dir, name, type);
    sshkitSign(ca, ['-I', name, ...args], [`${key}.pub`]);
    return key;
  }

  /** ssh -i KEY (with its certificate) as `login` to the sshd; resolves with the status and stderr. */
  function login(key: string, login: string, extra: string[] = []) {
    const args = sshArgs(sshd.port, { key, user: login, command: 'echo logged-in', extra: ['-o', `CertificateFile=${certPath(`${key}.pub`)}`, ...extra] });
    return runAsync('ssh', args);
  }

  before(async () => {
    userCa = makeKey(dir, 'user_ca', 'ecdsa384');
    hostCa = makeKey(dir, 'host_ca', 'rsa2048');
    otherCa = makeKey(dir, 'other_ca', 'ed25519');
    const hostKey = makeKey(dir, 'host_key', 'ed25519');
    sshkitSign(hostCa, ['-h', '-I', 'sshd host', '-n', '127.0.0.1,localhost', '-V', '-1d:+1d'], [`${hostKey}.pub`]);
    const deployCa = makeKey(dir, 'deploy_ca', 'ed25519');
    sshd = await startSshd({
      hostKeys: [hostKey],
      config: [`HostCertificate ${certPath(`${hostKey}.pub`)}`, `TrustedUserCAKeys ${userCa}.pub`],
      authorizedKeys: [`cert-authority,principals="deploy,ops" ${readFileSync(`${deployCa}.pub`, 'utf8').trim()}`],
    });
    user = sshd.user;
  });
  after(async () => {
    await sshd?.stop();
    cleanup();
  });

  it('TrustedUserCAKeys: a certificate for the login user logs in; other principals, expiry, another CA are refused', async () => {
    const good = userKey('u_good', userCa, ['-n', `nobody,${user}`, '-V', '-5m:+1h']);
    const ok = await login(good, user);
    assert.equal(ok.status, 0, ok.stderr + sshd.logs());
    assert.equal(ok.stdout, 'logged-in\n');
    const rsa = userKey('u_rsa', userCa, ['-n', user], 'rsa2048');
    assert.equal((await login(rsa, user)).status, 0, 'an RSA user certificate');
    for (const [name, ca, args] of [
      ['u_other', userCa, ['-n', 'someone-else']],
      ['u_none', userCa, []],
      ['u_expired', userCa, ['-n', user, '-V', '20200101:20210101']],
      ['u_future', userCa, ['-n', user, '-V', '+1d:+2d']],
      ['u_wrongca', otherCa, ['-n', user]],
      ['u_hostcert', userCa, ['-h', '-n', user]],
    ] as const) {
      const r = await login(userKey(name, ca, [...args]), user);
      assert.equal(r.status, 255, `${name} logged in`);
      assert.match(r.stderr, /Permission denied/);
    }
    assert.equal((await login(good, user)).status, 0, 'control after the refusals');
  });

  it('a cert-authority,principals= line: listed principals log in, others are refused', async () => {
    const deployCa = join(dir, 'deploy_ca');
    const deploy = userKey('d_deploy', deployCa, ['-n', 'deploy']);
    const ok = await login(deploy, user);
    assert.equal(ok.status, 0, ok.stderr + sshd.logs());
    const ops = userKey('d_ops', deployCa, ['-n', 'x,ops']);
    assert.equal((await login(ops, user)).status, 0);
    const other = userKey('d_other', deployCa, ['-n', user]);
    const r = await login(other, user);
    assert.equal(r.status, 255, 'a principal the line does not list');
    const forced = userKey('d_forced', deployCa, ['-n', 'deploy', '-O', 'force-command=echo forced']);
    const f = await login(forced, user);
    assert.equal(f.status, 0, f.stderr);
    assert.equal(f.stdout, 'forced\n', "sshd ran the certificate's force-command");
  });

  it("ssh with @cert-authority accepts sshd's sshkit-made host certificate; another CA or name is refused", async () => {
    const key = userKey('h_user', userCa, ['-n', user]);
    const caLine = (ca: string, names: string) => `@cert-authority ${names} ${readFileSync(`${ca}.pub`, 'utf8').trim()}\n`;
    // sshArgs' own UserKnownHostsFile=/dev/null and StrictHostKeyChecking=no are replaced (ssh keeps the first value)
    const strict = (kh: string, extra: string[] = []) => {
      const args = sshArgs(sshd.port, { key, user, command: 'echo logged-in', extra: ['-o', `CertificateFile=${certPath(`${key}.pub`)}`, '-o', 'HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com', ...extra] });
      return runAsync('ssh', args.map((a) => (a === 'StrictHostKeyChecking=no' ? 'StrictHostKeyChecking=yes' : a === 'UserKnownHostsFile=/dev/null' ? `UserKnownHostsFile=${kh}` : a)));
    };
    const good = join(dir, 'kh_good');
    writeFileSync(good, caLine(hostCa, `[127.0.0.1]:${sshd.port},[localhost]:${sshd.port}`));
    const ok = await strict(good);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'logged-in\n');
    const wrong = join(dir, 'kh_wrong');
    writeFileSync(wrong, caLine(otherCa, `[127.0.0.1]:${sshd.port}`));
    const bad = await strict(wrong);
    assert.equal(bad.status, 255);
    assert.match(bad.stderr, /Host key verification failed/);
    // the certificate lists 127.0.0.1 and localhost: under another name (HostKeyAlias) the same CA is not enough
    const alias = join(dir, 'kh_alias');
    writeFileSync(alias, caLine(hostCa, 'unlisted.example'));
    const r = await strict(alias, ['-o', 'HostKeyAlias=unlisted.example']);
    assert.equal(r.status, 255, 'a host name the certificate does not list');
  });
});

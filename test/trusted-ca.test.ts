/**
 * `sshkit serve --trusted-user-ca-keys FILE [--authorized-principals PATH]` (issue 17) against sshd 9.2
 * given `TrustedUserCAKeys FILE` [`AuthorizedPrincipalsFile PATH`] on the very same files: for each
 * certificate (made by `ssh-keygen -s`) and each principals-file text, both servers must give the same
 * verdict and, when they admit, the same output (a forced command from the principals line or the
 * certificate). Every table mixes logins and refusals, so neither a server that admits nothing nor one
 * that admits everything can pass.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runAsync, tempDir } from './helpers.js';
import { sshArgs, startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { certPath, keygenSign, makeKey } from './certify-helper.js';

describe('--trusted-user-ca-keys and --authorized-principals, beside sshd', () => {
  const { dir, cleanup } = tempDir('sshkit-trusted-ca-');
  const ca = join(dir, 'ca');
  const principalsDir = join(dir, 'principals');
  let user = '';
  const certs = new Map<string, string>();
  let plain = '';
  const servers: Array<StartedServer | StartedSshd> = [];

  /** A fresh key certified by ssh-keygen -s CA ARGS; returns the private key path. */
  function certified(name: string, signer: string, args: string[]): string {
    const k = makeKey(dir, name, 'ed25519');
    keygenSign(signer, ['-I', name, ...args], [`${k}.pub`]);
    return k;
  }
  const login = (port: number, k: string) =>
    runAsync('ssh', sshArgs(port, { key: k, user, command: 'echo logged-in', extra: certs.has(k) ? ['-o', `CertificateFile=${certPath(`${k}.pub`)}`] : [] }));
  const verdict = async (port: number, k: string) => {
    const r = await login(port, k);
    return r.status === 0 ? `in:${r.stdout.trim()}` : `refused:${r.status}`;
  };

  before(() => {
    makeKey(dir, 'ca', 'ed25519');
    makeKey(dir, 'other_ca', 'ecdsa256');
    mkdirSync(principalsDir, { mode: 0o700 });
    user = process.env.USER ?? 'root';
  });
  after(async () => {
    for (const s of servers) await s.stop();
    cleanup();
  });

  /** Certificates, by name → the ssh-keygen -s arguments; filled once the user name is known. */
  function makeCerts(u: string): Record<string, string> {
    const table: Record<string, [string, string[]]> = {
      user: ['ca', ['-n', `nobody-else,${u}`, '-V', '-5m:+1h']],
      deploy: ['ca', ['-n', 'deploy,ops']],
      other: ['ca', ['-n', 'someone']],
      none: ['ca', []],
      expired: ['ca', ['-n', u, '-V', '20200101:20210101']],
      future: ['ca', ['-n', u, '-V', '+1d:+2d']],
      wrongca: ['other_ca', ['-n', u]],
      srcNo: ['ca', ['-n', `${u},deploy`, '-O', 'source-address=10.0.0.0/8']],
      srcOk: ['ca', ['-n', `${u},deploy`, '-O', 'source-address=127.0.0.1/32']],
      forced: ['ca', ['-n', `${u},deploy`, '-O', 'force-command=echo cert-forced']],
      host: ['ca', ['-h', '-n', u]],
    };
    const out: Record<string, string> = {};
    for (const [name, [signer, args]] of Object.entries(table)) {
      const k = certified(`c_${name}`, join(dir, signer), args);
      certs.set(k, name);
      out[name] = k;
    }
    return out;
  }

  it('without a principals file: the user name must be a principal (same verdicts as sshd TrustedUserCAKeys)', async () => {
    const sshd = await startSshd({ config: [`TrustedUserCAKeys ${ca}.pub`] });
    servers.push(sshd);
    user = sshd.user;
    const c = makeCerts(user);
    plain = makeKey(dir, 'plain', 'ed25519');
    const srv = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`] });
    servers.push(srv);
    const got: string[] = [];
    for (const name of ['user', 'deploy', 'other', 'none', 'expired', 'future', 'wrongca', 'srcNo', 'srcOk', 'forced', 'host', 'plain'] as const) {
      const k = name === 'plain' ? plain : c[name];
      const [want, have] = await Promise.all([verdict(sshd.port, k), verdict(srv.port, k)]);
      got.push(`${name}=${want}`);
      assert.equal(have, want, `${name}: sshd ${want}, sshkit ${have}\n${srv.logs().split('\n').slice(-6).join('\n')}`);
    }
    assert.ok(got.includes('user=in:logged-in') && got.includes('forced=in:cert-forced') && got.includes('other=refused:255') && got.includes('expired=refused:255'), got.join(' '));
  });

  it('with a principals file (%u): first matching line decides, its options apply, a missing file refuses (same as sshd AuthorizedPrincipalsFile)', async () => {
    const path = join(principalsDir, '%u');
    const sshd = await startSshd({ config: [`TrustedUserCAKeys ${ca}.pub`, `AuthorizedPrincipalsFile ${path}`] });
    servers.push(sshd);
    const srv = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`, '--authorized-principals', path] });
    servers.push(srv);
    const file = join(principalsDir, user);
    const byName = new Map([...certs].map(([k, n]) => [n, k]));
    const TEXTS: Array<[string, string | null, string[]]> = [
      ['one principal', 'deploy\n', ['deploy', 'user', 'other', 'forced', 'expired']],
      ['the user name is no fallback', 'ops\n', ['user', 'deploy']],
      ['comments and blanks', '# fleet\n\n  ops   # trailing comment\n', ['deploy', 'user']],
      ['from= refusing on the first match', 'from="10.9.9.9" deploy\ndeploy\n', ['deploy', 'srcOk']],
      ['from= admitting', 'from="127.0.0.1" deploy\n', ['deploy']],
      ['command= forced', 'command="echo from-principals" deploy\n', ['deploy', 'forced']],
      ['a bad options line is skipped', 'no-such-option deploy\ndeploy\n', ['deploy']],
      ['expiry-time= in the past', 'expiry-time="20200101" deploy\n', ['deploy']],
      ['restrict,pty is allowed', 'restrict,pty ops\n', ['deploy']],
      ['missing file', null, ['deploy', 'user']],
    ];
    const got: string[] = [];
    for (const [what, text, names] of TEXTS) {
      if (text === null) rmSync(file, { force: true });
      else writeFileSync(file, text, { mode: 0o600 });
      for (const name of names) {
        const k = byName.get(name)!;
        const [want, have] = await Promise.all([verdict(sshd.port, k), verdict(srv.port, k)]);
        got.push(`${what}/${name}=${want}`);
        assert.equal(have, want, `${what} / ${name}: sshd ${want}, sshkit ${have}\n${srv.logs().split('\n').slice(-6).join('\n')}`);
      }
    }
    for (const expect of ['one principal/deploy=in:logged-in', 'one principal/user=refused:255', 'from= refusing on the first match/deploy=refused:255', 'command= forced/deploy=in:from-principals', 'missing file/deploy=refused:255']) {
      assert.ok(got.includes(expect), `${expect} not in ${got.join(' ')}`);
    }
    assert.match(srv.logs(), /authorized-principals-missing .*effect="no principals: certificates refused"/);
  });

  it('a user name holding a comma is never split into principals (a certificate for "deploy" cannot log in as "x,deploy")', async () => {
    const srv = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`] });
    servers.push(srv);
    const k = byNameOf('deploy');
    const as = (u: string) => runAsync('ssh', sshArgs(srv.port, { key: k, user: u, command: 'echo logged-in', extra: ['-o', `CertificateFile=${certPath(`${k}.pub`)}`] }));
    assert.equal((await as('deploy')).status, 0, 'control: the principal itself');
    for (const u of ['x,deploy', 'deploy,', '"deploy"']) assert.equal((await as(u)).status, 255, u);
  });

  it('a revoked CA is refused; the same certificate logs in without --revoked (control)', async () => {
    const c = byNameOf('user');
    const open = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`] });
    const revoked = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`, '--revoked', `${ca}.pub`] });
    servers.push(open, revoked);
    assert.equal(await verdict(open.port, c), 'in:logged-in');
    assert.equal(await verdict(revoked.port, c), 'refused:255');
  });

  it('--authorized-principals alone or with an unknown token refuses to start; with the CA file it starts', async () => {
    for (const [args, why] of [
      [['--authorized-principals', join(principalsDir, '%u')], /needs --trusted-user-ca-keys/],
      [['--trusted-user-ca-keys', `${ca}.pub`, '--authorized-principals', join(principalsDir, '%k')], /unknown token %k/],
    ] as const) {
      const r = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), ...args] }).then(
        (s) => s.stop().then(() => 'started'),
        (e: Error) => e.message,
      );
      assert.match(r, /server exited \(2\)/);
      assert.match(r, why);
    }
    const ok = await startServer({ args: ['--authorized', join(dir, 'empty_authorized_keys'), '--trusted-user-ca-keys', `${ca}.pub`, '--authorized-principals', join(principalsDir, '%u')] });
    servers.push(ok);
    assert.ok(ok.port > 0);
  });

  function byNameOf(name: string): string {
    for (const [k, n] of certs) if (n === name) return k;
    throw new Error(`no certificate ${name}`);
  }
});

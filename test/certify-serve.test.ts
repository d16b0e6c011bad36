/**
 * `sshkit serve` takes user certificates made by `sshkit certify` exactly as it takes those made by
 * `ssh-keygen -s` (same keys, same CA, same flags), through `cert-authority` lines of its authorized
 * file: the real `ssh` logs in with a certificate for a listed principal and is refused otherwise, and
 * both tools' certificates get the same answer in every case (each refusal beside a passing login).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './helpers.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { certPath, keygenSign, makeKey, sshkitSign, copyPub } from './certify-helper.js';

describe('sshkit serve accepts certificates from sshkit certify as from ssh-keygen -s', () => {
  const { dir, cleanup } = tempDir('sshkit-certify-serve-');
  let srv: StartedServer;
  let byName: string; // CA whose line has no principals=: the login name must be a principal
  let byList: string; // CA whose line says principals="deploy,ops"
  let stranger: string;

  before(async () => {
    byName = makeKey(dir, 'ca_name', 'ed25519');
    byList = makeKey(dir, 'ca_list', 'rsa2048');
    stranger = makeKey(dir, 'ca_stranger', 'ecdsa256');
    const auth = join(dir, 'authorized_keys');
    const line = (ca: string) => readFileSync(`${ca}.pub`, 'utf8').trim();
    writeFileSync(auth, `cert-authority ${line(byName)}\ncert-authority,principals="deploy,ops" ${line(byList)}\n`);
    srv = await startServer({ args: ['--authorized', auth] });
  });
  after(async () => {
    await srv?.stop();
    cleanup();
  });

  /** One user key, certified by both tools with the same flags; the two private-key paths. */
  function certifyBoth(name: string, ca: string, args: string[], type = 'ed25519'): [string, string] {
    const key = makeKey(dir, name, type);
    const k = copyPub(key, dir, `${name}_keygen`);
    const s = copyPub(key, dir, `${name}_sshkit`);
    keygenSign(ca, ['-I', name, ...args], [k]);
    sshkitSign(ca, ['-I', name, ...args], [s]);
    return [k, s].map((p) => p.replace(/\.pub$/, '')) as [string, string];
  }

  async function tryLogin(pubBase: string, key: string, user: string): Promise<number | null> {
    const r = await sshRun(srv.port, { key, user, command: 'whoami', extra: ['-o', `CertificateFile=${certPath(`${pubBase}.pub`)}`] });
    if (r.status === 0) assert.equal(r.stdout, `${user}\n`);
    return r.status;
  }

  const CASES: Array<[string, 'name' | 'list' | 'stranger', string[], string, 'ok' | 'refused']> = [
    ['n_alice', 'name', ['-n', 'alice'], 'alice', 'ok'],
    ['n_bob', 'name', ['-n', 'alice'], 'bob', 'refused'],
    ['n_none', 'name', [], 'alice', 'refused'],
    ['n_expired', 'name', ['-n', 'alice', '-V', '20200101:20210101'], 'alice', 'refused'],
    ['n_host', 'name', ['-h', '-n', 'alice'], 'alice', 'refused'],
    ['n_rsa', 'name', ['-n', 'x,alice', '-V', '-1h:+1h'], 'alice', 'ok'],
    ['l_deploy', 'list', ['-n', 'deploy'], 'anyone', 'ok'],
    ['l_alice', 'list', ['-n', 'alice'], 'alice', 'refused'],
    ['l_crit', 'list', ['-n', 'ops', '-O', 'critical:unknown@example.com'], 'ops', 'refused'],
    ['l_ops', 'list', ['-n', 'ops', '-O', 'source-address=127.0.0.0/8'], 'ops', 'ok'],
    ['l_src', 'list', ['-n', 'ops', '-O', 'source-address=10.0.0.0/8'], 'ops', 'refused'],
    ['s_alice', 'stranger', ['-n', 'alice'], 'alice', 'refused'],
  ];

  for (const [name, which, args, user, want] of CASES) {
    it(`${name}: ${args.join(' ') || '(no flags)'} as ${user} → ${want}, for both tools' certificates`, async () => {
      const ca = which === 'name' ? byName : which === 'list' ? byList : stranger;
      const [k, s] = certifyBoth(name, ca, args, name === 'n_rsa' ? 'rsa2048' : 'ed25519');
      const key = join(dir, name);
      const statusK = await tryLogin(k, key, user);
      const statusS = await tryLogin(s, key, user);
      assert.equal(statusS, statusK, `sshkit's certificate: ${statusS}, ssh-keygen's: ${statusK}`);
      assert.equal(statusS, want === 'ok' ? 0 : 255, srv.logs().split('\n').slice(-6).join('\n'));
    });
  }
});

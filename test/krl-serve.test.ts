/**
 * Revocation at login and at connect, against the real OpenSSH in the same run:
 * - OpenSSH's sshd with `RevokedKeys` = a KRL `sshkit krl` wrote refuses what sshkit revoked (a key,
 *   a certificate by serial under its CA, by key ID, a certificate whose CA is revoked) and lets the
 *   controls in; `sshkit serve --revoked` does exactly the same with the same file;
 * - serve re-reads the file when it changes (a KRL ssh-keygen wrote, then a plain key list), and a
 *   malformed or missing file denies every key, controls included, with a log line (fails closed);
 * - `sshkit exec --revoked-host-keys` refuses a host key a KRL revokes (control: another KRL passes).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshkit } from './helpers.js';
import { execCli, oneLine } from './exec-helper.js';
import { keygen, makeFixture, writeSpec, type KrlFixture } from './krl-fixture.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';

let f: KrlFixture;
let srv: StartedServer;
let sshd: StartedSshd;
let krl = '';

/** Logins tried, and whether each must be refused by the first KRL. */
const LOGINS: [string, boolean][] = [
  ['u-ok', false],
  ['c-ok', false],
  ['c-id', false],
  ['u-ed', true],
  ['c-serial5', true],
  ['c-id2', true],
  ['c-ca2', true],
];

before(async () => {
  f = makeFixture();
  krl = f.p('revoked.krl');
  const spec = writeSpec(f, 'serve.spec', [f.pub('u-ed'), 'serial: 5', 'id: bob', f.pub('ca2')]);
  const w = sshkit(['krl', '-q', '-f', krl, '-s', f.p('ca1.pub'), spec]);
  assert.equal(w.status, 0, w.stderr);
  const authorized = [f.pub('u-ok'), f.pub('u-ed'), `cert-authority ${f.pub('ca1')}`, `cert-authority ${f.pub('ca2')}`];
  writeFileSync(f.p('authorized'), authorized.join('\n') + '\n');
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', f.p('host')]);
  writeFileSync(f.p('ca-keys'), `${f.pub('ca1')}\n${f.pub('ca2')}\n`);
  [srv, sshd] = await Promise.all([
    startServer({ args: ['--authorized', f.p('authorized'), '--revoked', krl, '--host-key', f.p('host')] }),
    startSshd({ authorizedKeys: [f.pub('u-ok'), f.pub('u-ed')], config: [`RevokedKeys ${krl}`, `TrustedUserCAKeys ${f.p('ca-keys')}`] }),
  ]);
});

after(async () => {
  await Promise.all([srv?.stop(), sshd?.stop()]);
  f?.cleanup();
});

async function loginServe(key: string): Promise<boolean> {
  const r = await sshRun(srv.port, { key: f.p(key), user: 'alice', command: 'whoami' });
  return r.status === 0 && r.stdout.trim() === 'alice';
}

async function loginSshd(key: string): Promise<boolean> {
  const r = await sshRun(sshd.port, { key: f.p(key), user: sshd.user, command: 'true' });
  return r.status === 0;
}

/** Replaces the revocation file the way an admin's tool would: a new file renamed over the old. */
function replace(data: string | Buffer): void {
  writeFileSync(`${krl}.new`, data);
  renameSync(`${krl}.new`, krl);
}

test('sshd RevokedKeys and serve --revoked refuse what sshkit krl revoked; the controls log in to both', async () => {
  for (const [key, revoked] of LOGINS) {
    assert.equal(await loginSshd(key), !revoked, `sshd ${key}`);
    assert.equal(await loginServe(key), !revoked, `serve ${key}`);
  }
  assert.match(srv.logs(), /key SHA256:\S+ revoked by \S*revoked\.krl/, 'the refusal is logged with the key and the file');
});

test('serve re-reads the file on change: a KRL ssh-keygen wrote, then a key list; malformed or missing denies every key', async () => {
  // ssh-keygen's KRL revoking only u-ok by SHA256 hash: u-ok now refused, u-ed (revoked before) admitted
  const hash = keygen(['-l', '-f', f.p('u-ok.pub')]).split(' ')[1];
  keygen(['-k', '-f', f.p('second.krl'), writeSpec(f, 'second.spec', [`hash: ${hash}`])]);
  replace(readFileSync(f.p('second.krl')));
  assert.equal(await loginServe('u-ok'), false, 'u-ok revoked by the new KRL');
  assert.equal(await loginServe('u-ed'), true, 'u-ed no longer revoked (the file was re-read)');
  assert.equal(await loginServe('c-serial5'), true);

  // a plain list of keys (sshd's other RevokedKeys form): the certified key of c-ok is listed
  replace(`# revoked\n${f.pub('c-ok')}\n`);
  assert.equal(await loginServe('c-ok'), false, 'a certificate of a listed key is revoked');
  assert.equal(await loginServe('u-ok'), true, 'control');

  // a malformed KRL: every key denied, logged
  replace(Buffer.concat([Buffer.from('SSHKRL\n\0', 'latin1'), Buffer.from([0, 0, 0, 1, 0, 0])]));
  for (const key of ['u-ok', 'c-ok', 'u-ed']) assert.equal(await loginServe(key), false, `${key} denied while the KRL is malformed`);
  await srv.waitForLog(/revoked-keys-unusable.*all keys denied|all keys denied.*revoked-keys-unusable/);

  // a bad line in a key list: every key denied (sshd's sshkey_in_file fails the same way)
  replace(`${f.pub('u-ed')}\nnot a key\n`);
  assert.equal(await loginServe('u-ok'), false);

  // missing: every key denied; put back: the control logs in again
  rmSync(krl);
  assert.equal(await loginServe('u-ok'), false, 'missing revocation file denies every key');
  replace(`${f.pub('u-ed')}\n`);
  assert.equal(await loginServe('u-ok'), true, 'readable again: control admitted');
  assert.equal(await loginServe('u-ed'), false);
});

test('exec --revoked-host-keys: a KRL revoking the host key refuses the connection (255); another KRL lets it through', async () => {
  const home = join(f.dir, 'home');
  writeFileSync(f.p('kh'), `[127.0.0.1]:${srv.port} ${f.pub('host')}\n`);
  keygen(['-k', '-f', f.p('host-revoked.krl'), writeSpec(f, 'host.spec', [f.pub('host')])]);
  keygen(['-k', '-f', f.p('host-other.krl'), writeSpec(f, 'host2.spec', [f.pub('u-rsa')])]);
  const run = (revoked: string) => execCli(['-i', f.p('u-ok'), '-p', String(srv.port), '--known-hosts', f.p('kh'), '--revoked-host-keys', revoked, 'alice@127.0.0.1', '--', 'whoami'], { home });
  const ok = await run(f.p('host-other.krl'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.toString().trim(), 'alice');
  const no = await run(f.p('host-revoked.krl'));
  assert.equal(no.status, 255);
  assert.match(oneLine(no.stderr), /revoked by .*host-revoked\.krl/);
  const missing = await run(f.p('no-such.krl'));
  assert.equal(missing.status, 255, 'an unreadable RevokedHostKeys fails the connection (as ssh)');
  oneLine(missing.stderr);
});

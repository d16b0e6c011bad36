/**
 * `sshkit serve` against the real OpenSSH client (`ssh -o BatchMode=yes`): public-key auth with keys made
 * by the real ssh-keygen, builtin commands over exec, exit statuses, refusals (exit 255), the RSA
 * signature policy (rsa-sha2-512 alone works; ssh-rsa is not advertised in server-sig-algs, so the client
 * cannot negotiate it — serve-auth.test.ts feeds a real SHA-1 signature to the checker), bad authorized_keys lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openssh, SSHKIT, tempDir, testEnv } from './helpers.js';
import { startServer, sshRun, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-serve-');
const key = (name: string, type = 'ed25519', bits?: string) => {
  const file = join(tmp.dir, name);
  const r = openssh('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', name, '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  return file;
};
const pub = (file: string) => readFileSync(file + '.pub', 'utf8').trim();

let ed: string, rsa: string, ec: string, stranger: string;
let srv: StartedServer;

before(async () => {
  ed = key('ed');
  rsa = key('rsa', 'rsa', '2048');
  ec = key('ec', 'ecdsa');
  stranger = key('stranger');
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, [pub(ed), 'ssh-ed25519 not-base64!! broken line', pub(rsa), pub(ec), ''].join('\n'));
  srv = await startServer({ args: ['--authorized', ak] });
});

after(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe('sshkit serve: public-key auth with the real ssh client', () => {
  test('an authorized key logs in: whoami, echo, exit statuses', async () => {
    const who = await sshRun(srv.port, { key: ed, user: 'alice', command: 'whoami' });
    assert.equal(who.status, 0, who.stderr);
    assert.equal(who.stdout, 'alice\n');
    const echo = await sshRun(srv.port, { key: ed, command: 'echo "hello   world" again' });
    assert.equal(echo.status, 0);
    assert.equal(echo.stdout, 'hello   world again\n');
    const missing = await sshRun(srv.port, { key: ed, command: 'no-such-command' });
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /no-such-command: command not found/);
    const quit = await sshRun(srv.port, { key: ed, command: 'quit' });
    assert.equal(quit.status, 0);
  });

  test('ECDSA and RSA keys log in; a client limited to rsa-sha2-512 or rsa-sha2-256 works', async () => {
    for (const [k, extra] of [
      [ec, []],
      [rsa, []],
      [rsa, ['-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-512']],
      [rsa, ['-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-256']],
    ] as Array<[string, string[]]>) {
      const r = await sshRun(srv.port, { key: k, command: 'whoami', extra });
      assert.equal(r.status, 0, `${k} ${extra.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, 'alice\n');
    }
    await srv.waitForLog(/algorithm=rsa-sha2-512 line=3 result=ok/);
  });

  test('the client cannot negotiate ssh-rsa: server-sig-algs omits it (exit 255)', async () => {
    const r = await sshRun(srv.port, { key: rsa, command: 'whoami', extra: ['-vvv', '-o', 'PubkeyAcceptedAlgorithms=ssh-rsa'] });
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied/);
    const algs = /server-sig-algs=<([^>]*)>/.exec(r.stderr);
    assert.ok(algs, `no server-sig-algs in ssh -vvv output:\n${r.stderr}`);
    const list = algs[1].split(',');
    assert.ok(list.includes('rsa-sha2-512') && list.includes('rsa-sha2-256'), algs[0]);
    assert.ok(!list.includes('ssh-rsa'), algs[0]);
    // serve-auth.test.ts feeds a real SHA-1 signature to the checker directly.
    assert.doesNotMatch(srv.logs(), /algorithm=ssh-rsa .*result=ok/);
  });

  test('an unauthorized key is refused with exit 255 and a logged reason and fingerprint', async () => {
    const r = await sshRun(srv.port, { key: stranger, command: 'whoami' });
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    const fp = openssh('ssh-keygen', ['-l', '-f', stranger + '.pub']).stdout.split(' ')[1];
    const want = `fingerprint=${fp} algorithm=ssh-ed25519 reason="key not authorized" result=fail`;
    await srv.waitForLog(new RegExp(want.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
  });

  test('a bad authorized_keys line is logged with its number; the other lines work', () => {
    assert.match(srv.logs(), /authorized-keys-error file=\S+authorized_keys line=2 /);
    assert.match(srv.logs(), /authorized-keys file=\S+ keys=3 errors=1/);
  });

  test('the listening line carries the host key fingerprint; stdout says how to connect', () => {
    assert.match(srv.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(srv.stdout().includes(`ssh -p ${srv.port} `));
    assert.ok(srv.stdout().includes(srv.hostKeyFingerprint));
  });
});

describe('sshkit serve: startup (issue 9 item 8, issue 10 item 8 and "first minute")', () => {
  const serveSync = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [SSHKIT, 'serve', '--host', '127.0.0.1', ...args], { env: testEnv({ XDG_CONFIG_HOME: tmp.dir, ...env }), encoding: 'utf8', timeout: 20_000 });

  test('a group/world-readable --host-key is refused with one line, as sshd refuses it; control: 0600 serves', async () => {
    const hk = key('hostkey-open');
    chmodSync(hk, 0o644);
    // Differential: sshd -t on the same file (sshkey_perm_ok) names the same problem.
    const cfg = join(tmp.dir, 'sshd_config_perm');
    writeFileSync(cfg, `HostKey ${hk}\n`);
    const d = spawnSync('/usr/sbin/sshd', ['-t', '-f', cfg], { env: testEnv(), encoding: 'utf8' });
    assert.match(d.stderr, /UNPROTECTED PRIVATE KEY FILE/);
    assert.notEqual(d.status, 0);
    const r = serveSync(['--port', '0', '--host-key', hk]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^sshkit: .*hostkey-open: UNPROTECTED PRIVATE KEY FILE: permissions 0644 are too open/);
    chmodSync(hk, 0o600);
    const ok = await startServer({ args: ['--host-key', hk] });
    assert.match(ok.logs(), /host-key file=\S*hostkey-open/);
    await ok.stop();
  });

  test('a busy port: one error line, exit 2, nothing logged before it; control: the same command serves once the port is free', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    const r = serveSync(['--port', String(port), '--authorized', join(tmp.dir, 'authorized_keys')]);
    await new Promise<void>((res) => blocker.close(() => res()));
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `sshkit: 127.0.0.1:${port}: address already in use\n`);
    const ok = await startServer({ args: ['--authorized', join(tmp.dir, 'authorized_keys')] });
    assert.match(ok.logs(), /host-key [\s\S]*listening/);
    await ok.stop();
  });

  test("a newcomer's first minute: fresh HOME, ssh-keygen, the printed command, then ssh logs in", async () => {
    const home = join(tmp.dir, 'newcomer');
    mkdirSync(home);
    const id = join(home, '.ssh', 'id_ed25519');
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', id]).status, 0);
    const s = await startServer({ env: { HOME: home } }); // default --authorized ~/.ssh/authorized_keys: missing
    try {
      for (let i = 0; i < 100 && !/connect:[^\n]*\n[\s\S]*run:.*\n/.test(s.stdout()); i++) await new Promise((r) => setTimeout(r, 50));
      const out = s.stdout();
      const cmd = /to let yourself in, run: {2}(.+)$/m.exec(out)?.[1];
      assert.ok(cmd, `the banner names the command:\n${out}`);
      assert.match(out, /nobody can log in yet: no key in .*authorized_keys/);
      const connect = /connect: {2}ssh -p (\d+) (\S+)@127\.0\.0\.1/.exec(out);
      assert.ok(connect, out);
      const before = await sshRun(s.port, { key: id, user: connect[2].split('@')[0], command: 'whoami' });
      assert.equal(before.status, 255, 'refused before the command is run');
      const ran = spawnSync('/bin/sh', ['-c', cmd], { env: testEnv({ HOME: home }), encoding: 'utf8' });
      assert.equal(ran.status, 0, ran.stderr);
      // `ssh -p PORT user@127.0.0.1 whoami` as the newcomer types it; ssh finds keys through the password
      // database's home, not $HOME, so the test names the default key file explicitly.
      const r = await sshRun(s.port, { key: id, user: connect[2], command: 'whoami' });
      assert.equal(r.status, 0, r.stderr + s.logs());
      assert.equal(r.stdout.trim(), connect[2]);
    } finally {
      await s.stop();
    }
  });

  test('control: with a key authorized, the banner gives no such advice', () => {
    assert.doesNotMatch(srv.stdout(), /nobody can log in yet/);
  });
});

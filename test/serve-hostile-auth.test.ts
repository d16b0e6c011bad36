/**
 * Hostile clients before and around authentication (issue 9 items 1 and 6, fuzz findings
 * net--server-exception-1/-2), each driven by test/raw-client.ts (ssh2's protocol layer) against a real
 * `sshkit serve` child process. Every attack is followed by a control on the same server: a normal
 * OpenSSH login still works, so "the server survived" is proven, not assumed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { isAuthReply, rawConnect, type RawEvent } from './raw-client.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-hostile-auth-');
let key: string;
let pub: string;
let srv: StartedServer;

/** The control: a real `ssh` login with the listed key on the same server still works. */
async function controlLogin(): Promise<void> {
  const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
  assert.equal(r.status, 0, r.stderr + srv.logs().slice(-2000));
  assert.equal(r.stdout.trim(), 'alice');
  assert.equal(srv.child.exitCode, null, 'server still running');
}

before(async () => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  pub = readFileSync(key + '.pub', 'utf8').trim();
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, pub + '\n');
  const line = sshkit(['passwd', 'alice'], { input: 'right-password\n' });
  assert.equal(line.status, 0, line.stderr);
  const pw = join(tmp.dir, 'passwords');
  writeFileSync(pw, line.stdout);
  srv = await startServer({ args: ['--authorized', ak, '--passwords', pw, '--max-auth-tries', '6'] });
});
after(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe('pipelined USERAUTH requests (issue 9 item 1)', () => {
  for (const second of ['none', 'password'] as const) {
    test(`wrong password, then ${second}, then a publickey query: answered in order, server keeps serving`, async () => {
      const c = await rawConnect(srv.port);
      c.password('alice', 'wrong');
      if (second === 'none') c.none('alice');
      else c.password('alice', 'also-wrong');
      c.pkQuery('alice', pub);
      const evs = await c.until((e) => e.filter(isAuthReply).length >= 3);
      const replies = evs.filter(isAuthReply).map((e) => e.kind);
      // RFC 4252 §5: requests are answered in the order sent; the key is listed, so the query gets PK_OK.
      assert.deepEqual(replies, ['failure', 'failure', 'pk-ok']);
      c.end();
      await c.closed;
      await controlLogin();
    });
  }

  test('a signed publickey login pipelined behind a pending wrong password succeeds', async () => {
    const c = await rawConnect(srv.port);
    c.password('alice', 'wrong');
    c.pkSign('alice', readFileSync(key, 'utf8'));
    const evs = await c.until((e) => e.filter(isAuthReply).length >= 2);
    assert.deepEqual(evs.filter(isAuthReply).map((e) => e.kind), ['failure', 'success']);
    c.end();
    await c.closed;
    await controlLogin();
  });

  test('many pipelined requests of every kind never end the process', async () => {
    const c = await rawConnect(srv.port);
    for (let i = 0; i < 4; i++) {
      c.password('alice', 'wrong' + i);
      c.pkQuery('alice', pub);
      c.none('alice');
    }
    await c.closed; // cut by --max-auth-tries (or answered and then cut): either way, the connection alone
    assert.equal(srv.child.exitCode, null);
    await controlLogin();
  });

  test('200 pipelined passwords (each checked asynchronously): that connection is cut, the server serves on', async () => {
    const c = await rawConnect(srv.port);
    c.socket.cork();
    for (let i = 0; i < 200; i++) c.password('alice', 'wrong' + i);
    c.socket.uncork();
    await c.closed;
    assert.ok(c.events.filter(isAuthReply).length <= 11, JSON.stringify(c.events));
    await controlLogin();
  });
});

export type { RawEvent };

/**
 * --max-auth-tries counts every attempt as sshd does, and one connection's log stays bounded (issue 9
 * item 6). Differential: the same raw requests (test/raw-client.ts) go to the real OpenSSH sshd
 * (`/usr/sbin/sshd -D -e`, MaxAuthTries 6) and to `sshkit serve --max-auth-tries 6`; the number of
 * USERAUTH_FAILURE answers before the disconnect must be the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { isAuthReply, rawConnect, type RawClient } from './raw-client.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';

const tmp = tempDir('sshkit-lim-auth-');
let key: string;
let pub: string;
let stranger: string;
let srv: StartedServer;
let sshd: StartedSshd;

/**
 * Sends one request at a time (`send(c, i)`), waiting for each answer, until the server disconnects or
 * `max` requests were answered; returns how many were answered with a FAILURE first.
 */
async function failuresBeforeCut(port: number, user: string, send: (c: RawClient, i: number) => void, max = 50): Promise<number> {
  const c = await rawConnect(port);
  for (let i = 0; i < max; i++) {
    const before = c.events.filter(isAuthReply).length;
    send(c, i);
    try {
      await c.until((e) => e.filter(isAuthReply).length > before);
    } catch {
      break; // closed: the server cut us
    }
  }
  c.socket.destroy();
  await c.closed;
  void user;
  return c.events.filter((e) => e.kind === 'failure').length;
}

before(async () => {
  key = join(tmp.dir, 'id');
  stranger = join(tmp.dir, 'stranger');
  for (const f of [key, stranger]) assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]).status, 0);
  pub = readFileSync(key + '.pub', 'utf8').trim();
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, pub + '\n');
  srv = await startServer({ args: ['--authorized', ak, '--max-auth-tries', '6'] });
  sshd = await startSshd({ authorizedKeys: [pub], config: ['MaxAuthTries 6'] });
});
after(async () => {
  await srv?.stop();
  await sshd?.stop();
  tmp.cleanup();
});

describe('--max-auth-tries counts as sshd (differential)', () => {
  const cases: Array<[string, (c: RawClient, i: number) => void]> = [
    ['repeated none', (c) => c.none(sshd.user)],
    ['unknown method names', (c, i) => c.method(sshd.user, `x-unknown-${i}`)],
    ['unlisted key queries', (c) => c.pkQuery(sshd.user, readFileSync(stranger + '.pub', 'utf8'))],
    ['a mix of none, unknown and unlisted keys', (c, i) => (i % 3 === 0 ? c.none(sshd.user) : i % 3 === 1 ? c.method(sshd.user, 'gssapi-keyex-bogus') : c.pkQuery(sshd.user, readFileSync(stranger + '.pub', 'utf8')))],
  ];
  for (const [name, send] of cases) {
    test(name, async () => {
      const want = await failuresBeforeCut(sshd.port, sshd.user, send);
      const got = await failuresBeforeCut(srv.port, sshd.user, send);
      assert.ok(want > 0 && want < 50, `sshd cut after ${want} failures`);
      assert.equal(got, want, `sshkit answered ${got} failures before the cut, sshd ${want}`);
    });
  }

  test('control: listed-key queries are not attempts (sshd answers PK_OK without counting), and a login still works', async () => {
    const c = await rawConnect(srv.port);
    for (let i = 0; i < 20; i++) {
      c.pkQuery('alice', pub);
      await c.until((e) => e.filter(isAuthReply).length > i);
    }
    assert.equal(c.events.filter((e) => e.kind === 'pk-ok').length, 20);
    c.pkSign('alice', readFileSync(key, 'utf8'));
    await c.until((e) => e.some((x) => x.kind === 'success'));
    c.end();
    const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('a hard cap on requests per connection, as sshd', () => {
  /** Key-only queries for a listed key, one at a time, until the server cuts: how many got PK_OK. */
  async function queriesBeforeCut(port: number, user: string): Promise<number> {
    const c = await rawConnect(port);
    for (let i = 0; i < 1100; i++) {
      for (let j = 0; j < 4; j++) c.pkQuery(user, pub); // 4 in flight: fewer round trips, order kept
      i += 3;
      try {
        await c.until((e) => e.filter(isAuthReply).length >= i + 1);
      } catch {
        break;
      }
    }
    c.socket.destroy();
    await c.closed;
    return c.events.filter((e) => e.kind === 'pk-ok').length;
  }
  test('listed-key queries: sshd answers 1024 and then disconnects; so does sshkit', async () => {
    const want = await queriesBeforeCut(sshd.port, sshd.user);
    const got = await queriesBeforeCut(srv.port, 'alice');
    assert.ok(want > 0 && want < 1100, `sshd answered ${want}`);
    assert.equal(got, want);
  });
});

describe('one connection cannot flood the log', () => {
  test('1,000 key-only queries on one connection (below the 1,024 cap) write a bounded number of log lines', async () => {
    const c = await rawConnect(srv.port);
    const mark = srv.logs().length;
    const n = 1000;
    for (let i = 0; i < n; i += 10) {
      for (let j = 0; j < 10; j++) c.pkQuery('alice', pub); // pipelined 10 at a time (the queue's bound)
      await c.until((e) => e.filter(isAuthReply).length >= i + 10);
    }
    c.end();
    await c.closed;
    await srv.waitForLog(/disconnect .*suppressed=\d+/);
    const lines = srv.logs().slice(mark).split('\n').filter(Boolean);
    assert.equal(c.events.filter((e) => e.kind === 'pk-ok').length, n, 'every query was answered');
    assert.ok(lines.length < 60, `${lines.length} log lines for ${n} queries`);
    assert.ok(lines.some((l) => /\blog-limit\b/.test(l)), 'the cut-off is logged once');
    const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
    assert.equal(r.status, 0, r.stderr);
  });
});

/**
 * sshd's connection caps (issue 9 item 7): `--max-startups start:rate:full` with random early drop,
 * `--per-source-max-startups` (20 idle sockets from one address must not lock everyone out) and
 * `--max-sessions` (session channels per connection, default 10). Spec validity and MaxSessions
 * behaviour are differential against the real sshd (`sshd -t -o MaxStartups=…`, and a raw client
 * opening channels on `sshd -D -e` with MaxSessions 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir, testEnv } from './helpers.js';
import { rawConnect } from './raw-client.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { SSHD, startSshd } from './sshd-helper.js';
import { parseStartups, shouldDrop } from '../src/server/limits.js';

const tmp = tempDir('sshkit-startups-');
let key: string;
let pub: string;
let ak: string;
const servers: StartedServer[] = [];
const sockets: Socket[] = [];

async function server(...args: string[]): Promise<StartedServer> {
  const s = await startServer({ args: ['--authorized', ak, ...args] });
  servers.push(s);
  return s;
}

/** An idle TCP connection from `localAddress`; resolves once the server sent its version line (admitted) or closed it. */
function idle(port: number, localAddress = '127.0.0.1'): Promise<{ socket: Socket; admitted: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => resolve({ socket, admitted: true }));
    socket.once('close', () => resolve({ socket, admitted: false }));
  });
}

before(() => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  pub = readFileSync(key + '.pub', 'utf8').trim();
  ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, pub + '\n');
});
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await s.stop();
  tmp.cleanup();
});

describe('--max-startups spec (differential: sshd -t)', () => {
  const specs = ['10', '10:30:100', '1:100:1', '5:1:5', '100', '10:30:5', '10:0:100', '10:101:100', '0', '0:30:10', '10:30', 'a', '-1', ''];
  /** sshd reads the spec with sscanf("%d:%d:%d") and ignores what follows; sshkit refuses trailing junk (README). */
  const stricter = ['10:30:100:1', '10x', '10:30:100abc'];
  test('trailing junk sshd ignores is refused by sshkit (deliberate difference)', () => {
    for (const spec of stricter) assert.throws(() => parseStartups(spec), /--max-startups/);
  });
  test('sshkit accepts exactly the MaxStartups values sshd accepts', () => {
    const hk = join(tmp.dir, 'hk');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hk]).status, 0);
    const cfg = join(tmp.dir, 'sshd_config');
    writeFileSync(cfg, `HostKey ${hk}\n`);
    for (const spec of specs) {
      const r = spawnSync(SSHD, ['-t', '-f', cfg, '-o', `MaxStartups=${spec}`], { env: testEnv(), encoding: 'utf8' });
      const sshdOk = r.status === 0;
      let ours = true;
      try {
        parseStartups(spec);
      } catch {
        ours = false;
      }
      assert.equal(ours, sshdOk, `MaxStartups=${JSON.stringify(spec)}: sshd ${sshdOk ? 'accepts' : 'refuses'} (${r.stderr.trim()})`);
    }
  });

  test('random early drop follows sshd.c should_drop_connection', () => {
    const s = parseStartups('10:30:60');
    assert.equal(shouldDrop(s, 9, () => 0), false, 'below start: never');
    assert.equal(shouldDrop(s, 60, () => 99), true, 'at full: always');
    // At start the drop chance is rate (30 %): rolls 0..29 drop, 30..99 pass.
    assert.equal(shouldDrop(s, 10, () => 29), true);
    assert.equal(shouldDrop(s, 10, () => 30), false);
    // Halfway (35): p = 30 + 70 * 25 / 50 = 65.
    assert.equal(shouldDrop(s, 35, () => 64), true);
    assert.equal(shouldDrop(s, 35, () => 65), false);
    const single = parseStartups('3');
    assert.deepEqual([2, 3].map((n) => shouldDrop(single, n, () => 99)), [false, true], 'N alone is a hard limit');
  });
});

describe('startups on a live server', () => {
  test('--max-startups 2:100:4 — full means every further connection is dropped; control: after they leave, login works', async () => {
    const srv = await server('--max-startups', '2:100:4');
    const first = await Promise.all([idle(srv.port), idle(srv.port)]);
    assert.ok(first.every((x) => x.admitted));
    const third = await idle(srv.port); // start reached, rate 100 %: dropped
    assert.equal(third.admitted, false);
    assert.match(srv.logs(), /cut .*reason=max-startups/);
    for (const x of first) x.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('--per-source-max-startups 3: 20 idle sockets from one address do not lock out another address', async () => {
    const srv = await server('--per-source-max-startups', '3', '--max-startups', '100');
    const from1 = await Promise.all(Array.from({ length: 20 }, () => idle(srv.port, '127.0.0.1')));
    assert.equal(from1.filter((x) => x.admitted).length, 3, 'three admitted from 127.0.0.1');
    assert.match(srv.logs(), /cut .*reason=per-source-max-startups/);
    const other = await idle(srv.port, '127.0.0.2');
    assert.equal(other.admitted, true, 'another address is still admitted');
    const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami', extra: ['-o', 'BindAddress=127.0.0.2'] });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'alice');
  });

  test('control: without --per-source-max-startups, the same 20 sockets are all admitted', async () => {
    const srv = await server('--max-startups', '100');
    const from1 = await Promise.all(Array.from({ length: 20 }, () => idle(srv.port, '127.0.0.1')));
    assert.equal(from1.filter((x) => x.admitted).length, 20);
  });
});

/** How many of `n` session channels opened at once on one logged-in connection are confirmed. */
async function sessionsConfirmed(port: number, user: string, n: number): Promise<number> {
  const c = await rawConnect(port);
  c.pkSign(user, readFileSync(key, 'utf8'));
  await c.until((e) => e.some((x) => x.kind === 'success'));
  for (let i = 0; i < n; i++) c.session(i);
  await c.until((e) => e.filter((x) => x.kind === 'open-ok' || x.kind === 'open-fail').length >= n);
  c.socket.destroy();
  await c.closed;
  return c.events.filter((e) => e.kind === 'open-ok').length;
}

describe('--max-sessions (differential: sshd MaxSessions)', () => {
  test('--max-sessions 2: the third session channel is refused, as by sshd with MaxSessions 2', async () => {
    // sshd-helper already sets MaxSessions 100 and sshd keeps the first value: a Match block overrides it.
    const sshd = await startSshd({ authorizedKeys: [pub], config: ['Match all', 'MaxSessions 2'] });
    try {
      const want = await sessionsConfirmed(sshd.port, sshd.user, 3);
      const srv = await server('--max-sessions', '2');
      const got = await sessionsConfirmed(srv.port, 'alice', 3);
      assert.equal(want, 2, 'sshd confirms two');
      assert.equal(got, want);
      assert.match(srv.logs(), /session-refused .*max-sessions 2/);
    } finally {
      await sshd.stop();
    }
  });

  test('control: sessions that have ended free their slot — 12 commands one after another on one connection', async () => {
    const srv = await server('--max-sessions', '2');
    const c = await rawConnect(srv.port);
    c.pkSign('alice', readFileSync(key, 'utf8'));
    await c.until((e) => e.some((x) => x.kind === 'success'));
    for (let i = 0; i < 12; i++) {
      c.session(i);
      await c.until((e) => e.some((x) => (x.kind === 'open-ok' || x.kind === 'open-fail') && x.channel === i));
      assert.ok(c.events.some((x) => x.kind === 'open-ok' && x.channel === i), `session ${i} refused`);
      c.exec(i, 'whoami');
      await c.until((e) => e.some((x) => x.kind === 'close' && x.channel === i));
    }
    c.end();
    await c.closed;
  });

  test('default: 10 session channels per connection, the 11th refused (sshd default MaxSessions 10)', async () => {
    const srv = await server();
    assert.equal(await sessionsConfirmed(srv.port, 'alice', 11), 10);
  });
});

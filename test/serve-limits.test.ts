/**
 * Limits and hygiene of `sshkit serve`: --login-grace-time cuts silent unauthenticated sockets,
 * --max-startups refuses connections beyond N unauthenticated ones, --idle-timeout closes quiet
 * sessions, --max-auth-tries disconnects after N failures, and garbage or half-open clients do not
 * affect a real login happening at the same time. Each limit gets its own server, so a 1 s grace or idle
 * limit never races the real logins of the other tests on a slow machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openssh, tempDir, testEnv } from './helpers.js';
import { sshArgs, startServer, sshRun, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-serve-lim-');
let key: string;
let ak: string;
const strangers: string[] = [];
const servers: StartedServer[] = [];
/** Starts a server for one test with the authorized key file and `args`; stopped in after(). */
async function server(...args: string[]): Promise<StartedServer> {
  const s = await startServer({ args: ['--authorized', ak, ...args] });
  servers.push(s);
  return s;
}

type Raw = Socket & { ended: Promise<string>; banner: Promise<string> };

/** Opens a raw TCP connection; resolves with it once connected (`banner`: the first line received). */
function raw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1') as Raw;
    let got = '';
    let sawBanner: (line: string) => void;
    s.banner = new Promise((r) => (sawBanner = r));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\n')) sawBanner(got.slice(0, got.indexOf('\n') + 1));
    });
    s.ended = new Promise((r) => s.on('close', () => r(got)));
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

before(async () => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  for (let i = 0; i < 3; i++) {
    const f = join(tmp.dir, `stranger${i}`);
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]).status, 0);
    strangers.push(f);
  }
  ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, readFileSync(key + '.pub'));
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  tmp.cleanup();
});

describe('sshkit serve: limits', () => {
  test('--login-grace-time: a silent unauthenticated connection is cut', async () => {
    const srv = await server('--login-grace-time', '1');
    const s = await raw(srv.port);
    const got = await s.ended;
    assert.match(got, /^SSH-2\.0-sshkit/);
    await srv.waitForLog(/cut conn=\d+ address=127\.0\.0\.1 reason=login-grace-time/);
  });

  test('--max-startups: connections beyond N unauthenticated ones are closed at once', async () => {
    const srv = await server('--max-startups', '3');
    const held = await Promise.all([raw(srv.port), raw(srv.port), raw(srv.port)]);
    // the server has accepted all three once each has sent its banner
    for (const s of held) assert.match(await s.banner, /^SSH-2\.0-sshkit/);
    const extra = await raw(srv.port);
    assert.equal(await extra.ended, ''); // closed before the server said anything
    await srv.waitForLog(/reason=max-startups/);
    for (const s of held) s.destroy();
  });

  test('--idle-timeout: a quiet authenticated session is closed', async () => {
    const srv = await server('--idle-timeout', '1');
    // a shell whose stdin stays open and silent
    const child = spawn('ssh', sshArgs(srv.port, { key, extra: ['-T'] }), { env: testEnv() });
    const status = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(status, 255);
    await srv.waitForLog(/cut conn=\d+ address=127\.0\.0\.1 reason=idle-timeout user=alice/);
  });

  test('--max-auth-tries: disconnected after N failed attempts', async () => {
    const srv = await server('--max-auth-tries', '2');
    const r = await sshRun(srv.port, { user: 'alice', command: 'whoami', extra: strangers.flatMap((f) => ['-i', f]).concat(['-o', 'IdentitiesOnly=yes']) });
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Too many authentication failures|Received disconnect|Connection closed/);
    await srv.waitForLog(/reason=max-auth-tries/);
  });

  test('garbage bytes and half-open clients do not disturb a real login', async () => {
    const srv = await server();
    const garbage = await raw(srv.port);
    garbage.write(Buffer.alloc(70_000, 0x41));
    const half = await raw(srv.port);
    half.write('SSH-2.0-half\r\n'); // then silence
    const r = await sshRun(srv.port, { key, command: 'whoami' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'alice\n');
    await garbage.ended;
    half.destroy();
  });
});

/**
 * An authenticated connection cannot flood the server's log (SPEC: limits on every resource a peer can
 * make us spend, log lines included). Before authentication ConnLog had a line budget; after it every line
 * was written, so a key holder looping on SFTP mkdir/rmdir wrote two lines a round trip for as long as it
 * liked. Now a token bucket per connection (POST_AUTH_BURST lines at once, POST_AUTH_RATE a second): the
 * unit tests drive it on a fake clock, the attack drives `sshkit serve --sftp` with ssh2's SFTP client;
 * each beside a control that stays under the bucket and is logged in full.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { ConnLog, Logger, POST_AUTH_BURST, POST_AUTH_RATE } from '../src/server/log.js';
import { openssh, tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';

/** A ConnLog on a fake clock, writing JSON lines into `lines`. */
function connLog(budget = 10) {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const log = new ConnLog(new Logger('json', (l) => lines.push(JSON.parse(l))), 7, budget, undefined, () => now);
  return { log, lines, tick: (ms: number) => (now += ms) };
}

describe('ConnLog after authentication: a token bucket', () => {
  test('control: a burst below the bucket is written in full, without log-limit', () => {
    const { log, lines } = connLog();
    log.authenticated();
    for (let i = 0; i < POST_AUTH_BURST; i++) log.event('sftp-mkdir', { i });
    assert.equal(lines.length, POST_AUTH_BURST);
    assert.ok(!lines.some((l) => l.event === 'log-limit'));
  });

  test('past the bucket: one log-limit line, then the refill rate; the next line written carries suppressed=N', () => {
    const { log, lines, tick } = connLog();
    log.authenticated();
    for (let i = 0; i < POST_AUTH_BURST + 500; i++) log.event('sftp-mkdir', { i });
    assert.equal(lines.filter((l) => l.event === 'sftp-mkdir').length, POST_AUTH_BURST);
    assert.equal(lines.filter((l) => l.event === 'log-limit').length, 1, 'the cut-off is said once');
    tick(1000); // one second: POST_AUTH_RATE tokens
    for (let i = 0; i < POST_AUTH_RATE * 2; i++) log.event('sftp-rmdir', { i });
    const after = lines.filter((l) => l.event === 'sftp-rmdir');
    assert.equal(after.length, POST_AUTH_RATE);
    assert.equal(after[0].suppressed, 500, 'the first line after the gap counts what was left out');
    assert.equal(after[1].suppressed, undefined);
    assert.equal(lines.filter((l) => l.event === 'log-limit').length, 2, 'a new gap, a new log-limit line');
    log.event('disconnect', { conn: 7 });
    assert.equal(lines.at(-1)!.suppressed, 500 + POST_AUTH_RATE, 'disconnect carries every line left out');
  });

  test('before authentication the line budget is as before: budget lines, one log-limit, then silence', () => {
    const { log, lines } = connLog(5);
    for (let i = 0; i < 50; i++) log.event('auth', { i });
    assert.deepEqual(lines.map((l) => l.event), ['auth', 'auth', 'auth', 'auth', 'auth', 'log-limit']);
    log.authenticated();
    log.event('session', {});
    assert.equal(lines.at(-1)!.event, 'session');
    assert.equal(lines.at(-1)!.suppressed, 45);
  });
});

describe('sshkit serve --sftp: an authenticated SFTP client looping on mkdir/rmdir', () => {
  const t = tempDir('sshkit-log-limit-');
  const root = join(t.dir, 'root');
  const key = join(t.dir, 'id');
  let srv: StartedServer;
  before(async () => {
    mkdirSync(join(root, 'alice'), { recursive: true });
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
    writeFileSync(join(t.dir, 'ak'), readFileSync(`${key}.pub`));
    srv = await startServer({ args: ['--authorized', join(t.dir, 'ak'), '--sftp', join(root, '%u')] });
  });
  after(async () => {
    await srv?.stop();
    t.cleanup();
  });

  /** One connection: `rounds` × (mkdir d; rmdir d), `inFlight` at a time; resolves with its conn id and the time taken. */
  async function churn(rounds: number, inFlight: number): Promise<{ conn: string; seconds: number }> {
    const c = new ssh2.Client();
    await new Promise<void>((ok, fail) => c.on('ready', ok).on('error', fail).connect({ host: '127.0.0.1', port: srv.port, username: 'alice', privateKey: readFileSync(key) }));
    const sftp = await new Promise<ssh2.SFTPWrapper>((ok, fail) => c.sftp((err, s) => (err ? fail(err) : ok(s))));
    const started = Date.now();
    const op = (f: 'mkdir' | 'rmdir', p: string) => new Promise<void>((ok, fail) => sftp[f](p, (err?: Error | null) => (err ? fail(err) : ok())));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < rounds; i = next++) {
        await op('mkdir', `/d${i}`);
        await op('rmdir', `/d${i}`);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const seconds = (Date.now() - started) / 1000;
    await op('mkdir', '/still-served'); // the flood was never refused, only its lines
    await op('rmdir', '/still-served');
    c.end();
    const line = await srv.waitForLog(/sftp-start conn=\d+/);
    const conns = [...srv.logs().matchAll(/sftp-start conn=(\d+)/g)].map((m) => m[1]);
    void line;
    return { conn: conns.at(-1)!, seconds };
  }
  const linesOf = (conn: string) => srv.logs().split('\n').filter((l) => new RegExp(`\\bconn=${conn}\\b`).test(l));

  test('control: 100 rounds on one connection are logged in full (200 lines), no log-limit', async () => {
    const { conn } = await churn(100, 4);
    await srv.waitForLog(new RegExp(`disconnect conn=${conn}\\b`));
    const lines = linesOf(conn);
    assert.equal(lines.filter((l) => / sftp-(mkdir|rmdir) /.test(l)).length, 202);
    assert.ok(!lines.some((l) => / log-limit /.test(l)));
  });

  test('3,000 rounds (6,000 change lines) on one connection: bounded by the bucket, log-limit said, disconnect counts the rest', async () => {
    const { conn, seconds } = await churn(3000, 16);
    const end = await srv.waitForLog(new RegExp(`disconnect conn=${conn}\\b.*suppressed=\\d+`));
    const lines = linesOf(conn);
    const changes = lines.filter((l) => / sftp-(mkdir|rmdir) /.test(l)).length;
    const bound = POST_AUTH_BURST + Math.ceil(POST_AUTH_RATE * (seconds + 1));
    assert.ok(changes <= bound, `${changes} change lines in ${seconds} s (bound ${bound})`);
    assert.ok(changes < 6002, 'fewer lines than changes');
    assert.ok(lines.some((l) => / log-limit /.test(l)), 'the cut-off is logged');
    const suppressed = Number(/suppressed=(\d+)/.exec(end)![1]);
    assert.ok(changes + suppressed >= 6002, `every change was written or counted (${changes} + ${suppressed})`);
  });
});

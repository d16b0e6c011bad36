/**
 * A logged-in client must not make the server buffer without bound (issue 9 item 2): output waits on
 * the peer whatever window it advertises, for real commands (`--exec os`) and the builtin shell; a shell
 * line is capped; a peer that sends past our window is disconnected. The goal of the issue is tested as
 * stated: 20 such clients at once cost the server < 100 MiB of RSS (read from /proc/PID/status).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir, testEnv } from './helpers.js';
import { sshArgs, startServer, type StartedServer } from './server-helper.js';
import { rawConnect, rawData, rawExec, type RawConn } from './raw-channel-client.js';

const tmp = tempDir('sshkit-serve-bp-');
let key: string;
let ak: string;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Sample {
  /** ms since the server logged the session start */
  at: number;
  mib: number;
}

/**
 * Runs `[yes LINE |] ssh ARGS` with a stdout pipe nobody reads, waits for the server to log the session
 * (`kind`), then samples the server's RSS every 250 ms for `ms`: the pipe fills, ssh stops reading the
 * connection, the channel window closes. Samples carry their elapsed time, so a slow machine yields fewer
 * samples rather than mislabelled ones; the test asserts it got enough. Also returns how many bytes
 * reached the client's pipe, proving output flowed.
 */
async function stalledClient(srv: StartedServer, args: string[], yesLine: string | null, kind: 'exec' | 'shell', ms: number): Promise<{ samples: Sample[]; received: number }> {
  const ssh = ['ssh', ...sshArgs(srv.port, { key, user: 'alice' }), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('/bin/sh', ['-c', yesLine === null ? `exec ${ssh}` : `yes '${yesLine}' | ${ssh}`], {
    env: testEnv(),
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  child.stdout.pause();
  try {
    await srv.waitForLog(new RegExp(` session conn=\\d+ session=\\d+ user=alice kind=${kind}\\b`), 20_000);
    const samples: Sample[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      await new Promise((r) => setTimeout(r, 250));
      samples.push({ at: Date.now() - t0, mib: rssMiB(srv.child.pid!) });
    }
    return { samples, received: child.stdout.readableLength };
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
}

/** The largest sample taken in [from, to) ms; fails if there is none. */
function peakBetween(samples: Sample[], from: number, to: number, what: string): number {
  const win = samples.filter((s) => s.at >= from && s.at < to).map((s) => s.mib);
  assert.ok(win.length >= 2, `only ${win.length} RSS samples ${what} (machine too slow?): ${JSON.stringify(samples)}`);
  assert.ok(win.every((m) => Number.isFinite(m)), `unreadable RSS samples ${what}`);
  return Math.max(...win);
}

before(() => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, readFileSync(key + '.pub'));
});
after(() => tmp.cleanup());

test('--exec os: a command writing gigabytes to a client that does not read keeps the server small', async () => {
  const srv = await startServer({ args: ['--authorized', ak, '--exec', 'os'] });
  try {
    const base = rssMiB(srv.child.pid!);
    const { samples, received } = await stalledClient(srv, ['head -c 3000000000 /dev/zero'], null, 'exec', 4000);
    assert.ok(received > 0, 'no output reached the client: the command never ran');
    const peak = peakBetween(samples, 0, Infinity, 'while stalled');
    assert.ok(peak - base < 150, `server RSS grew from ${base.toFixed(0)} to ${peak.toFixed(0)} MiB`);
  } finally {
    await srv.stop();
  }
});

test('builtin shell: input echoed to a client that does not read keeps the server small', async () => {
  const srv = await startServer({ args: ['--authorized', ak] });
  try {
    const base = rssMiB(srv.child.pid!);
    // without backpressure it grew by ≈ 300 MiB/s here, to 1.6 GB in 11 s; with ssh2's own 2 MiB write
    // limit only (one echo write per typed character) it jumped by ≈ 200 MiB
    const { samples, received } = await stalledClient(srv, ['-tt'], 'echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'shell', 14000);
    assert.ok(received > 0, 'no output reached the client: the shell never echoed');
    const at10s = peakBetween(samples, 0, 10_000, 'in the first 10 s');
    const last = peakBetween(samples, 10_000, Infinity, 'after 10 s');
    const curve = samples.map((x) => `${(x.at / 1000).toFixed(1)}s:${x.mib.toFixed(0)}`).join(' ');
    assert.ok(last - at10s < 100, `server RSS kept growing: ${at10s.toFixed(0)} MiB at 10 s, ${last.toFixed(0)} MiB by 14 s; samples ${curve}`);
    assert.ok(Math.max(at10s, last) - base < 100, `server RSS grew from ${base.toFixed(0)} to ${Math.max(at10s, last).toFixed(0)} MiB; samples ${curve}`);
  } finally {
    await srv.stop();
  }
});

/**
 * Samples the server's RSS every 100 ms until stopped; once growth passes `limit` MiB it calls `abort`
 * (so the code before a fix fails fast instead of eating the machine's memory).
 */
function watchRss(pid: number, limit: number, abort: () => void) {
  const base = rssMiB(pid);
  let peak = base;
  let samples = 0;
  const iv = setInterval(() => {
    const m = rssMiB(pid);
    if (!Number.isFinite(m)) return;
    samples++;
    peak = Math.max(peak, m);
    if (peak - base > limit) abort();
  }, 100);
  return {
    growth: () => peak - base,
    summary: () => `RSS ${base.toFixed(0)} → peak ${peak.toFixed(0)} MiB over ${samples} samples`,
    stop: () => clearInterval(iv),
  };
}

/** Runs one attacking client; once the RSS watch has aborted the test, its failure is not the story. */
async function unlessAborted<T>(aborted: () => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (aborted()) return undefined;
    throw err;
  }
}

const CLIENTS = 20;
const BUDGET_MIB = 100;

test(`--exec os: ${CLIENTS} clients advertising a 4 GiB window and not reading cat /dev/zero cost < ${BUDGET_MIB} MiB in all`, { timeout: 120_000 }, async (t) => {
  const srv = await startServer({ args: ['--authorized', ak, '--exec', 'os'] });
  const conns: RawConn[] = [];
  let aborted = false;
  const rss = watchRss(srv.child.pid!, BUDGET_MIB, () => {
    aborted = true;
    for (const c of conns) c.end();
  });
  try {
    await Promise.all(
      Array.from({ length: CLIENTS }, () => unlessAborted(() => aborted, async () => {
        const c = await rawConnect(srv.port, key);
        conns.push(c);
        const ch = await rawExec(c, 'cat /dev/zero', { window: 0xffffffff });
        // output flowed (the attack is live), then the client stops reading its socket
        await new Promise((r) => ch.once('data', r));
        c.stopReading();
      })),
    );
    // before the fix one such client grew the server by ≈ 190 MiB/s
    await new Promise((r) => setTimeout(r, 6000));
    assert.ok(!aborted && rss.growth() < BUDGET_MIB, `${CLIENTS} stalled clients: ${rss.summary()}`);
  } finally {
    t.diagnostic(rss.summary());
    rss.stop();
    for (const c of conns) c.end();
    await srv.stop();
  }
});

test(`builtin shell: ${CLIENTS} clients each typing one 30 MB line are refused the line and cost < ${BUDGET_MIB} MiB in all`, { timeout: 180_000 }, async (t) => {
  const srv = await startServer({ args: ['--authorized', ak] });
  const conns: RawConn[] = [];
  let aborted = false;
  const rss = watchRss(srv.child.pid!, BUDGET_MIB, () => {
    aborted = true;
    for (const c of conns) c.end();
  });
  const line = Buffer.alloc(30_000_000, 'a');
  try {
    const outs = await Promise.all(
      Array.from({ length: CLIENTS }, () => unlessAborted(() => aborted, async () => {
        const c = await rawConnect(srv.port, key);
        conns.push(c);
        const ch = await rawExec(c, null); // a shell, no pty: line mode
        let out = '';
        ch.on('data', (d: Buffer) => (out += d));
        ch.stderr.on('data', (d: Buffer) => (out += d));
        const closed = new Promise((r) => ch.on('close', r));
        for (let i = 0; i < line.length && !aborted; i += 1 << 20) {
          if (!ch.write(line.subarray(i, i + (1 << 20)))) await Promise.race([new Promise((r) => ch.once('drain', r)), c.closed]);
        }
        ch.end('\nwhoami\n'); // control: the shell still answers after the refused line
        await Promise.race([closed, c.closed]);
        return out;
      })),
    );
    assert.ok(!aborted && rss.growth() < BUDGET_MIB, `${CLIENTS} clients × 30 MB lines: ${rss.summary()}`);
    for (const out of outs) assert.equal(out, 'sshkit: line too long (over 8192 bytes): ignored up to the end of the line\nalice\n');
  } finally {
    t.diagnostic(rss.summary());
    rss.stop();
    for (const c of conns) c.end();
    await srv.stop();
  }
});

test(`a client sending channel data past the server's window is disconnected (${CLIENTS} at once cost < ${BUDGET_MIB} MiB); one within it is not`, { timeout: 120_000 }, async (t) => {
  const srv = await startServer({ args: ['--authorized', ak, '--exec', 'os'] });
  const conns: RawConn[] = [];
  let aborted = false;
  const rss = watchRss(srv.child.pid!, BUDGET_MIB, () => {
    aborted = true;
    for (const c of conns) c.end();
  });
  try {
    // control: 1 MiB (within the 2 MiB window) into a command that never reads its stdin
    const good = await rawConnect(srv.port, key);
    conns.push(good);
    const sleeper = await rawExec(good, 'sleep 60');
    rawData(good, sleeper, Buffer.alloc(1 << 20, 'x'));
    // each hostile client sends 8 MiB in 32,000-byte packets without waiting for window adjusts:
    // the window goes from 2 MiB past zero to negative, where ssh2 stopped checking
    const cut = await Promise.all(
      Array.from({ length: CLIENTS }, () => unlessAborted(() => aborted, async () => {
        const c = await rawConnect(srv.port, key);
        conns.push(c);
        const ch = await rawExec(c, 'sleep 60');
        rawData(c, ch, Buffer.alloc(8 << 20, 'x'));
        return Promise.race([c.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
      })),
    );
    assert.ok(!aborted && rss.growth() < BUDGET_MIB, `${CLIENTS} window overruns: ${rss.summary()}`);
    assert.equal(cut.filter((x) => x === true).length, CLIENTS, 'every client that overran the window was disconnected');
    // the client sees its socket close before the server's log line has crossed the stderr pipe: wait for it
    const overruns = () => srv.logs().match(/protocol-error .*reason="channel data past our window"/g)?.length ?? 0;
    for (let waited = 0; overruns() < CLIENTS && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(overruns(), CLIENTS);
    // the well-behaved connection is still up and serves a new session
    const again = await rawExec(good, 'echo alive');
    let out = '';
    again.on('data', (d: Buffer) => (out += d));
    await new Promise((r) => again.on('close', r));
    assert.equal(out, 'alive\n');
  } finally {
    t.diagnostic(rss.summary());
    rss.stop();
    for (const c of conns) c.end();
    await srv.stop();
  }
});

test('net--shell-memory-3: 16 MiB typed on a pty without a newline: one message, small output, small server', { timeout: 120_000 }, async (t) => {
  const srv = await startServer({ args: ['--authorized', ak] });
  let c: RawConn | undefined;
  let aborted = false;
  const rss = watchRss(srv.child.pid!, 50, () => {
    aborted = true;
    c?.end();
  });
  try {
    c = await rawConnect(srv.port, key);
    const sh = await rawExec(c, null, { pty: { rows: 24, cols: 80 } });
    let out = '';
    let bytes = 0;
    sh.on('data', (d: Buffer) => ((bytes += d.length), (out += d.toString('latin1'))));
    const chunk = Buffer.alloc(1 << 20, 'a');
    for (let i = 0; i < 16 && !aborted; i++) if (!sh.write(chunk)) await Promise.race([new Promise((r) => sh.once('drain', r)), c.closed]);
    sh.write('\recho ok\r'); // the line ends; the shell answers the next one (control)
    const seen = await Promise.race([
      new Promise<boolean>((resolve) => sh.on('data', () => /(\r\n|\$ )ok\r\n/.test(out) && resolve(true))),
      c.closed.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 60_000)),
    ]);
    assert.ok(!aborted && rss.growth() < 50, `16 MiB without a newline: ${rss.summary()}`);
    assert.ok(seen, `the shell did not answer after the long line; output ends ${JSON.stringify(out.slice(-300))}`);
    assert.match(out, /sshkit: line too long \(over 8192 bytes\): ignored up to the end of the line\r\n/);
    assert.ok(bytes < 64 * 1024, `${bytes} bytes of output for 16 MiB typed`);
  } finally {
    t.diagnostic(rss.summary());
    rss.stop();
    c?.end();
    await srv.stop();
  }
});

/**
 * A logged-in client that stops reading must not make the server buffer without bound: output is
 * throttled by the channel's window, for real commands (`--exec os`) and for the builtin shell.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir, testEnv } from './helpers.js';
import { sshArgs, startServer, type StartedServer } from './server-helper.js';

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

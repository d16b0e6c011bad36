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

/**
 * Runs `[yes LINE |] ssh ARGS` with a stdout pipe nobody reads for `ms`, sampling the server's RSS
 * every 250 ms: the pipe fills, ssh stops reading the connection, the channel window closes.
 */
async function stalledClient(srv: StartedServer, args: string[], yesLine: string | null, ms: number): Promise<number[]> {
  const ssh = ['ssh', ...sshArgs(srv.port, { key, user: 'alice' }), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('/bin/sh', ['-c', yesLine === null ? `exec ${ssh}` : `yes '${yesLine}' | ${ssh}`], {
    env: testEnv(),
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  child.stdout.pause();
  const samples: number[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    await new Promise((r) => setTimeout(r, 250));
    samples.push(rssMiB(srv.child.pid!));
  }
  process.kill(-child.pid!, 'SIGKILL');
  return samples;
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
    const peak = Math.max(...(await stalledClient(srv, ['head -c 3000000000 /dev/zero'], null, 4000)));
    assert.ok(peak - base < 150, `server RSS grew from ${base.toFixed(0)} to ${peak.toFixed(0)} MiB`);
  } finally {
    await srv.stop();
  }
});

test('builtin shell: input echoed to a client that does not read keeps the server small', async () => {
  const srv = await startServer({ args: ['--authorized', ak] });
  try {
    // memory levels off once the window is closed (garbage from the first burst stays until a GC);
    // without backpressure it grew by ≈ 300 MiB/s here, to 1.6 GB in 11 s
    const samples = await stalledClient(srv, ['-tt'], 'echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 14000);
    const at10s = Math.max(...samples.slice(0, 40));
    const last = Math.max(...samples.slice(40));
    assert.ok(last - at10s < 100, `server RSS kept growing: ${at10s.toFixed(0)} MiB at 10 s, ${last.toFixed(0)} MiB by 14 s`);
    assert.ok(last < 600, `server RSS reached ${last.toFixed(0)} MiB`);
  } finally {
    await srv.stop();
  }
});

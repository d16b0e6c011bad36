/**
 * A server that hangs up right after a command's exit-status, EOF and CLOSE (noticed against a first
 * Paramiko peer, issue 10's closing note): the TCP close can reach ssh2's client before the channel's
 * own close has been emitted, and `sshkit exec` used to report "connection lost" (255) although the
 * status and all output had arrived. ssh 9.2 reports the status it received; so must exec. A server that
 * hangs up BEFORE sending a status stays a lost connection (255) — the control of the same server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openssh, tempDir } from './helpers.js';
import { clientKey, execCli, oneLine } from './exec-helper.js';

const ssh2 = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');
const tmp = tempDir('sshkit-exec-abrupt-');
const home = join(tmp.dir, 'home');
let server: import('ssh2').Server;
let port = 0;
let hostFp = '';
let user: { path: string; pub: string };
const OUTPUT = Buffer.alloc(2 << 20, 'x');

before(async () => {
  mkdirSync(home);
  user = clientKey(tmp.dir, 'user');
  const host = clientKey(tmp.dir, 'host');
  hostFp = openssh('ssh-keygen', ['-l', '-f', `${host.path}.pub`]).stdout.split(' ')[1];
  server = new ssh2.Server({ hostKeys: [readFileSync(host.path)] }, (client) => {
    client.on('authentication', (ctx) => ctx.accept());
    client.on('error', () => undefined);
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const ch = acceptExec();
        const sock = (client as unknown as { _sock: import('node:net').Socket })._sock;
        if (info.command === 'status-then-hangup') {
          // as much as the client's window takes at once (ssh opens 64 KiB, ssh2 2 MiB), so nothing waits
          ch.write(OUTPUT.subarray(0, (ch as unknown as { outgoing: { window: number } }).outgoing.window));
          ch.exit(3);
          ch.end();
          ch.close();
          setImmediate(() => sock.end()); // FIN right after the close packets: no DISCONNECT, no wait for the client
        } else {
          ch.write('partial\n');
          setImmediate(() => sock.destroy()); // hung up with no exit-status
        }
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server?.close();
  tmp.cleanup();
});

function sshAsync(args: string[]): Promise<{ status: number | null; stderr: string; out: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (out += d.length));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr, out }));
  });
}

const run = (command: string) => execCli(['-i', user.path, '-p', String(port), '--host-fingerprint', hostFp, `u@127.0.0.1`, '--', command], { home });

test('exit-status received, then the server hangs up: exec reports the status and every byte (as ssh)', async () => {
  // asynchronously: the server lives in this process
  const real = await sshAsync(['-F', '/dev/null', '-i', user.path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-p', String(port), 'u@127.0.0.1', 'status-then-hangup']);
  assert.ok(real.out > 0);
  assert.equal(real.status, 3, `ssh: ${real.stderr}`);
  for (let i = 0; i < 5; i++) {
    const r = await run('status-then-hangup');
    assert.equal(r.status, 3, `run ${i}: ${r.stderr}`);
    assert.equal(r.stdout.length, 2 << 20);
    assert.equal(r.stderr, '');
  }
});

test('control: the server hangs up before any exit-status: still a lost connection, 255, one line', async () => {
  const r = await run('hangup-without-status');
  assert.equal(r.status, 255, r.stderr);
  assert.match(oneLine(r.stderr), /connection lost|without an exit status/);
});

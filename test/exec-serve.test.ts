/**
 * `sshkit exec` against `sshkit serve` (test/server-helper.ts): the builtin commands (`echo`,
 * `whoami`, 127 for an unknown command) and `--exec os` (real commands: byte-exact 10 MB, exit
 * statuses, signals), the host key checked through known_hosts (unknown, changed, revoked, accept-new)
 * and a refused client key. Same assertions as against OpenSSH's sshd (exec-sshd.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { clientKey, execCli, oneLine, sshFingerprint } from './exec-helper.js';
import { startServer, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-exec-serve-');
const home = join(tmp.dir, 'home');
let builtin: StartedServer;
let os: StartedServer;
let good: { path: string; pub: string };
let wrong: { path: string; pub: string };
let host: { path: string; pub: string };
let kh: (srv: StartedServer) => string;

before(async () => {
  good = clientKey(tmp.dir, 'good');
  wrong = clientKey(tmp.dir, 'wrong');
  host = clientKey(tmp.dir, 'host_ed25519');
  const authorized = join(tmp.dir, 'authorized_keys');
  writeFileSync(authorized, good.pub + '\n');
  const args = ['--authorized', authorized, '--host-key', host.path];
  [builtin, os] = await Promise.all([startServer({ args }), startServer({ args: [...args, '--exec', 'os'] })]);
  kh = (srv) => {
    const p = join(tmp.dir, `kh-${srv.port}`);
    writeFileSync(p, `[127.0.0.1]:${srv.port} ${host.pub}\n`);
    return p;
  };
});

after(async () => {
  await Promise.all([builtin?.stop(), os?.stop()]);
  tmp.cleanup();
});

function run(srv: StartedServer, command: string[], opts: { user?: string; input?: Buffer; extra?: string[] } = {}) {
  return execCli(['-i', good.path, '-p', String(srv.port), '--known-hosts', kh(srv), ...(opts.extra ?? []), `${opts.user ?? 'alice'}@127.0.0.1`, '--', ...command], { home, input: opts.input });
}

describe('builtin commands', () => {
  test('the server announces the host key we gave it', () => {
    assert.equal(builtin.hostKeyFingerprint, sshFingerprint(host.pub));
  });

  test('echo and whoami pass through with exit 0', async () => {
    const e = await run(builtin, ['echo', 'hello', 'world']);
    assert.equal(e.status, 0, e.stderr);
    assert.equal(e.stdout.toString(), 'hello world\n'); // no pty asked: \n line ends
    const w = await run(builtin, ['whoami'], { user: 'bob' });
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout.toString().trim(), 'bob');
  });

  test('an unknown command exits 127, passed through', async () => {
    const r = await run(builtin, ['frobnicate']);
    assert.equal(r.status, 127);
  });
});

describe('--exec os', () => {
  test('stdout, stderr and a non-zero status', async () => {
    const r = await run(os, ['echo out; echo err >&2; exit 7']);
    assert.equal(r.status, 7);
    assert.equal(r.stdout.toString(), 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('10 MB of output and of input, byte-exact', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const file = join(tmp.dir, 'big.bin');
    writeFileSync(file, data);
    const down = await run(os, ['cat', file]);
    assert.equal(down.status, 0, down.stderr);
    assert.ok(down.stdout.equals(data));
    const back = join(tmp.dir, 'back.bin');
    const up = await run(os, [`cat > ${back}`], { input: data });
    assert.equal(up.status, 0, up.stderr);
    assert.ok(readFileSync(back).equals(data));
  });

  test('a command killed by signal n exits 128+n', async () => {
    const r = await run(os, ['kill -KILL $$']);
    assert.equal(r.status, 128 + 9);
  });
});

describe('host keys and auth', () => {
  test('unknown host key: 255, one line with the fingerprint', async () => {
    const empty = join(tmp.dir, 'kh-empty');
    writeFileSync(empty, '');
    const r = await execCli(['-i', good.path, '-p', String(builtin.port), '--known-hosts', empty, 'alice@127.0.0.1', '--', 'echo', 'no'], { home });
    assert.equal(r.status, 255);
    assert.ok(oneLine(r.stderr).includes(builtin.hostKeyFingerprint), r.stderr);
  });

  test('changed host key: 255, naming the key seen and the line', async () => {
    const p = join(tmp.dir, 'kh-changed');
    writeFileSync(p, `[127.0.0.1]:${builtin.port} ${wrong.pub}\n`);
    const r = await execCli(['-i', good.path, '-p', String(builtin.port), '--known-hosts', p, 'alice@127.0.0.1', '--', 'true'], { home });
    assert.equal(r.status, 255);
    const line = oneLine(r.stderr);
    assert.match(line, /CHANGED/);
    assert.ok(line.includes(builtin.hostKeyFingerprint) && line.includes(`${p}:1`), line);
  });

  test('revoked host key: 255', async () => {
    const p = join(tmp.dir, 'kh-revoked');
    writeFileSync(p, `[127.0.0.1]:${builtin.port} ${host.pub}\n@revoked [127.0.0.1]:* ${host.pub}\n`);
    const r = await execCli(['-i', good.path, '-p', String(builtin.port), '--known-hosts', p, 'alice@127.0.0.1', '--', 'true'], { home });
    assert.equal(r.status, 255);
    assert.match(oneLine(r.stderr), /revoked/);
  });

  test('accept-new records the key (ssh-keygen -F finds it), then yes accepts it', async () => {
    const p = join(tmp.dir, 'kh-new');
    const base = ['-i', good.path, '-p', String(builtin.port), '--known-hosts', p];
    const first = await execCli([...base, '-o', 'StrictHostKeyChecking=accept-new', 'alice@127.0.0.1', '--', 'whoami'], { home });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(openssh('ssh-keygen', ['-F', `[127.0.0.1]:${builtin.port}`, '-f', p]).status, 0);
    const second = await execCli([...base, 'alice@127.0.0.1', '--', 'whoami'], { home });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stderr, '');
  });

  test('a key the server does not accept: 255 with an auth error', async () => {
    const r = await execCli(['-i', wrong.path, '-p', String(builtin.port), '--known-hosts', kh(builtin), 'alice@127.0.0.1', '--', 'true'], { home });
    assert.equal(r.status, 255);
    assert.match(oneLine(r.stderr), /permission denied/);
  });
});

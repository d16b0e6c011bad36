/**
 * Sessions of `sshkit serve` with the real ssh client: the interactive shell on a pty (`ssh -tt`),
 * `--exec os` (real commands, exit status, stderr, a pty), the admin REPL (admins only), host key
 * persistence across restarts, JSON logs, and SIGTERM ending a live session and exiting 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir, testEnv } from './helpers.js';
import { sshArgs, sshRun, startServer, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-serve-sess-');
let key: string;
let adminKey: string;
let ak: string;
let srv: StartedServer;

/** Drives `ssh -tt`: for each step waits until the output matches, then sends the text. */
function interact(port: number, user: string, steps: Array<[RegExp, string]>, withKey = key): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', sshArgs(port, { key: withKey, user, extra: ['-tt'] }), { env: testEnv() });
    let out = '';
    let i = 0;
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`interactive session stuck at step ${i}; output so far:\n${out}`));
    }, 15_000);
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      while (i < steps.length && steps[i][0].test(out)) child.stdin.write(steps[i++][1]);
    });
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, out });
    });
  });
}

before(async () => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  adminKey = join(tmp.dir, 'admin');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', adminKey]).status, 0);
  const adminFp = openssh('ssh-keygen', ['-l', '-f', adminKey + '.pub']).stdout.split(' ')[1];
  ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, Buffer.concat([readFileSync(key + '.pub'), readFileSync(adminKey + '.pub')]));
  // one shared authorized file: a user name proves nothing there, so the admin is named by key
  srv = await startServer({ args: ['--authorized', ak, '--admin', adminFp, '--admin', 'root'] });
});

after(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe('sshkit serve: sessions', () => {
  test('interactive shell on a pty: prompt, line editing, help, quit', async () => {
    const r = await interact(srv.port, 'alice', [
      [/alice@sshkit\$ $/, 'hlep\x7f\x7f\x7felp\r'], // typo fixed with backspace
      [/open the server REPL|clear the screen[^]*alice@sshkit\$ $/, 'echo one\x1b[D\x1b[D\x1b[Dx\r'], // cursor left, insert
      [/xone/, 'quit\r'],
    ]);
    assert.equal(r.status, 0);
    assert.match(r.out, /Welcome to sshkit, alice/);
    assert.match(r.out, /whoami +print your user name\r\n/);
    assert.doesNotMatch(r.out, /admin +open the server REPL/); // alice is not an admin
    // the command line as echoed (after the cursor moves and the insert redraw), then its output line
    assert.match(r.out, /echo [^\r\n]*\r\nxone\r\n/);
  });

  test('shell without a pty reads lines (ssh -T), Ctrl-D/EOF ends it with status 0', async () => {
    const r = await sshRun(srv.port, { key, user: 'bob', extra: ['-T'], input: 'whoami\necho a  b\n' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'bob\na b\n');
  });

  test('admin REPL: answers for the --admin key, refused for another key even under an --admin user name', async () => {
    const r = await sshRun(srv.port, { key: adminKey, user: 'carol', command: 'admin', input: 'server.stats().open\nserver.sessions().map(s => s.user).join()\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /sshkit> 1\n/);
    assert.match(r.stdout, /'carol'/);
    for (const user of ['alice', 'root']) {
      const no = await sshRun(srv.port, { key, user, command: 'admin', input: 'server.stats()\n' });
      assert.equal(no.status, 1);
      assert.match(no.stderr, /admin: permission denied/);
      assert.doesNotMatch(no.stdout, /sshkit>/);
    }
  });

  test('an --admin user name counts with a per-user (%u) authorized file', async () => {
    const per = join(tmp.dir, 'per-user');
    mkdirSync(per);
    writeFileSync(join(per, 'root'), readFileSync(key + '.pub'));
    writeFileSync(join(per, 'alice'), readFileSync(key + '.pub'));
    const s = await startServer({ args: ['--authorized', join(per, '%u'), '--admin', 'root'] });
    try {
      const r = await sshRun(s.port, { key, user: 'root', command: 'admin', input: 'server.stats().open\n' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /sshkit> 1\n/);
      const no = await sshRun(s.port, { key, user: 'alice', command: 'admin', input: 'server.stats()\n' });
      assert.equal(no.status, 1);
    } finally {
      await s.stop();
    }
  });

  test('admin REPL on a pty inside the shell, then back to the shell', async () => {
    const r = await interact(srv.port, 'root', [
      [/root@sshkit\$ $/, 'admin\r'],
      [/sshkit> (\x1b\[\d+G)?$/, 'server.kick(99999)\r'],
      [/false[^]*sshkit> (\x1b\[\d+G)?$/, '.exit\r'],
      [/root@sshkit\$ $/, 'whoami\r'],
      [/root\r\n[^]*root@sshkit\$ $/, 'quit\r'],
    ], adminKey);
    assert.equal(r.status, 0);
  });
});

describe('sshkit serve --exec os', () => {
  let os: StartedServer;
  before(async () => {
    os = await startServer({ args: ['--authorized', ak, '--exec', 'os'] });
  });
  after(async () => {
    await os?.stop();
  });

  test('runs real commands with /bin/sh -c: stdout, stderr, stdin, exit status', async () => {
    const r = await sshRun(os.port, { key, command: 'echo out; echo err >&2; read x; echo "got $x"; exit 7', input: 'hello\n' });
    assert.equal(r.status, 7);
    assert.equal(r.stdout, 'out\ngot hello\n');
    assert.equal(r.stderr, 'err\n');
    const env = await sshRun(os.port, { key, user: 'zed', command: 'echo $SSHKIT_USER ${SSH_CONNECTION%% *}' });
    assert.equal(env.stdout, 'zed 127.0.0.1\n');
  });

  test('a pty when asked (ssh -tt): tty, size, exit status', async () => {
    const r = await sshRun(os.port, { key, command: 'tty; stty size; exit 3', extra: ['-tt', '-o', 'SetEnv=TERM=xterm'] });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /\/dev\/pts\/\d+\r\n\d+ \d+\r\n/);
  });

  test('a command killed by a signal is reported as such (ssh exits 255 like with sshd)', async () => {
    const r = await sshRun(os.port, { key, command: 'kill -TERM $$' });
    assert.equal(r.status, 255);
    await os.waitForLog(/session-end .*status=TERM/);
  });
});

describe('sshkit serve: host key, logs, shutdown', () => {
  test('the generated host key (0600) is kept: same fingerprint after a restart', async () => {
    const cfg = join(tmp.dir, 'cfg');
    mkdirSync(cfg);
    const one = await startServer({ args: ['--authorized', ak], env: { XDG_CONFIG_HOME: cfg } });
    await one.stop();
    const file = join(cfg, 'sshkit', 'host_ed25519');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const two = await startServer({ args: ['--authorized', ak], env: { XDG_CONFIG_HOME: cfg } });
    await two.stop();
    assert.equal(two.hostKeyFingerprint, one.hostKeyFingerprint);
    const fp = openssh('ssh-keygen', ['-l', '-f', file]).stdout.split(' ')[1];
    assert.equal(one.hostKeyFingerprint, fp);
    assert.match(one.logs(), /generated=true/);
    assert.doesNotMatch(two.logs(), /generated=true/);
  });

  test('--log-format json: one JSON object per line, auth attempts with fingerprint', async () => {
    const s = await startServer({ args: ['--authorized', ak, '--log-format', 'json'] });
    const r = await sshRun(s.port, { key, command: 'whoami' });
    assert.equal(r.status, 0, r.stderr);
    await s.waitForLog(/"event":"auth".*"result":"ok"/);
    await s.stop();
    const events = s.logs().trim().split('\n').map((l) => JSON.parse(l));
    const auth = events.find((e) => e.event === 'auth' && e.result === 'ok');
    assert.equal(auth.user, 'alice');
    // the logged fingerprint is the client key's, as the real ssh-keygen computes it
    assert.equal(auth.fingerprint, openssh('ssh-keygen', ['-l', '-f', key + '.pub']).stdout.split(' ')[1]);
    assert.match(auth.fingerprint, /^SHA256:/);
    assert.ok(events.some((e) => e.event === 'stopped'));
  });

  test('SIGTERM ends a live session cleanly and exits 0', async () => {
    const s = await startServer({ args: ['--authorized', ak] });
    const child = spawn('ssh', sshArgs(s.port, { key, extra: ['-T'] }), { env: testEnv() });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    await s.waitForLog(/ session conn=/);
    assert.equal(await s.stop('SIGTERM'), 0);
    const status = await closed;
    assert.notEqual(status, null);
    assert.match(err, /server shutting down/);
    assert.match(s.logs(), /shutdown signal=SIGTERM[^]*stopped/);
  });
});

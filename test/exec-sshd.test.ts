/**
 * `sshkit exec` against the real OpenSSH sshd (test/sshd-helper.ts): output and exit statuses pass
 * through byte for byte, host keys are checked through known_hosts (written by the real ssh and
 * ssh-keygen where possible) or a pinned fingerprint, and every failure of exec itself exits 255 with
 * one line on stderr.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { clientKey, execCli, oneLine, sshFingerprint } from './exec-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';

const tmp = tempDir('sshkit-exec-');
const home = join(tmp.dir, 'home');
let sshd: StartedSshd;
let good: { path: string; pub: string };
let wrong: { path: string; pub: string };
let locked: { path: string; pub: string };
let knownHosts: string;
let hostName: string;

/** exec against our sshd with the good key and the correct known_hosts. */
function run(command: string[], extra: string[] = [], input?: string | Buffer) {
  return execCli(['-i', good.path, '-p', String(sshd.port), '--known-hosts', knownHosts, ...extra, `${sshd.user}@127.0.0.1`, '--', ...command], { home, input });
}

before(async () => {
  writeFileSync(join(tmp.dir, '.keep'), '');
  good = clientKey(tmp.dir, 'good');
  wrong = clientKey(tmp.dir, 'wrong');
  locked = clientKey(tmp.dir, 'locked', 'ecdsa', 'correct horse');
  writeFileSync(join(tmp.dir, 'pass-ok'), 'correct horse\n');
  writeFileSync(join(tmp.dir, 'pass-bad'), 'battery staple\n');
  sshd = await startSshd({ authorizedKeys: [good.pub, locked.pub] });
  hostName = `[127.0.0.1]:${sshd.port}`;
  // known_hosts as the real ssh writes it on first contact.
  knownHosts = join(tmp.dir, 'known_hosts');
  const r = openssh('ssh', ['-F', '/dev/null', '-i', good.path, '-o', 'IdentitiesOnly=yes', '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${knownHosts}`, `${sshd.user}@127.0.0.1`, 'true']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(knownHosts, 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
});

after(async () => {
  await sshd?.stop();
  tmp.cleanup();
});

describe('output and exit status pass through', () => {
  test('stdout, stderr and a non-zero exit status', async () => {
    const r = await run(['echo out; echo err >&2; exit 7']);
    assert.equal(r.status, 7);
    assert.equal(r.stdout.toString(), 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('exit 0, and the words after -- are sent as typed (no number parsing)', async () => {
    const r = await run(['printf', '%s-%s', '010', '0x10']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), '010-0x10');
  });

  test('10 MB of output arrive byte-exact', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const file = join(tmp.dir, 'big.bin');
    writeFileSync(file, data);
    const r = await run(['cat', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.length, data.length);
    assert.ok(r.stdout.equals(data));
  });

  test('10 MB of stdin reach the command byte-exact', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const file = join(tmp.dir, 'upload.bin');
    const r = await run([`cat > ${file}`], [], data);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(file).equals(data));
  });

  test('a command killed by signal n exits 128+n (ssh 9.2 itself exits 255 here)', async () => {
    const r = await run(['kill -TERM $$']);
    assert.equal(r.status, 128 + 15);
  });
});

describe('host keys', () => {
  const hostFp = () => sshFingerprint(sshd.hostKeyPub);

  test('an unknown host key is refused (255, one line naming the fingerprint)', async () => {
    const empty = join(tmp.dir, 'kh-empty');
    writeFileSync(empty, '');
    const r = await execCli(['-i', good.path, '-p', String(sshd.port), '--known-hosts', empty, `${sshd.user}@127.0.0.1`, '--', 'echo', 'no'], { home });
    assert.equal(r.status, 255);
    assert.equal(r.stdout.length, 0);
    const line = oneLine(r.stderr);
    assert.match(line, /host key verification failed/);
    assert.ok(line.includes(hostFp()), line);
  });

  test('a changed host key is refused, naming the key seen and the known_hosts line', async () => {
    const other = clientKey(tmp.dir, 'impostor');
    const kh = join(tmp.dir, 'kh-changed');
    writeFileSync(kh, `# comment\n${hostName} ${other.pub}\n`);
    const r = await execCli(['-i', good.path, '-p', String(sshd.port), '--known-hosts', kh, '-o', 'StrictHostKeyChecking=no', `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(r.status, 255);
    const line = oneLine(r.stderr);
    assert.match(line, /CHANGED/);
    assert.ok(line.includes(hostFp()), line);
    assert.ok(line.includes(`${kh}:2`), line);
    assert.ok(line.includes(sshFingerprint(other.pub)), line);
  });

  test('a revoked host key is refused even when also listed as known', async () => {
    const kh = join(tmp.dir, 'kh-revoked');
    writeFileSync(kh, readFileSync(knownHosts, 'utf8') + `@revoked * ${sshd.hostKeyPub}\n`);
    const r = await execCli(['-i', good.path, '-p', String(sshd.port), '--known-hosts', kh, `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(r.status, 255);
    assert.match(oneLine(r.stderr), /revoked by .*kh-revoked:2/);
  });

  test('accept-new records the key (ssh-keygen -F finds it), then it is accepted under yes', async () => {
    const kh = join(tmp.dir, 'sub', 'kh-new');
    const args = ['-i', good.path, '-p', String(sshd.port), '--known-hosts', kh];
    const first = await execCli([...args, '-o', 'StrictHostKeyChecking=accept-new', `${sshd.user}@127.0.0.1`, '--', 'echo', 'first'], { home });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.toString(), 'first\n');
    assert.match(first.stderr, /added \[127\.0\.0\.1\]:\d+/);
    const found = openssh('ssh-keygen', ['-F', hostName, '-f', kh]);
    assert.equal(found.status, 0, found.stderr);
    assert.ok(found.stdout.includes(sshd.hostKeyPub.split(' ')[1]));
    const second = await execCli([...args, `${sshd.user}@127.0.0.1`, '--', 'echo', 'second'], { home });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout.toString(), 'second\n');
    assert.equal(second.stderr, '');
  });

  test('hashed known_hosts entries (ssh-keygen -H) and wildcard patterns match', async () => {
    const hashed = join(tmp.dir, 'kh-hashed');
    writeFileSync(hashed, readFileSync(knownHosts));
    assert.equal(openssh('ssh-keygen', ['-H', '-f', hashed]).status, 0);
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    const wild = join(tmp.dir, 'kh-wild');
    writeFileSync(wild, `[127.0.0.?]:${sshd.port} ${sshd.hostKeyPub}\n`);
    for (const kh of [hashed, wild]) {
      const r = await execCli(['-i', good.path, '-p', String(sshd.port), '--known-hosts', kh, `${sshd.user}@127.0.0.1`, '--', 'echo', 'ok'], { home });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'ok\n');
    }
  });

  test('--host-fingerprint pins the key (ssh-keygen -l value) without known_hosts', async () => {
    const base = ['-i', good.path, '-p', String(sshd.port), '--known-hosts', join(tmp.dir, 'kh-none')];
    const ok = await execCli([...base, '--host-fingerprint', hostFp(), `${sshd.user}@127.0.0.1`, '--', 'echo', 'pinned'], { home });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.toString(), 'pinned\n');
    const no = await execCli([...base, '--host-fingerprint', sshFingerprint(wrong.pub), `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(no.status, 255);
    assert.match(oneLine(no.stderr), /not --host-fingerprint/);
  });
});

describe('authentication', () => {
  test('a key the server does not accept: 255 with an auth error', async () => {
    const r = await execCli(['-i', wrong.path, '-p', String(sshd.port), '--known-hosts', knownHosts, `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(r.status, 255);
    const line = oneLine(r.stderr);
    assert.match(line, /permission denied \(publickey\)/);
    assert.ok(line.includes(sshFingerprint(wrong.pub)), line);
  });

  test('an encrypted key with --passphrase-file; a wrong passphrase is a 255', async () => {
    const base = ['-i', locked.path, '-p', String(sshd.port), '--known-hosts', knownHosts];
    const ok = await execCli([...base, '--passphrase-file', join(tmp.dir, 'pass-ok'), `${sshd.user}@127.0.0.1`, '--', 'echo', 'unlocked'], { home });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.toString(), 'unlocked\n');
    const bad = await execCli([...base, '--passphrase-file', join(tmp.dir, 'pass-bad'), `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(bad.status, 255);
    assert.match(oneLine(bad.stderr), /incorrect passphrase/);
    const none = await execCli([...base, `${sshd.user}@127.0.0.1`, '--', 'true'], { home });
    assert.equal(none.status, 255);
    assert.match(oneLine(none.stderr), /passphrase is required/);
  });

  test('without -i the default ~/.ssh/id_* keys are used', async () => {
    const h = join(tmp.dir, 'home-default');
    openssh('mkdir', ['-p', join(h, '.ssh')]);
    writeFileSync(join(h, '.ssh', 'id_ed25519'), readFileSync(good.path), { mode: 0o600 });
    writeFileSync(join(h, '.ssh', 'known_hosts'), readFileSync(knownHosts));
    const r = await execCli(['-p', String(sshd.port), `${sshd.user}@127.0.0.1`, '--', 'echo', 'default'], { home: h });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'default\n');
  });
});

test('connection refused: 255, one line', async () => {
  const stopped = await startSshd();
  const port = stopped.port;
  await stopped.stop();
  const r = await execCli(['-i', good.path, '-p', String(port), '--known-hosts', knownHosts, '127.0.0.1', '--', 'true'], { home });
  assert.equal(r.status, 255);
  assert.match(oneLine(r.stderr), /connect to host 127\.0\.0\.1 port \d+: Connection refused/);
});

describe('agent, pty and timeouts', () => {
  test('with no key file, the keys of an ssh-agent at SSH_AUTH_SOCK are used', async () => {
    const sock = join(tmp.dir, 'agent.sock');
    // Without -D, ssh-agent binds the socket and only then forks: when it returns, the socket exists.
    const started = spawnSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(started.status, 0, started.stderr);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]);
    assert.ok(pid > 0, `no SSH_AGENT_PID in ${JSON.stringify(started.stdout)}`);
    try {
      assert.ok(existsSync(sock), `ssh-agent returned without creating ${sock}`);
      // (openssh() goes through testEnv, which drops SSH_AUTH_SOCK: call ssh-add directly)
      const add = spawnSync('ssh-add', [good.path], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
      assert.equal(add.status, 0, add.stderr);
      const r = await execCli(['-p', String(sshd.port), '--known-hosts', knownHosts, `${sshd.user}@127.0.0.1`, '--', 'echo', 'agent'], { home, agent: sock });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'agent\n');
    } finally {
      process.kill(pid);
    }
  });

  test('-t asks for a pseudo-terminal', async () => {
    const r = await run(['test -t 0 && test -t 1 && tty'], ['-t']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout.toString(), /^\/dev\/pts\/\d+\r?\n$/);
  });

  test('--connect-timeout bounds a server that never answers: 255, one line', async () => {
    const silent = createServer(() => {}); // accepts, never sends a banner
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const r = await execCli(['-i', good.path, '-p', String(port), '--known-hosts', knownHosts, '--connect-timeout', '1', '127.0.0.1', '--', 'true'], { home });
      assert.equal(r.status, 255);
      assert.match(oneLine(r.stderr), /timed out during the handshake/);
    } finally {
      silent.close();
    }
  });
});

describe('key types', () => {
  for (const hostType of ['rsa', 'ecdsa'] as const) {
    test(`${hostType} host key; rsa (rsa-sha2-*) and ecdsa client keys signed by the core`, async () => {
      const rsa = clientKey(tmp.dir, `rsa-for-${hostType}`, 'rsa');
      const ecdsa = clientKey(tmp.dir, `ecdsa-for-${hostType}`, 'ecdsa');
      const server = await startSshd({ hostKeyType: hostType, authorizedKeys: [rsa.pub, ecdsa.pub] });
      try {
        const kh = join(tmp.dir, `kh-${hostType}`);
        writeFileSync(kh, `[127.0.0.1]:${server.port} ${server.hostKeyPub}\n`);
        for (const k of [rsa, ecdsa]) {
          const r = await execCli(['-i', k.path, '-p', String(server.port), '--known-hosts', kh, `${server.user}@127.0.0.1`, '--', 'echo', 'ok'], { home });
          assert.equal(r.status, 0, r.stderr);
          assert.equal(r.stdout.toString(), 'ok\n');
        }
      } finally {
        await server.stop();
      }
    });
  }
});

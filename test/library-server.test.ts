/**
 * `sshkit/server`'s hooks fail closed (issue 15), driven by the real `ssh`: a key lookup that throws,
 * an auth callback that throws or answers anything but `true`, and an exec handler that throws each
 * refuse or fail that one login or command, never the server; a forced command (authorized_keys
 * `command=`, as sshd) reaches the handler in place of the asked one. Every refusal has its passing
 * control on the same server. Also: createServer's bad options, sshsig.verify without a trust anchor.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type ExecSession, type SshServer } from '../src/server/index.js';
import { sshsig, SshkitError } from '../src/index.js';
import { openssh, tempDir } from './helpers.js';
import { sshRun } from './server-helper.js';

const t = tempDir('sshkit-libsrv-');
const key = join(t.dir, 'id_ed25519');
const hostKey = join(t.dir, 'host');
let pub = '';
let srv: SshServer;
const seen: ExecSession[] = [];
const logged: string[] = [];

before(async () => {
  for (const f of [key, hostKey]) assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'k', '-f', f]).status, 0);
  pub = readFileSync(`${key}.pub`, 'utf8');
  const before = readdirSync(tmpdir()).filter((n) => n.startsWith('sshkit-hostkeys-')).length;
  srv = await createServer({
    hostKeys: [readFileSync(hostKey, 'utf8')],
    authorized: (user) => {
      if (user === 'boom') throw new Error('directory down');
      if (user === 'forced') return `command="forced-cmd" ${pub}`;
      return pub;
    },
    authorize: (a) => {
      if (a.user === 'thrower') throw new Error('policy engine down');
      if (a.user === 'truthy') return 'yes' as unknown as boolean;
      return true;
    },
    onExec: (s) => {
      seen.push(s);
      if (s.command === 'throw') throw new Error('handler bug');
      s.stdout.write(`ran ${s.command}\n`);
      return 0;
    },
    log: (line) => logged.push(line),
  });
  const afterStart = readdirSync(tmpdir()).filter((n) => n.startsWith('sshkit-hostkeys-')).length;
  assert.ok(afterStart <= before, 'the host key texts are not left on disk');
});
after(async () => {
  await srv?.stop();
  t.cleanup();
});

const login = (user: string, command = 'hello') => sshRun(srv.port, { key, user, command });

describe('sshkit/server hooks fail closed', () => {
  it('control: a user the lookup and the callback accept logs in and runs the handler', async () => {
    const r = await login('alice');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran hello\n');
  });

  for (const user of ['boom', 'thrower', 'truthy']) {
    it(`${user}: refused (${user === 'boom' ? 'the key lookup throws' : user === 'thrower' ? 'the auth callback throws' : "the callback answers 'yes', not true"})`, async () => {
      const r = await login(user);
      assert.equal(r.status, 255);
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      assert.equal(r.stdout, '');
      const after = await login('alice');
      assert.equal(after.status, 0, 'the server still serves');
    });
  }

  it('a forced command replaces the asked one; the asked one is originalCommand (sshd SSH_ORIGINAL_COMMAND)', async () => {
    const r = await login('forced', 'asked');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran forced-cmd\n');
    const s = seen.find((x) => x.user === 'forced')!;
    assert.equal(s.command, 'forced-cmd');
    assert.equal(s.originalCommand, 'asked');
    assert.equal(seen.find((x) => x.user === 'alice')!.originalCommand, undefined);
  });

  it('a handler that throws ends its command with status 1, logged; the server keeps serving', async () => {
    const r = await login('alice', 'throw');
    assert.equal(r.status, 1);
    assert.ok(logged.some((l) => l.includes('exec-error') && l.includes('handler bug')));
    assert.equal((await login('alice')).status, 0);
  });

  it('log lines go to the caller\'s log function', () => {
    assert.ok(logged.some((l) => l.includes('"listening"') || l.includes('auth')), logged.slice(0, 3).join('\n'));
  });
});

describe('createServer and sshsig.verify refuse bad requests', () => {
  it('no host key, or a host key that is not a private key text: SshkitError BAD_INPUT, nothing listens', async () => {
    for (const hostKeys of [[], ['ssh-ed25519 AAAA not a private key']]) {
      await assert.rejects(
        createServer({ hostKeys, authorized: () => '' }),
        (e: unknown) => e instanceof SshkitError && e.code === 'BAD_INPUT',
      );
    }
    // control: the same call with a host key starts (and stops)
    const ok = await createServer({ hostKeys: [readFileSync(hostKey, 'utf8')], authorized: () => '' });
    assert.ok(ok.port > 0);
    await ok.stop();
  });

  it('authorized as a path: the --authorized file pattern (%u per user), as the CLI reads it', async () => {
    mkdirSync(join(t.dir, 'keys'), { mode: 0o700 });
    writeFileSync(join(t.dir, 'keys', 'alice'), pub, { mode: 0o600 });
    const files = await createServer({ hostKeys: [readFileSync(hostKey, 'utf8')], authorized: join(t.dir, 'keys', '%u') });
    try {
      const ok = await sshRun(files.port, { key, user: 'alice', command: 'echo via-file' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, 'via-file\n', 'no onExec: the builtin commands of sshkit serve run');
      const no = await sshRun(files.port, { key, user: 'bob', command: 'echo via-file' });
      assert.equal(no.status, 255, 'bob has no file');
      assert.match(no.stderr, /Permission denied/);
    } finally {
      await files.stop();
    }
  });

  it('sshsig.verify without a trust anchor throws (never "ok" by default); with one it verifies', async () => {
    const msg = join(t.dir, 'msg');
    writeFileSync(msg, 'data\n');
    assert.equal(openssh('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'file', '-f', key, msg]).status, 0);
    const signature = readFileSync(`${msg}.sig`, 'utf8');
    await assert.rejects(
      sshsig.verify({ signature, data: 'data\n', namespace: 'file' }),
      (e: unknown) => e instanceof SshkitError && e.code === 'BAD_INPUT',
    );
    await assert.rejects(sshsig.verify({ signature, data: 'data\n', namespace: 'file', allowedSigners: `k ${pub}` }), /identity is required/);
    const v = await sshsig.verify({ signature, data: 'data\n', namespace: 'file', publicKey: pub });
    assert.equal(v.ok, true);
    const other = await sshsig.verify({ signature, data: 'data\n', namespace: 'file', publicKey: readFileSync(`${hostKey}.pub`, 'utf8') });
    assert.equal(other.ok, false);
    assert.match(other.reason!, /not the given public key/);
  });
});

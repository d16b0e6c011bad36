/**
 * `sshkit serve --sftp ROOT` wired into the session pipeline (issue 13 §2), driven by the real OpenSSH
 * clients against the real CLI: `sftp -b -` lists a `%u` folder (expected names from `ls -1` of the same
 * folder); a missing `%u` folder refuses the subsystem with a log line; a `command=` line runs its
 * forced command instead of the subsystem (as sshd) while a `restrict` line still gets SFTP;
 * `--sftp-read-only` refuses a put; a user with no OS account gets SFTP under `--exec builtin`; legacy
 * `scp -O` is refused with a clear message under `--exec builtin` and copies byte-exact under `--exec os`.
 * Every refusal has its passing control beside it, on the same server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, runAsync, tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';

const t = tempDir('sshkit-sftp-wiring-');
const root = join(t.dir, 'root');
const NOBODY = 'sshkit-no-such-account';
const keys: Record<'plain' | 'forced' | 'restricted', string> = { plain: '', forced: '', restricted: '' };
let ak: string;
let srv: StartedServer;
let ro: StartedServer;
let os: StartedServer;

const clientOpts = (port: number, key: string, flag: '-P' | '-p' = '-P') => [
  '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
  '-F', '/dev/null', '-o', 'IdentitiesOnly=yes', '-i', key, flag, String(port),
];
/** OpenSSH `sftp -b -` as `user` with `key`, the batch script on stdin. */
const sftpBatch = (port: number, user: string, key: string, script: string) =>
  runAsync('sftp', [...clientOpts(port, key), '-b', '-', `${user}@127.0.0.1`], { input: script });

before(async () => {
  for (const name of Object.keys(keys) as Array<keyof typeof keys>) {
    keys[name] = join(t.dir, `id_${name}`);
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keys[name]]).status, 0);
  }
  const pub = (k: string) => readFileSync(`${k}.pub`, 'utf8').trim();
  ak = join(t.dir, 'authorized_keys');
  writeFileSync(ak, `${pub(keys.plain)}\ncommand="echo forced-ran" ${pub(keys.forced)}\nrestrict ${pub(keys.restricted)}\n`, { mode: 0o600 });
  for (const user of ['alice', NOBODY]) {
    mkdirSync(join(root, user), { recursive: true });
    writeFileSync(join(root, user, 'hello.txt'), `hi ${user}\n`);
    writeFileSync(join(root, user, 'second.bin'), Buffer.from([0, 1, 2]));
  }
  const host = join(t.dir, 'host');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', host]).status, 0);
  const common = ['--authorized', ak, '--host-key', host, '--log-format', 'json'];
  [srv, ro, os] = await Promise.all([
    startServer({ args: [...common, '--sftp', join(root, '%u')] }),
    startServer({ args: [...common, '--sftp', join(root, '%u'), '--sftp-read-only'] }),
    startServer({ args: [...common, '--exec', 'os'] }),
  ]);
});
after(async () => {
  await Promise.all([srv?.stop(), ro?.stop(), os?.stop()]);
  t.cleanup();
});

describe('sshkit serve --sftp ROOT', () => {
  test('control: sftp -b lists the user\'s %u folder as `ls -1` lists it', async () => {
    const r = await sftpBatch(srv.port, 'alice', keys.plain, 'ls -1\n');
    assert.equal(r.status, 0, r.stderr);
    const expected = openssh('ls', ['-1', join(root, 'alice')]).stdout.split('\n').filter(Boolean);
    const listed = r.stdout.split('\n').filter((l) => l && !l.startsWith('sftp>'));
    assert.deepEqual(listed, expected);
  });
  test('a missing %u folder refuses the subsystem, with an sftp-refused log line', async () => {
    const r = await sftpBatch(srv.port, 'carol', keys.plain, 'ls -1\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /subsystem request failed/);
    const line = await srv.waitForLog(/"event":"sftp-refused".*"user":"carol"/);
    assert.match(line, /is missing/);
  });
  test('a command= line runs its forced command instead of the subsystem (as sshd); a restrict line still gets SFTP', async () => {
    const forced = await sftpBatch(srv.port, 'alice', keys.forced, 'ls -1\n');
    assert.notEqual(forced.status, 0);
    await srv.waitForLog(/"event":"session".*"command":"echo forced-ran".*"forced":true/);
    const restricted = await sftpBatch(srv.port, 'alice', keys.restricted, 'ls -1\n');
    assert.equal(restricted.status, 0, restricted.stderr);
    assert.match(restricted.stdout, /hello\.txt/);
  });
  test('--exec builtin: a user with no OS account gets SFTP (no account is looked up)', async () => {
    assert.notEqual(openssh('id', [NOBODY]).status, 0, `${NOBODY} must not exist on this machine`);
    const r = await sftpBatch(srv.port, NOBODY, keys.plain, `get /hello.txt ${join(t.dir, 'got.txt')}\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(t.dir, 'got.txt'), 'utf8'), `hi ${NOBODY}\n`);
  });
  test('--sftp-read-only refuses a put; control: the same put works without the flag', async () => {
    const local = join(t.dir, 'up.txt');
    writeFileSync(local, 'upload\n');
    const refused = await sftpBatch(ro.port, 'alice', keys.plain, `put ${local} /up-ro.txt\n`);
    assert.notEqual(refused.status, 0);
    assert.equal(existsSync(join(root, 'alice', 'up-ro.txt')), false);
    const ok = await sftpBatch(srv.port, 'alice', keys.plain, `put ${local} /up.txt\n`);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readFileSync(join(root, 'alice', 'up.txt'), 'utf8'), 'upload\n');
  });
});

describe('legacy scp -O (rcp protocol)', () => {
  test('under --exec builtin it is refused with a clear message', async () => {
    const r = await runAsync('scp', [...clientOpts(srv.port, keys.plain), '-O', join(root, 'alice', 'hello.txt'), `alice@127.0.0.1:${join(t.dir, 'scp-refused.txt')}`]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /scp -O \(the legacy rcp protocol\) needs a real scp and runs only under --exec os/);
    assert.equal(existsSync(join(t.dir, 'scp-refused.txt')), false);
  });
  test('control: under --exec os it copies byte-exact (the server runs the real scp -t)', async () => {
    const src = join(root, 'alice', 'second.bin');
    const dst = join(t.dir, 'scp-os.bin');
    const r = await runAsync('scp', [...clientOpts(os.port, keys.plain), '-O', src, `alice@127.0.0.1:${dst}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readFileSync(dst), readFileSync(src));
  });
});

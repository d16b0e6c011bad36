/**
 * Other SFTP clients against serveSftp (issue 13 §2): Paramiko and AsyncSSH (test/peers/sftp-*.py,
 * run with Debian's /usr/bin/python3), PuTTY 0.78's `psftp -b` and `pscp -sftp` (key converted by
 * puttygen, host key pinned with -hostkey from `ssh-keygen -l`). Files of 0 B, 1 B and 50 MB are
 * compared by SHA-256 with their source after each round trip; each client's view of mkdir/rename/
 * symlink/chmod/listdir/remove/rmdir is checked against the disk under ROOT.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, ROOT, runAsync, tempDir } from './helpers.js';
import { startSftpServer, type SftpServer } from './sftp-helper.js';

const t = tempDir('sshkit-sftp-clients-');
const root = join(t.dir, 'root');
const local = join(t.dir, 'local');
let srv: SftpServer;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const NAMES = ['zero', 'one', 'big'];

before(async () => {
  mkdirSync(root);
  mkdirSync(local);
  writeFileSync(join(local, 'zero'), '');
  writeFileSync(join(local, 'one'), randomBytes(1));
  writeFileSync(join(local, 'big'), randomBytes(50 * 1024 * 1024));
  srv = await startSftpServer({ root });
});
after(async () => {
  await srv?.stop();
  t.cleanup();
});

const python = (script: string) => runAsync('/usr/bin/python3', [join(ROOT, 'test/peers', script), String(srv.port), srv.key, local]);

/** The checks both Python clients share: byte-exact round trips and the directory operations. */
function checkPythonRun(prefix: string, out: Record<string, unknown>): void {
  for (const n of NAMES) {
    // the 1 B file was renamed into the folder and removed by the client: its get-back and the read through the link check it
    if (n !== 'one') assert.equal(sha(join(root, `${prefix}-${n}`)), sha(join(local, n)), `${prefix} put ${n}`);
    assert.equal(sha(join(local, `${prefix}-back-${n}`)), sha(join(local, n)), `${prefix} get ${n}`);
  }
  assert.equal(out.readlink, 'one');
  assert.equal(out.via_link, readFileSync(join(local, 'one')).toString('hex'), 'reading through the symlink');
  assert.equal(out.mode, 0o640);
  assert.deepEqual(out.list, ['ln', 'one']);
  assert.equal(existsSync(join(root, `${prefix}dir`)), false, 'removed');
}

describe('Python SFTP clients', () => {
  it('Paramiko: put/get 0 B, 1 B, 50 MB byte-exact, append-resume, mkdir/rename/symlink/chmod/rm/rmdir', async () => {
    writeFileSync(join(root, 'pm-resume'), readFileSync(join(local, 'big')).subarray(0, 1000));
    const r = await python('sftp-paramiko.py');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    checkPythonRun('pm', out);
    assert.equal(sha(join(root, 'pm-resume')), sha(join(local, 'big')), 'resumed upload completed the file');
    assert.equal(out.normalize, '/');
    assert.equal(out.gone, true);
  });

  it('AsyncSSH: put/get 0 B, 1 B, 50 MB byte-exact, mkdir/rename/symlink/chmod/statvfs/rm/rmdir', async () => {
    const r = await python('sftp-asyncssh.py');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    checkPythonRun('as', out);
    assert.ok((out.statvfs_bsize as number) > 0, 'statvfs@openssh.com answered');
    assert.equal(out.realpath, '/');
  });
});

describe('PuTTY psftp and pscp -sftp', () => {
  let ppk = '';
  let fp = '';
  const home = join(t.dir, 'puttyhome');
  const putty = (tool: string, args: string[], input?: string) =>
    runAsync(tool, ['-batch', '-noagent', '-P', String(srv.port), '-i', ppk, '-hostkey', fp, ...args], { input, env: { HOME: home } });
  before(() => {
    mkdirSync(home);
    ppk = `${srv.key}.ppk`;
    assert.equal(openssh('puttygen', [srv.key, '-O', 'private', '-o', ppk]).status, 0);
    fp = openssh('ssh-keygen', ['-l', '-f', srv.hostPub]).stdout.split(' ')[1]!;
  });

  it('psftp -b: put/get 0 B, 1 B, 50 MB byte-exact, reget/reput, mkdir/mv/chmod/ls/rm/rmdir (psftp 0.78 has no ln)', async () => {
    const batch = join(t.dir, 'psftp.batch');
    const lines = [`lcd ${local}`];
    for (const n of NAMES) lines.push(`put ${n} ps-${n}`, `get ps-${n} ps-back-${n}`);
    lines.push('reput big ps-partial', 'reget ps-big ps-back-partial', 'mkdir psdir', 'mv ps-one psdir/one', 'chmod 640 psdir/one', 'ls psdir');
    writeFileSync(batch, lines.join('\n') + '\n');
    writeFileSync(join(root, 'ps-partial'), readFileSync(join(local, 'big')).subarray(0, 4321));
    writeFileSync(join(local, 'ps-back-partial'), readFileSync(join(local, 'big')).subarray(0, 777));
    const r = await putty('psftp', ['-b', batch, 'alice@127.0.0.1']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const n of NAMES) {
      const up = n === 'one' ? join(root, 'psdir/one') : join(root, `ps-${n}`);
      assert.equal(sha(up), sha(join(local, n)), `psftp put ${n}`);
      assert.equal(sha(join(local, `ps-back-${n}`)), sha(join(local, n)), `psftp get ${n}`);
    }
    assert.equal(sha(join(root, 'ps-partial')), sha(join(local, 'big')), 'reput completed the file');
    assert.equal(sha(join(local, 'ps-back-partial')), sha(join(local, 'big')), 'reget completed the file');
    assert.match(r.stdout, /-rw-r-----.* one/);
    writeFileSync(batch, 'rm psdir/one\nrmdir psdir\n');
    const rm = await putty('psftp', ['-b', batch, 'alice@127.0.0.1']);
    assert.equal(rm.status, 0, rm.stdout + rm.stderr);
    assert.equal(existsSync(join(root, 'psdir')), false);
  });

  it('pscp -sftp: 0 B, 1 B, 50 MB up and down byte-exact', async () => {
    for (const n of NAMES) {
      const up = await putty('pscp', ['-sftp', '-q', join(local, n), `alice@127.0.0.1:pscp-${n}`]);
      assert.equal(up.status, 0, up.stdout + up.stderr);
      const down = await putty('pscp', ['-sftp', '-q', `alice@127.0.0.1:pscp-${n}`, join(local, `pscp-back-${n}`)]);
      assert.equal(down.status, 0, down.stdout + down.stderr);
      assert.equal(sha(join(root, `pscp-${n}`)), sha(join(local, n)));
      assert.equal(sha(join(local, `pscp-back-${n}`)), sha(join(local, n)));
    }
  });
});

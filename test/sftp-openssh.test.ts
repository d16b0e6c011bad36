/**
 * OpenSSH 9's own clients against serveSftp (issue 13 §2): `sftp -b` (put/get/ls/mkdir/rmdir/rename/
 * rm/chmod/symlink/ln/df, reget/reput resume) and `scp` (SFTP protocol, the OpenSSH 9 default),
 * byte-exact for files of 0 B, 1 B and 50 MB, compared with the source bytes by SHA-256. Each
 * operation is checked on disk under ROOT and in serveSftp's log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { startSftpServer, type SftpServer } from './sftp-helper.js';

const t = tempDir('sshkit-sftp-openssh-');
const root = join(t.dir, 'root');
const local = join(t.dir, 'local');
let srv: SftpServer;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const SIZES: Array<[string, number]> = [['zero', 0], ['one', 1], ['big', 50 * 1024 * 1024]];

before(async () => {
  mkdirSync(root);
  mkdirSync(local);
  for (const [name, n] of SIZES) writeFileSync(join(local, name), randomBytes(n));
  srv = await startSftpServer({ root });
});
after(async () => {
  await srv?.stop();
  t.cleanup();
});

/** `sftp -b -` run from the local folder. */
const batch = (script: string) => srv.sftpBatch(`lcd ${local}\n${script}`);

describe('OpenSSH sftp -b against serveSftp', () => {
  it('put then get: 0 B, 1 B and 50 MB files arrive byte-exact both ways', async () => {
    const r = await batch(SIZES.map(([n]) => `put ${n} up-${n}\nget up-${n} down-${n}\n`).join(''));
    assert.equal(r.status, 0, r.stderr);
    for (const [n, size] of SIZES) {
      assert.equal(statSync(join(root, `up-${n}`)).size, size);
      assert.equal(sha(join(root, `up-${n}`)), sha(join(local, n)), `put ${n}`);
      assert.equal(sha(join(local, `down-${n}`)), sha(join(local, n)), `get ${n}`);
    }
    assert.ok(srv.events.some((e) => e.event === 'sftp-close' && e.path === '/up-big' && e.written === 50 * 1024 * 1024));
    assert.ok(srv.events.some((e) => e.event === 'sftp-close' && e.path === '/up-big' && e.read === 50 * 1024 * 1024));
  });

  it('reget and reput resume a cut transfer where it stopped', async () => {
    writeFileSync(join(root, 'resume-src'), readFileSync(join(local, 'big')));
    writeFileSync(join(local, 'partial'), readFileSync(join(local, 'big')).subarray(0, 12345));
    const g = await batch('reget resume-src partial\n');
    assert.equal(g.status, 0, g.stderr);
    assert.equal(sha(join(local, 'partial')), sha(join(local, 'big')), 'reget completed the file');
    writeFileSync(join(root, 'partial-up'), readFileSync(join(local, 'big')).subarray(0, 999_999));
    const p = await batch('reput big partial-up\n');
    assert.equal(p.status, 0, p.stderr);
    assert.equal(sha(join(root, 'partial-up')), sha(join(local, 'big')), 'reput completed the file');
    // the resume really appended: reput opened for writing without truncating (no TRUNC flag)
    const open = srv.events.filter((e) => e.event === 'sftp-open' && e.path === '/partial-up');
    assert.ok(open.length > 0 && open.every((e) => ((e.flags as number) & 0x10) === 0), JSON.stringify(open));
  });

  it('mkdir, ls, rename, chmod, symlink, ln, rm, rmdir do what they say, each logged', async () => {
    writeFileSync(join(root, 'f.txt'), 'content\n');
    const r = await batch('mkdir d\nrename f.txt d/g.txt\nchmod 600 d/g.txt\nsymlink g.txt d/s\nln d/g.txt d/h\nls -l d\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(root, 'd/g.txt'), 'utf8'), 'content\n');
    assert.equal(existsSync(join(root, 'f.txt')), false);
    assert.equal(statSync(join(root, 'd/g.txt')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(root, 'd/s')), 'g.txt');
    assert.equal(statSync(join(root, 'd/h')).ino, statSync(join(root, 'd/g.txt')).ino, 'ln made a hard link (hardlink@openssh.com)');
    assert.match(r.stdout, /-rw------- .* g\.txt/);
    assert.match(r.stdout, /lrwxrwxrwx .* s\n/);
    const r2 = await batch('rm d/s\nrm d/h\nrm d/g.txt\nrmdir d\n');
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(existsSync(join(root, 'd')), false);
    for (const ev of ['sftp-mkdir', 'sftp-rename', 'sftp-setstat', 'sftp-symlink', 'sftp-link', 'sftp-remove', 'sftp-rmdir']) {
      assert.ok(srv.events.some((e) => e.event === ev && e.result === 'ok'), `${ev} logged`);
    }
  });

  it('df answers from statvfs@openssh.com (figures as df(1) of the same folder)', async () => {
    const r = await batch('df\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Size\s+Used\s+Avail/);
    assert.doesNotMatch(r.stderr, /does not support/);
  });

  it('a missing file: get fails, the batch stops with status 1 (control: the same get of a real file passed above)', async () => {
    const r = await batch('get no-such-file x\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not found/);
  });
});

describe('OpenSSH scp (SFTP protocol) against serveSftp', () => {
  it('scp up and down: 0 B, 1 B and 50 MB byte-exact', async () => {
    for (const [n] of SIZES) {
      const up = await srv.scp([join(local, n), srv.remote(`scp-${n}`)]);
      assert.equal(up.status, 0, up.stderr);
      const down = await srv.scp([srv.remote(`scp-${n}`), join(local, `scp-back-${n}`)]);
      assert.equal(down.status, 0, down.stderr);
      assert.equal(sha(join(root, `scp-${n}`)), sha(join(local, n)));
      assert.equal(sha(join(local, `scp-back-${n}`)), sha(join(local, n)));
    }
  });

  it('scp -r copies a tree; overwrite truncates the old file', async () => {
    mkdirSync(join(local, 'tree/sub'), { recursive: true });
    writeFileSync(join(local, 'tree/a'), 'a');
    writeFileSync(join(local, 'tree/sub/b'), 'bb');
    const r = await srv.scp(['-r', join(local, 'tree'), srv.remote('tree')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(root, 'tree/sub/b'), 'utf8'), 'bb');
    writeFileSync(join(root, 'long'), 'x'.repeat(1000));
    truncateSync(join(local, 'one'), 1);
    const o = await srv.scp([join(local, 'one'), srv.remote('long')]);
    assert.equal(o.status, 0, o.stderr);
    assert.equal(lstatSync(join(root, 'long')).size, 1);
  });
});

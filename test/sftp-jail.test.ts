/**
 * The SFTP root is a jail, tested by attack (issue 13 §2) through ssh2's own client SFTP, in-process
 * (raw requests, no client-side path cleaning): `..`, absolute paths, existing symlinks (absolute
 * and relative, in the middle and at the end of a path), symlinks made over SFTP, hard links,
 * rename targets, setstat/mkdir/open-create through a symlink, a NUL in a name, and a race that
 * swaps a folder for a symlink to the outside while the client opens through it. OUTSIDE is a
 * sibling of ROOT holding a secret; every attack checks OUTSIDE is unchanged, and every refusal has a
 * passing control beside it on the same server (the same request shape aimed inside ROOT).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { tempDir } from './helpers.js';
import { startSftpServer, type SftpServer } from './sftp-helper.js';

const t = tempDir('sshkit-sftp-jail-');
const root = join(t.dir, 'root');
const outside = join(t.dir, 'outside');
let srv: SftpServer;
let conn: { sftp: ssh2.SFTPWrapper; end(): void };
let s: ssh2.SFTPWrapper;

/** ssh2's callback API as a promise; rejects with the status code (2 no such file, 3 denied, 4 failure, 5 bad message). */
function call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => (s as any)[method](...args, (err: any, v: T) => (err ? reject(Object.assign(err, { status: err.code })) : resolve(v))));
}
const read = (p: string) => call<Buffer>('readFile', p).then((b) => b.toString('utf8'));
const write = (p: string, data: string) => call('writeFile', p, data);
const refused = async (p: Promise<unknown>, codes = [2, 3, 4]) => {
  const err = await p.then(
    () => null,
    (e) => e,
  );
  assert.ok(err, 'the request was refused');
  assert.ok(codes.includes(err.status), `status ${err.status} (${err.message})`);
};
const outsideNames = () => readdirSync(outside).sort().join(',');

before(async () => {
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, 'etc'));
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'SECRET\n', { mode: 0o644 });
  writeFileSync(join(root, 'etc/passwd'), 'jailed passwd\n');
  writeFileSync(join(root, 'inside.txt'), 'inside\n');
  writeFileSync(join(root, 'sub/file'), 'sub file\n');
  symlinkSync(outside, join(root, 'esc-abs')); // absolute, to the outside
  symlinkSync('../outside', join(root, 'esc-rel')); // relative, climbing out
  symlinkSync('../../outside/secret', join(root, 'sub/esc-file'));
  symlinkSync(join(outside, 'created'), join(root, 'dangling-out'));
  symlinkSync('sub', join(root, 'good-rel')); // stays inside: works
  symlinkSync(join(realpathSync(root), 'sub'), join(root, 'good-abs')); // ROOT's own real path: works
  symlinkSync('made-by-dangling', join(root, 'dangling-in'));
  srv = await startSftpServer({ root });
  conn = await srv.connect();
  s = conn.sftp;
});
after(async () => {
  conn?.end();
  await srv?.stop();
  t.cleanup();
});

describe('sftp jail: paths', () => {
  it('`..` and absolute paths stay in ROOT: /etc/passwd and ../../etc/passwd are ROOT/etc/passwd', async () => {
    assert.equal(await read('/etc/passwd'), 'jailed passwd\n');
    assert.equal(await read('../../../../../etc/passwd'), 'jailed passwd\n');
    assert.equal(await read('sub/../../../etc/passwd'), 'jailed passwd\n');
    await refused(read('../outside/secret'), [2]);
    assert.equal(await read('inside.txt'), 'inside\n', 'control');
  });

  it('realpath never names anything above / nor ROOT\'s real location', async () => {
    assert.equal(await call('realpath', '../../..'), '/');
    assert.equal(await call('realpath', 'good-abs'), '/sub');
    assert.equal(await call('realpath', 'good-rel/file'), '/sub/file');
  });

  it('a NUL byte in a name is a bad message, and the session goes on', async () => {
    await refused(read('inside.txt\0../../outside/secret'), [2, 5]);
    assert.equal(await read('inside.txt'), 'inside\n', 'control');
  });
});

describe('sftp jail: existing symlinks', () => {
  it('a symlink to the outside (absolute or relative, mid-path or last) reads nothing outside', async () => {
    await refused(read('esc-abs/secret'), [2]);
    await refused(read('esc-rel/secret'), [2]);
    await refused(read('sub/esc-file'), [2]);
    await refused(call('readdir', 'esc-abs'), [2]);
    assert.equal(await read('good-rel/file'), 'sub file\n', 'control: a relative link inside');
    assert.equal(await read('good-abs/file'), 'sub file\n', 'control: an absolute link to ROOT\'s real path');
    assert.deepEqual(((await call<any[]>('readdir', 'good-rel')) as any[]).map((e) => e.filename).sort(), ['esc-file', 'file']);
  });

  it('writes, creates, mkdir and chmod through such links change nothing outside', async () => {
    const before = outsideNames();
    await refused(write('esc-abs/new', 'x'), [2]);
    await refused(write('esc-rel/new', 'x'), [2]);
    await refused(write('dangling-out', 'x'), [2]);
    await refused(call('mkdir', 'esc-abs/newdir'), [2]);
    await refused(call('chmod', 'esc-rel/secret', 0o600), [2]);
    await refused(call('chmod', 'sub/esc-file', 0o600), [2]);
    assert.equal(outsideNames(), before);
    assert.equal(statSync(join(outside, 'secret')).mode & 0o777, 0o644);
    await write('good-rel/new', 'ok');
    assert.equal(readFileSync(join(root, 'sub/new'), 'utf8'), 'ok', 'control: a write through an inside link');
    await write('dangling-in', 'via link');
    assert.equal(readFileSync(join(root, 'made-by-dangling'), 'utf8'), 'via link', 'control: creating through a dangling inside link');
  });

  it('removing a link removes the link, never its target', async () => {
    symlinkSync(join(outside, 'secret'), join(root, 'rm-me'));
    await call('unlink', 'rm-me');
    assert.equal(existsSync(join(root, 'rm-me')), false);
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'SECRET\n');
  });
});

describe('sftp jail: links, renames made over SFTP', () => {
  it('SYMLINK with an absolute or climbing target is refused; a relative inside one works', async () => {
    await refused(call('symlink', outside, 'mine-abs'), [3]);
    await refused(call('symlink', '../outside', 'mine-rel'), [3]);
    await refused(call('symlink', '../../outside/secret', 'sub/mine-deep'), [3]);
    assert.equal(existsSync(join(root, 'mine-abs')) || existsSync(join(root, 'mine-rel')), false);
    await call('symlink', '../inside.txt', 'sub/mine-ok');
    assert.equal(await read('sub/mine-ok'), 'inside\n', 'control');
    assert.ok(srv.events.some((e) => e.event === 'sftp-symlink' && e.result === 'EPERM'));
  });

  it('hardlink@openssh.com cannot link anything from outside', async () => {
    const h = (a: string, b: string) => call('ext_openssh_hardlink', a, b);
    await refused(h('../outside/secret', 'hl1'), [2]);
    await refused(h('esc-abs/secret', 'hl2'), [2]);
    assert.equal(statSync(join(outside, 'secret')).nlink, 1, 'the secret has no new link');
    await h('inside.txt', 'hl-ok');
    assert.equal(statSync(join(root, 'hl-ok')).ino, statSync(join(root, 'inside.txt')).ino, 'control');
    // a hard link to an escaping symlink is only another escaping symlink, resolved in the jail
    await h('sub/esc-file', 'hl-of-link');
    assert.ok(lstatSync(join(root, 'hl-of-link')).isSymbolicLink());
    await refused(read('hl-of-link'), [2]);
  });

  it('rename targets outside (by .., by a symlinked folder) go nowhere outside', async () => {
    writeFileSync(join(root, 'mv-me'), 'move\n');
    const before = outsideNames();
    await refused(call('rename', 'mv-me', '../outside/stolen'), [2]);
    await refused(call('rename', 'mv-me', 'esc-abs/stolen'), [2]);
    await refused(call('ext_openssh_rename', 'mv-me', 'esc-rel/stolen'), [2]);
    await refused(call('rename', 'esc-abs/secret', 'got-secret'), [2]);
    assert.equal(outsideNames(), before);
    await call('rename', 'mv-me', 'sub/moved');
    assert.equal(readFileSync(join(root, 'sub/moved'), 'utf8'), 'move\n', 'control');
  });
});

describe('sftp jail: no setuid files, no owner changes (the server may run as root)', () => {
  it('chmod 4755 / 2755 sets the permission bits without setuid/setgid; chown to another owner is refused', async () => {
    writeFileSync(join(root, 'suid'), '#!/bin/sh\n');
    await call('chmod', 'suid', 0o4755);
    assert.equal(statSync(join(root, 'suid')).mode & 0o7777, 0o755);
    await call('chmod', 'suid', 0o2750);
    assert.equal(statSync(join(root, 'suid')).mode & 0o7777, 0o750);
    const h = await call<Buffer>('open', 'made-suid', 'w', { mode: 0o6777 });
    await call('close', h);
    assert.equal(statSync(join(root, 'made-suid')).mode & 0o6000, 0, 'open(CREAT) with setuid bits');
    const st = statSync(join(root, 'suid'));
    await refused(call('chown', 'suid', st.uid + 1, st.gid), [3]);
    assert.equal(statSync(join(root, 'suid')).uid, st.uid);
    await call('chown', 'suid', st.uid, st.gid); // control: naming the current owner is fine
  });
});

describe('sftp jail: a folder swapped for a symlink while the client opens through it', () => {
  it('no read returns the secret and no write lands outside, while reads inside succeed', async () => {
    mkdirSync(join(root, 'race'));
    writeFileSync(join(root, 'race/f'), 'inside\n');
    writeFileSync(join(outside, 'f'), 'SECRET\n');
    const before = outsideNames();
    // the swapper is another process (this one runs the server): rename the folder away, put a symlink in its place, undo
    const script = `const fs=require('fs');const r=${JSON.stringify(join(root, 'race'))};const end=Date.now()+4000;let n=0;
      while(Date.now()<end){try{fs.renameSync(r,r+'.d');fs.symlinkSync(${JSON.stringify(outside)},r);fs.unlinkSync(r);fs.renameSync(r+'.d',r);n++}catch(e){}}
      try{fs.unlinkSync(r)}catch{};try{fs.renameSync(r+'.d',r)}catch{};console.log(n)`;
    const swapper = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let swaps = '';
    swapper.stdout.on('data', (d) => (swaps += d));
    const done = new Promise((r) => swapper.on('close', r));
    let ok = 0;
    let secret = 0;
    let running = true;
    void done.then(() => (running = false));
    while (running) {
      const got = await read('race/f').catch(() => null);
      if (got === 'inside\n') ok++;
      else if (got !== null) secret++;
      await write(`race/w${ok % 5}`, 'x').catch(() => null);
      await call('stat', 'race/f').catch(() => null);
    }
    await done;
    assert.ok(Number(swaps) > 100, `the folder was swapped (${swaps.trim()} times)`);
    assert.equal(secret, 0, 'a read returned the outside file');
    assert.ok(ok > 0, 'control: reads through the real folder succeeded during the race');
    assert.equal(outsideNames(), before, 'nothing was written outside');
    assert.equal(readFileSync(join(outside, 'f'), 'utf8'), 'SECRET\n');
  });
});

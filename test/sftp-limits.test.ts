/**
 * serveSftp's limits and `readOnly` (issue 13 §2): open handles per session (the 65th open is
 * SSH_FX_FAILURE, closing one makes room), the READ length cap, the request size cap (ssh2's packet
 * limit: an oversized packet ends that session, logged, not the server), output backpressure (a
 * Paramiko client that sends 400 READs of 255 KiB and reads no reply costs bounded memory, then gets
 * every reply once it reads), and `--sftp-read-only` (every change refused with
 * SSH_FX_PERMISSION_DENIED, ROOT unchanged, reads still served). Each refusal has its control.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type ssh2 from 'ssh2';
import { openssh, ROOT, tempDir } from './helpers.js';
import { startSftpServer, type SftpServer } from './sftp-helper.js';

const t = tempDir('sshkit-sftp-limits-');
const root = join(t.dir, 'root');
let srv: SftpServer;

type Conn = { sftp: ssh2.SFTPWrapper; end(): void };
function call<T = unknown>(s: ssh2.SFTPWrapper, method: string, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => (s as any)[method](...args, (err: any, ...v: unknown[]) => (err ? reject(err) : resolve((v.length > 1 ? v : v[0]) as T))));
}
const statusOf = (p: Promise<unknown>) => p.then(() => 0, (e) => e.code as number);

before(async () => {
  mkdirSync(root);
  writeFileSync(join(root, 'f'), 'file\n');
  writeFileSync(join(root, 'big'), randomBytes(8 * 1024 * 1024));
  srv = await startSftpServer({ root });
});
after(async () => {
  await srv?.stop();
  t.cleanup();
});

describe('sftp limits', () => {
  it('64 handles per session: the 65th open is SSH_FX_FAILURE; closing one lets the next open', async () => {
    const c: Conn = await srv.connect();
    try {
      const hs: Buffer[] = [];
      for (let i = 0; i < 64; i++) hs.push(await call<Buffer>(c.sftp, 'open', 'f', 'r'));
      assert.equal(await statusOf(call(c.sftp, 'open', 'f', 'r')), 4);
      assert.equal(await statusOf(call(c.sftp, 'opendir', '/')), 4);
      assert.ok(srv.events.some((e) => e.event === 'sftp-open' && e.result === 'too-many-handles'));
      await call(c.sftp, 'close', hs.pop());
      hs.push(await call<Buffer>(c.sftp, 'open', 'f', 'r')); // control
    } finally {
      c.end();
    }
  });

  it('a READ asks for 1 MiB: 255 KiB come back (limits@openssh.com read length)', async () => {
    const c: Conn = await srv.connect();
    try {
      (c.sftp as any)._maxReadLen = 1 << 20; // let ssh2's client send one 1 MiB READ
      const h = await call<Buffer>(c.sftp, 'open', 'big', 'r');
      const [n] = await call<[number]>(c.sftp, 'read', h, Buffer.alloc(1 << 20), 0, 1 << 20, 0);
      assert.equal(n, 256 * 1024 - 1024);
      const [n2] = await call<[number]>(c.sftp, 'read', h, Buffer.alloc(1000), 0, 1000, 0);
      assert.equal(n2, 1000, 'control: a short read is answered whole');
    } finally {
      c.end();
    }
  });

  it('a request packet over 256 KiB ends that session (logged); the server serves the next one', async () => {
    const c: Conn = await srv.connect();
    const s = c.sftp as any;
    const closed = new Promise((r) => s.once('close', r));
    const hdr = Buffer.alloc(9);
    hdr.writeUInt32BE(300 * 1024, 0); // claims a 300 KiB packet
    hdr[4] = 6; // SSH_FXP_WRITE
    s._protocol.channelData(s.outgoing.id, hdr);
    await closed;
    c.end();
    assert.ok(srv.events.some((e) => e.event === 'sftp-error' && /exceeds max length/.test(String(e.reason))));
    const again: Conn = await srv.connect();
    assert.equal((await call<Buffer>(again.sftp, 'readFile', 'f')).toString(), 'file\n', 'control');
    again.end();
  });

  it('malformed or unknown EXTENDED requests get a status (5 bad message, 8 unsupported), never a crash', async () => {
    const c: Conn = await srv.connect();
    const s = c.sftp as any;
    /** Sends SSH_FXP_EXTENDED `name` + `data` raw; resolves with the reply's status code (0 for a non-status reply). */
    const ext = (id: number, name: string, data: Buffer) =>
      new Promise<number>((resolve) => {
        s._requests[id] = { cb: (err: any) => resolve(err ? err.code : 0), extended: name };
        const n = Buffer.from(name);
        const body = Buffer.concat([Buffer.from([200]), Buffer.alloc(4), Buffer.alloc(4), n, data]);
        body.writeUInt32BE(id, 1);
        body.writeUInt32BE(n.length, 5);
        const len = Buffer.alloc(4);
        len.writeUInt32BE(body.length);
        s._protocol.channelData(s.outgoing.id, Buffer.concat([len, body]));
      });
    try {
      assert.equal(await ext(0x7fff0001, 'statvfs@openssh.com', Buffer.from([0, 0, 0, 9, 1])), 5, 'truncated path');
      assert.equal(await ext(0x7fff0002, 'hardlink@openssh.com', Buffer.from([0, 0, 0, 1, 0x61])), 5, 'one string of two');
      assert.equal(await ext(0x7fff0003, 'posix-rename@openssh.com', Buffer.from([0, 0, 0, 1, 0x61, 0, 0, 0, 1, 0x62, 9])), 5, 'trailing byte');
      assert.equal(await ext(0x7fff0004, 'no-such@example.com', Buffer.alloc(0)), 8);
      const vfs = await call<{ f_bsize: number; f_blocks: number }>(c.sftp, 'ext_openssh_statvfs', '/');
      // control: a well-formed statvfs@openssh.com, with coreutils' `stat -f -c '%S %b' ROOT` figures
      const [bsize, blocks] = openssh('stat', ['-f', '-c', '%S %b', root]).stdout.trim().split(' ').map(Number);
      assert.equal(vfs.f_bsize, bsize);
      assert.equal(vfs.f_blocks, blocks);
    } finally {
      c.end();
    }
  });

  it('a client that stops reading 400 × 255 KiB of replies costs bounded memory, and gets them all after', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const child = spawn('/usr/bin/python3', [join(ROOT, 'test/peers/sftp-stall.py'), String(srv.port), srv.key, '/big', '400', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const status = await new Promise((r) => child.on('close', r));
    clearInterval(timer);
    assert.equal(status, 0, err);
    const m = /drained (\d+) (\d+)/.exec(out);
    assert.ok(m, out);
    assert.equal(Number(m![1]), 400, 'every reply arrived once the client read');
    assert.equal(Number(m![2]), 400 * (256 * 1024 - 1024));
    // unbounded, the 400 replies (100 MiB) would wait in memory; bounded, ~4 MiB of output waits
    const grew = (peak - before) / 1024 / 1024;
    assert.ok(grew < 60, `RSS grew ${grew.toFixed(1)} MiB while the client did not read`);
  });
});

describe('sftp readOnly', () => {
  let ro: SftpServer;
  let c: Conn;
  before(async () => {
    mkdirSync(join(root, 'dir'));
    ro = await startSftpServer({ root, readOnly: true });
    c = await ro.connect();
  });
  after(async () => {
    c?.end();
    await ro?.stop();
  });

  it('every change is SSH_FX_PERMISSION_DENIED and logged; ROOT is unchanged; reads are served', async () => {
    const snapshot = () => readdirSync(root, { recursive: true }).sort().join(',') + readFileSync(join(root, 'f'), 'utf8');
    const was = snapshot();
    const s = c.sftp;
    const writes: Array<[string, Promise<unknown>]> = [
      ['open w', call(s, 'open', 'new', 'w')],
      ['open a', call(s, 'open', 'f', 'a')],
      ['open r+', call(s, 'open', 'f', 'r+')],
      ['mkdir', call(s, 'mkdir', 'd2')],
      ['rmdir', call(s, 'rmdir', 'dir')],
      ['remove', call(s, 'unlink', 'f')],
      ['rename', call(s, 'rename', 'f', 'g')],
      ['posix-rename', call(s, 'ext_openssh_rename', 'f', 'g')],
      ['hardlink', call(s, 'ext_openssh_hardlink', 'f', 'g')],
      ['setstat', call(s, 'chmod', 'f', 0o600)],
      ['symlink', call(s, 'symlink', 'f', 'l')],
    ];
    for (const [what, p] of writes) assert.equal(await statusOf(p), 3, what);
    const h = await call<Buffer>(s, 'open', 'f', 'r');
    assert.equal(await statusOf(call(s, 'fchmod', h, 0o600)), 3, 'fsetstat');
    assert.equal(snapshot(), was);
    assert.equal((await call<Buffer>(s, 'readFile', 'f')).toString(), 'file\n', 'control: reading works');
    assert.ok((await call<unknown[]>(s, 'readdir', '/')).length > 0, 'control: listing works');
    assert.equal(ro.events.filter((e) => e.event === 'sftp-refused' && e.reason === 'read-only').length, writes.length + 1);
  });
});

/**
 * SSH_FXP_OPEN, READ, WRITE, CLOSE, FSTAT, FSETSTAT (draft-02 §6.3–6.4, §6.9), as sftp-server's
 * process_open()/process_read()/...: only regular files are opened (a FIFO or device would block or
 * reach outside the folder tree), a READ is answered with at most `maxRead` bytes, and a file is
 * created only by name inside a parent folder fd the jail walked (O_NOFOLLOW on the name; a symlink
 * there is followed by the jail, never by the kernel).
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, ftruncateSync, futimesSync, openSync, read, write } from 'node:fs';
import { promisify } from 'node:util';
import { attrsOf, FX, FXF, openFlags, writes } from './attrs.js';
import { applyAttrs, fail, MODE_MASK, ok, readOnlyRefusal, type Ctx } from './context.js';
import { at, MAX_HOPS, type Parent } from './jail.js';

const readAsync = promisify(read);
const writeAsync = promisify(write);

/** Opens `path` as the client asked; the fd is inside ROOT (walked, then checked by its real path). */
function openInJail(ctx: Ctx, path: string, pflags: number, mode: number): number {
  const flags = openFlags(pflags) | constants.O_NONBLOCK;
  if (pflags & FXF.CREAT) {
    let p: Parent = ctx.jail.parent(path);
    try {
      for (let hops = 0; ; hops++) {
        ctx.jail.assertInside(p.dirFd);
        try {
          return openSync(at(p.dirFd, p.name), flags | constants.O_NOFOLLOW, mode);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ELOOP' || hops >= MAX_HOPS) throw e;
          const next = ctx.jail.parentOfLink(p); // the name is a symlink: create (or open) its target, jailed
          p.close();
          p = next;
        }
      }
    } finally {
      p.close();
    }
  }
  const r = ctx.jail.resolve(path);
  try {
    if (!r.stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: r.stats.isDirectory() ? 'EISDIR' : 'EACCES' });
    return openSync(at(r.fd), flags); // re-opens the inode the O_PATH fd holds: no second lookup
  } finally {
    r.close();
  }
}

/** SSH_FXP_OPEN. */
export function opOpen(ctx: Ctx, reqid: number, path: string, pflags: number, attrs: { mode?: number }): void {
  if (ctx.readOnly && writes(pflags)) return readOnlyRefusal(ctx, reqid, 'open', path);
  if (ctx.handles.full()) {
    ctx.log('sftp-open', { path, flags: pflags, result: 'too-many-handles' });
    return ctx.sftp.status(reqid, FX.FAILURE, `too many open handles (${ctx.handles.max})`);
  }
  let fd = -1;
  try {
    fd = openInJail(ctx, path, pflags, typeof attrs?.mode === 'number' ? attrs.mode & MODE_MASK : 0o666);
    ctx.jail.assertInside(fd);
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EACCES' });
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    ctx.log('sftp-open', { path, flags: pflags, result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    return fail(ctx, reqid, e);
  }
  const writable = (pflags & (FXF.WRITE | FXF.APPEND)) !== 0;
  const handle = ctx.handles.add({ kind: 'file', fd, path, writable, bytesRead: 0, bytesWritten: 0 });
  ctx.log('sftp-open', { path, flags: pflags, mode: writable ? 'write' : 'read', handle: handle.toString('hex'), result: 'ok' });
  ctx.sftp.handle(reqid, handle);
}

/** A file offset as a safe integer (ssh2 reads uint64 as a number; beyond 2^53 it is not exact). */
function offsetOf(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw Object.assign(new Error('bad offset'), { code: 'EINVAL' });
  return v;
}

/** SSH_FXP_READ: at most maxRead bytes; SSH_FX_EOF at or past the end. */
export async function opRead(ctx: Ctx, reqid: number, handle: Buffer, offset: number, len: number): Promise<void> {
  const h = ctx.handles.file(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  try {
    const n = Math.min(len, ctx.limits.maxRead);
    const { bytesRead } = await readAsync(h.fd, ctx.readBuf, 0, n, offsetOf(offset));
    if (bytesRead === 0) return ctx.sftp.status(reqid, FX.EOF, 'End of file');
    h.bytesRead += bytesRead;
    ctx.sftp.data(reqid, ctx.readBuf.subarray(0, bytesRead));
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_WRITE: all of `data` at `offset` (a short write is retried, as sftp-server's loop). */
export async function opWrite(ctx: Ctx, reqid: number, handle: Buffer, offset: number, data: Buffer): Promise<void> {
  const h = ctx.handles.file(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  if (!h.writable) return ctx.sftp.status(reqid, FX.PERMISSION_DENIED, 'handle not open for writing');
  try {
    let pos = offsetOf(offset);
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await writeAsync(h.fd, data, done, data.length - done, pos);
      if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      done += bytesWritten;
      pos += bytesWritten;
    }
    h.bytesWritten += data.length;
    ok(ctx, reqid);
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_CLOSE of a file or folder handle; the log line carries the byte counts. */
export function opClose(ctx: Ctx, reqid: number, handle: Buffer): void {
  const h = ctx.handles.take(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  try {
    if (h.kind === 'dir') {
      h.dir.closeSync();
      closeSync(h.fd);
      ctx.log('sftp-close', { path: h.path, handle: handle.toString('hex'), kind: 'dir', result: 'ok' });
    } else {
      closeSync(h.fd);
      ctx.log('sftp-close', { path: h.path, handle: handle.toString('hex'), read: h.bytesRead, written: h.bytesWritten, result: 'ok' });
    }
    ok(ctx, reqid);
  } catch (e) {
    ctx.log('sftp-close', { path: h.path, result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_FSTAT. */
export function opFstat(ctx: Ctx, reqid: number, handle: Buffer): void {
  const h = ctx.handles.get(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  try {
    ctx.sftp.attrs(reqid, attrsOf(fstatSync(h.fd)));
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_FSETSTAT: size, permissions, times, owner on the open file. */
export function opFsetstat(ctx: Ctx, reqid: number, handle: Buffer, attrs: object): void {
  const h = ctx.handles.file(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'fsetstat', h.path);
  try {
    applyAttrs(attrs, {
      truncate: (n) => ftruncateSync(h.fd, n),
      chmod: (m) => fchmodSync(h.fd, m),
      utimes: (a, m) => futimesSync(h.fd, a, m),
      stat: () => fstatSync(h.fd),
    });
    ctx.log('sftp-setstat', { path: h.path, ...attrs, result: 'ok' });
    ok(ctx, reqid);
  } catch (e) {
    ctx.log('sftp-setstat', { path: h.path, result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    fail(ctx, reqid, e);
  }
}

/** fsync@openssh.com (PROTOCOL §4.6): flush an open file. */
export function opFsync(ctx: Ctx, reqid: number, handle: Buffer): void {
  const h = ctx.handles.file(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  try {
    fsyncSync(h.fd);
    ok(ctx, reqid);
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

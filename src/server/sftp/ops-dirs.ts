/**
 * SSH_FXP_OPENDIR and READDIR (draft-02 §6.7): the folder is found by the jail (symlinks followed
 * inside ROOT), held by its O_PATH fd, and listed in batches of {@link BATCH} names, each with its
 * lstat attributes and sftp-server's `ls -l` longname; SSH_FX_EOF after the last batch. Entries are
 * lstat'ed by name inside the held folder fd, so a listing never reports on anything outside.
 */
import { lstat, opendirSync, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { attrsOf, FX, longname } from './attrs.js';
import { fail, type Ctx } from './context.js';
import { at, virtualPath } from './jail.js';

const lstatAsync = promisify(lstat) as (p: string) => Promise<Stats>;

/** Names per SSH_FXP_NAME (sftp-server sends up to 100). */
export const BATCH = 100;

/** SSH_FXP_OPENDIR. */
export function opOpendir(ctx: Ctx, reqid: number, path: string): void {
  if (ctx.handles.full()) {
    ctx.log('sftp-open', { path, kind: 'dir', result: 'too-many-handles' });
    return ctx.sftp.status(reqid, FX.FAILURE, `too many open handles (${ctx.handles.max})`);
  }
  let r;
  try {
    r = ctx.jail.resolve(path);
  } catch (e) {
    ctx.log('sftp-open', { path, kind: 'dir', result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    return fail(ctx, reqid, e);
  }
  try {
    if (!r.stats.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    ctx.jail.assertInside(r.fd);
    const dir = opendirSync(at(r.fd), { bufferSize: BATCH });
    const shown = virtualPath(r.comps);
    const handle = ctx.handles.add({ kind: 'dir', fd: r.fd, dir, path: shown, done: false });
    ctx.log('sftp-open', { path, kind: 'dir', handle: handle.toString('hex'), result: 'ok' });
    ctx.sftp.handle(reqid, handle);
  } catch (e) {
    r.close();
    ctx.log('sftp-open', { path, kind: 'dir', result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_READDIR: the next batch, or SSH_FX_EOF. */
export async function opReaddir(ctx: Ctx, reqid: number, handle: Buffer): Promise<void> {
  const h = ctx.handles.dir(handle);
  if (!h) return ctx.sftp.status(reqid, FX.FAILURE, 'invalid handle');
  try {
    const names: string[] = [];
    while (!h.done && names.length < BATCH) {
      const ent = await h.dir.read();
      if (ent === null) h.done = true;
      else names.push(ent.name);
    }
    if (names.length === 0) return ctx.sftp.status(reqid, FX.EOF, 'End of file');
    const now = Date.now();
    const stats = await Promise.all(names.map((n) => lstatAsync(at(h.fd, n)).catch(() => null)));
    const out = [];
    for (let i = 0; i < names.length; i++) {
      const st = stats[i];
      if (!st) continue; // removed meanwhile
      out.push({ filename: names[i]!, longname: longname(names[i]!, st, now), attrs: attrsOf(st) });
    }
    if (out.length === 0) return opReaddir(ctx, reqid, handle);
    ctx.sftp.name(reqid, out);
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

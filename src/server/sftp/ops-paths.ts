/**
 * The path requests of draft-02 §6.5–6.10 (STAT, LSTAT, SETSTAT, MKDIR, RMDIR, REMOVE, RENAME,
 * REALPATH, READLINK, SYMLINK), each through the jail: a name is acted on only as `name` inside a
 * parent folder fd the jail walked (rename, unlink, mkdir, link and symlink never follow their last
 * component), and an object found by following symlinks is used through its O_PATH fd.
 * SSH_FXP_RENAME refuses an existing target (sftp-server: "fails if newpath exists").
 * SSH_FXP_SYMLINK's order is OpenSSH's (target, link) except for clients that send the draft's to a
 * server not named OpenSSH (wire.ts symlinkOrderByClient), and a target
 * that is absolute or climbs out of ROOT is refused, so no link made over SFTP points outside.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmdirSync, symlinkSync, truncateSync, unlinkSync, utimesSync, statSync } from 'node:fs';
import { attrsOf } from './attrs.js';
import { applyAttrs, fail, MODE_MASK, logged, readOnlyRefusal, type Ctx } from './context.js';
import { at, errno, normalize, virtualPath, type Parent } from './jail.js';

/** Runs `fn` with the open parent of `path`, closing it after. */
function withParent<T>(ctx: Ctx, path: string, fn: (p: Parent) => T): T {
  const p = ctx.jail.parent(path);
  try {
    ctx.jail.assertInside(p.dirFd);
    return fn(p);
  } finally {
    p.close();
  }
}

/** SSH_FXP_STAT (symlinks followed, jailed) and SSH_FXP_LSTAT (the last one not followed). */
export function opStat(ctx: Ctx, reqid: number, path: string, follow: boolean): void {
  try {
    if (follow || normalize(path).length === 0) {
      const r = ctx.jail.resolve(path);
      r.close();
      return ctx.sftp.attrs(reqid, attrsOf(r.stats));
    }
    ctx.sftp.attrs(reqid, attrsOf(withParent(ctx, path, (p) => lstatSync(at(p.dirFd, p.name)))));
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_SETSTAT: on the object the path names (followed), through its O_PATH fd. */
export function opSetstat(ctx: Ctx, reqid: number, path: string, attrs: object): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'setstat', path);
  logged(ctx, reqid, 'sftp-setstat', { path, ...attrs }, () => {
    const r = ctx.jail.resolve(path);
    try {
      ctx.jail.assertInside(r.fd);
      const p = at(r.fd);
      applyAttrs(attrs, {
        truncate: (n) => truncateSync(p, n),
        chmod: (m) => chmodSync(p, m),
        utimes: (a, m) => utimesSync(p, a, m),
        stat: () => statSync(p),
      });
    } finally {
      r.close();
    }
  });
}

/** SSH_FXP_MKDIR (mode from the attrs, else 0777 before the umask, as sftp-server). */
export function opMkdir(ctx: Ctx, reqid: number, path: string, attrs: { mode?: number }): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'mkdir', path);
  const mode = typeof attrs?.mode === 'number' ? attrs.mode & MODE_MASK : 0o777;
  logged(ctx, reqid, 'sftp-mkdir', { path }, () => withParent(ctx, path, (p) => mkdirSync(at(p.dirFd, p.name), mode)));
}

/** SSH_FXP_RMDIR. */
export function opRmdir(ctx: Ctx, reqid: number, path: string): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'rmdir', path);
  logged(ctx, reqid, 'sftp-rmdir', { path }, () => withParent(ctx, path, (p) => rmdirSync(at(p.dirFd, p.name))));
}

/** SSH_FXP_REMOVE (a symlink is removed, never what it points to). */
export function opRemove(ctx: Ctx, reqid: number, path: string): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'remove', path);
  logged(ctx, reqid, 'sftp-remove', { path }, () => withParent(ctx, path, (p) => unlinkSync(at(p.dirFd, p.name))));
}

/** Runs `fn` with both names' parents open (rename, hard link). */
function twoParents(ctx: Ctx, from: string, to: string, fn: (a: string, b: string) => void): void {
  withParent(ctx, from, (a) => withParent(ctx, to, (b) => fn(at(a.dirFd, a.name), at(b.dirFd, b.name))));
}

/** Does this name exist (as anything, a dangling symlink too)? */
function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** SSH_FXP_RENAME (refuses an existing target) and posix-rename@openssh.com (replaces it, rename(2)). */
export function opRename(ctx: Ctx, reqid: number, from: string, to: string, posix: boolean): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'rename', from);
  logged(ctx, reqid, 'sftp-rename', { from, to, posix: posix || undefined }, () =>
    twoParents(ctx, from, to, (a, b) => {
      if (!posix && exists(b)) throw errno('EEXIST', 'target exists');
      renameSync(a, b);
    }),
  );
}

/** hardlink@openssh.com (PROTOCOL §4.5): link(2), which does not follow a symlink named as the source. */
export function opHardlink(ctx: Ctx, reqid: number, from: string, to: string): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'hardlink', to);
  logged(ctx, reqid, 'sftp-link', { from, to }, () => twoParents(ctx, from, to, (a, b) => linkSync(a, b)));
}

/** Would this symlink text, read from the folder `dirComps`, stay inside ROOT? (relative, never above `/`) */
export function staysInside(target: string, dirComps: readonly string[]): boolean {
  if (target.startsWith('/') || target === '') return false;
  let depth = dirComps.length;
  for (const c of target.split('/')) {
    if (c === '..') depth--;
    else if (c !== '' && c !== '.') depth++;
    if (depth < 0) return false;
  }
  return true;
}

/** SSH_FXP_SYMLINK: `target` is the link's text, `link` the new name (sftp-server's order). */
export function opSymlink(ctx: Ctx, reqid: number, link: string, target: string): void {
  if (ctx.readOnly) return readOnlyRefusal(ctx, reqid, 'symlink', link);
  logged(ctx, reqid, 'sftp-symlink', { link, target }, () =>
    withParent(ctx, link, (p) => {
      if (!staysInside(target, p.comps.slice(0, -1))) throw errno('EPERM', 'symlink target outside the sftp root');
      symlinkSync(target, at(p.dirFd, p.name));
    }),
  );
}

/** SSH_FXP_READLINK: the link's text, as stored. */
export function opReadlink(ctx: Ctx, reqid: number, path: string): void {
  try {
    const text = withParent(ctx, path, (p) => readlinkSync(at(p.dirFd, p.name)));
    ctx.sftp.name(reqid, [{ filename: text, longname: text, attrs: {} }]);
  } catch (e) {
    fail(ctx, reqid, e);
  }
}

/** SSH_FXP_REALPATH: the canonical client path (symlinks resolved in the jail); the last name may not exist. */
export function opRealpath(ctx: Ctx, reqid: number, path: string): void {
  let comps: string[];
  try {
    const r = ctx.jail.resolve(path);
    r.close();
    comps = r.comps;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return fail(ctx, reqid, e);
    try {
      comps = withParent(ctx, path, (p) => p.comps);
    } catch (e2) {
      return fail(ctx, reqid, e2);
    }
  }
  const name = virtualPath(comps);
  ctx.sftp.name(reqid, [{ filename: name, longname: name, attrs: {} }]);
}

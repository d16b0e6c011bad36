/**
 * The SFTP root as a jail (issue 13 §2): every client path is resolved under ROOT without trusting a
 * string prefix and without a window between a check and the use. Node has no openat(2), but on Linux
 * a path through `/proc/self/fd/<dirfd>/<name>` is looked up from that directory fd, so the walk goes
 * one component at a time from a fd of ROOT, each opened `O_PATH|O_NOFOLLOW`:
 *  - `..` and `.` are removed lexically first, with `..` at `/` staying at `/` (ChrootDirectory's
 *    semantics, as internal-sftp under sshd), so the kernel never sees a `..`;
 *  - a symlink is never followed by the kernel: we read its text and walk it again inside the jail
 *    (absolute targets from ROOT, as under a chroot; a target naming ROOT's own real path is taken as
 *    ROOT), at most {@link MAX_HOPS} times (Linux's MAXSYMLINKS);
 *  - a component swapped for a symlink between two steps is seen by O_NOFOLLOW on the fd we open,
 *    not by an earlier check, so the race lands inside the jail as well.
 * Opened files and folders are also checked once more by the real path of the fd (readlink
 * /proc/self/fd/N) against ROOT's real path, component-wise, before any use: a second fence.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, realpathSync, type Stats } from 'node:fs';

/** Linux's O_PATH (fcntl.h): a fd naming a file without opening it for I/O; fstat and /proc re-open work. */
export const O_PATH = 0o10000000;
/** Symlinks followed per lookup, as Linux (MAXSYMLINKS = 40). */
export const MAX_HOPS = 40;

/** An errno-style error, so the status mapping (attrs.ts) treats jail refusals as the kernel's. */
export function errno(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** A client path split into components, `.`/`..`/empty removed; `..` never climbs above `/`. */
export function normalize(path: string, base: readonly string[] = []): string[] {
  const out = path.startsWith('/') ? [] : [...base];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

/** The client-visible path of components (`/` is ROOT). */
export const virtualPath = (comps: readonly string[]): string => '/' + comps.join('/');

/** A path that names `name` inside the directory open as `dirFd` (openat(dirFd, name) on Linux). */
export const at = (dirFd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${dirFd}` : `/proc/self/fd/${dirFd}/${name}`);

/** The parent of a path, open, plus the last name (which may not exist): what create/remove/rename need. */
export interface Parent {
  readonly dirFd: number;
  readonly name: string;
  /** The client-visible path of the entry. */
  readonly comps: string[];
  close(): void;
}

/** A resolved, existing object held by an O_PATH fd (use `at(fd)` as its path), symlinks followed. */
export interface Resolved {
  readonly fd: number;
  readonly comps: string[];
  readonly stats: Stats;
  close(): void;
}

/** One session's jail: ROOT's fd and real path. */
export class Jail {
  readonly rootFd: number;
  readonly realRoot: string;

  constructor(root: string) {
    this.realRoot = realpathSync(root);
    this.rootFd = openSync(this.realRoot, O_PATH | constants.O_DIRECTORY);
  }

  dispose(): void {
    try {
      closeSync(this.rootFd);
    } catch {
      /* already closed */
    }
  }

  private closer(fd: number): () => void {
    return () => {
      if (fd !== this.rootFd) closeSync(fd);
    };
  }

  /** A symlink's text, as the components to walk instead (absolute: from ROOT). */
  linkTarget(text: string, dirComps: readonly string[]): string[] {
    const rr = this.realRoot;
    if (text === rr || text.startsWith(rr.endsWith('/') ? rr : rr + '/')) text = '/' + text.slice(rr.length);
    return normalize(text, dirComps);
  }

  /**
   * Walks `comps` from ROOT. With `wantParent`, stops before the last component (which is not
   * followed and need not exist) and returns its parent; otherwise follows everything.
   */
  private walk(start: string[], wantParent: boolean): { fd: number; comps: string[]; name?: string; stats?: Stats } {
    let comps = start;
    let hops = 0;
    restart: for (;;) {
      let cur = this.rootFd;
      const done: string[] = [];
      try {
        for (let i = 0; i < comps.length; i++) {
          const name = comps[i]!;
          if (wantParent && i === comps.length - 1) return { fd: cur, comps: [...done, name], name };
          const fd = openSync(at(cur, name), O_PATH | constants.O_NOFOLLOW);
          let st: Stats;
          try {
            st = fstatSync(fd);
          } catch (e) {
            closeSync(fd);
            throw e;
          }
          if (st.isSymbolicLink()) {
            closeSync(fd);
            if (++hops > MAX_HOPS) throw errno('ELOOP', 'too many levels of symbolic links');
            const text = readlinkSync(at(cur, name));
            comps = [...this.linkTarget(text, done), ...comps.slice(i + 1)];
            if (cur !== this.rootFd) closeSync(cur);
            continue restart;
          }
          if (i < comps.length - 1 && !st.isDirectory()) {
            closeSync(fd);
            throw errno('ENOTDIR', 'not a directory');
          }
          if (cur !== this.rootFd) closeSync(cur);
          cur = fd;
          done.push(name);
          if (i === comps.length - 1) return { fd: cur, comps: done, stats: st };
        }
        // comps empty: ROOT itself (or, wanting a parent, ROOT has none: treat `/` as its own entry)
        if (wantParent) throw errno('EPERM', 'the root has no parent');
        return { fd: cur, comps: done, stats: fstatSync(cur) };
      } catch (e) {
        if (cur !== this.rootFd) closeSync(cur);
        throw e;
      }
    }
  }

  /** The object a client path names, every symlink followed inside the jail. */
  resolve(path: string, base: readonly string[] = []): Resolved {
    const r = this.walk(normalize(path, base), false);
    // the caller owns the fd (a folder handle keeps it): never hand out ROOT's own
    const fd = r.fd === this.rootFd ? openSync(at(this.rootFd), O_PATH | constants.O_DIRECTORY) : r.fd;
    return { fd, comps: r.comps, stats: r.stats!, close: () => closeSync(fd) };
  }

  /** The parent folder of a client path, open, and its last name (not followed). */
  parent(path: string, base: readonly string[] = []): Parent {
    const r = this.walk(normalize(path, base), true);
    return { dirFd: r.fd, name: r.name!, comps: r.comps, close: this.closer(r.fd) };
  }

  /** Follows a final symlink (found by O_NOFOLLOW) to the parent of its target, inside the jail. */
  parentOfLink(p: Parent): Parent {
    const text = readlinkSync(at(p.dirFd, p.name));
    const comps = this.linkTarget(text, p.comps.slice(0, -1));
    if (comps.length === 0) throw errno('EISDIR', 'the root is a directory');
    const r = this.walk(comps, true);
    return { dirFd: r.fd, name: r.name!, comps: r.comps, close: this.closer(r.fd) };
  }

  /** The second fence: the opened fd's real path must be ROOT or below it (component-wise). */
  assertInside(fd: number): void {
    const real = readlinkSync(at(fd));
    const rr = this.realRoot === '/' ? '' : this.realRoot;
    if (real !== this.realRoot && !real.startsWith(rr + '/')) throw errno('EACCES', 'outside the sftp root');
  }
}

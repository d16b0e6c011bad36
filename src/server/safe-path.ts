/**
 * sshd's StrictModes for the files `sshkit serve` trusts (authorized_keys, --passwords): the file and
 * every folder above it, up to the server user's home or `/`, must be owned by root or by the server's
 * own user and must not be group- or world-writable, or the file is refused with a logged reason. This
 * is OpenSSH 9.2's `safe_path()` (misc.c, called through `safe_path_fd()` from auth2-pubkeyfile.c's
 * `auth_openfile()`), walked on the canonical path, with the same wording in its reasons.
 *
 * One deliberate difference: a folder with the sticky bit (`/tmp`, mode 1777) owned by root or by the
 * server's user is not refused for being writable, because nobody else may rename or remove what it
 * holds (the next folder down must still pass). sshd refuses such a folder.
 */
import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import type { BigIntStats as Stats } from 'node:fs';

const S_ISVTX = 0o1000n;

/** Whose files may be trusted: sshd's `pw_uid` and `pw_dir` (here: the server's own user and home). */
export interface Owner {
  readonly uid: number;
  /** Where the upward walk stops (sshd: the user's home); undefined walks to `/`. */
  readonly home?: string;
}

/** The server's own user: its uid (0 where there is none) and its home (`$HOME`, as `%h`). */
export function serverOwner(): Owner {
  return { uid: process.getuid?.() ?? 0, home: homedir() };
}

/** platform_sys_dir_uid() and the `st_uid != uid` test of safe_path(). */
function trustedOwner(st: Stats, owner: Owner): boolean {
  return st.uid === 0n || st.uid === BigInt(owner.uid);
}

/** safe_path()'s `(st_mode & 022) != 0`, minus the sticky-folder exception above. */
function writableByOthers(st: Stats, isDir: boolean): boolean {
  if ((st.mode & 0o022n) === 0n) return false;
  return !(isDir && (st.mode & S_ISVTX) !== 0n);
}

/**
 * Why the already opened file (`opened`: bigint fstat of its descriptor) at `path` must not be trusted, or null
 * when it passes. Walks `realpath(path)` upwards as safe_path() does; also refuses when the canonical
 * path no longer names the opened file (it was swapped while being checked).
 */
export async function unsafePathReason(path: string, opened: Stats, owner: Owner): Promise<string | null> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return `realpath ${path} failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  if (!opened.isFile()) return `${real} is not a regular file`;
  if (!trustedOwner(opened, owner) || writableByOthers(opened, false)) return `bad ownership or modes for file ${real}`;
  try {
    const now = await stat(real, { bigint: true });
    if (now.dev !== opened.dev || now.ino !== opened.ino) return `${real} changed while it was checked`;
  } catch {
    return `${real} changed while it was checked`;
  }
  let home: string | undefined;
  if (owner.home !== undefined) home = await realpath(owner.home).catch(() => undefined);
  let dir = real;
  for (;;) {
    dir = dirname(dir);
    let st: Stats;
    try {
      st = await stat(dir, { bigint: true });
    } catch {
      return `bad ownership or modes for directory ${dir}`;
    }
    if (!trustedOwner(st, owner) || writableByOthers(st, true)) return `bad ownership or modes for directory ${dir}`;
    if (home !== undefined && dir === home) break; // past the home folder: stop, as sshd
    if (dir === '/' || dir === '.' || dirname(dir) === dir) break;
  }
  return null;
}

/**
 * Atomic file writing for key files (SPEC "sshkit keygen": "each atomically (temp file + rename)").
 * A file is first written in full to a temp file beside it (same folder, so the rename never crosses a
 * file system), created with O_EXCL and given its final mode before a byte is written, fsync'd, and
 * only then moved into place. A reader therefore sees the old file or the whole new one, never a part,
 * and a private key is never readable by others, not even for a moment. Failures remove the temp file.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsError } from './errors.js';

/** One file to write: where, what, and its final permission bits (0600 for secrets, 0644 for .pub). */
export interface FileSpec {
  readonly path: string;
  readonly data: Buffer | string;
  readonly mode: number;
}

/** A written, synced temp file waiting to be moved to `path`. */
interface Staged {
  readonly spec: FileSpec;
  readonly tmp: string;
}

/** Does anything (file, dangling symlink, folder) exist at `path`? */
export function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(path, err);
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Creates the parent folder of `path` with mode 0700 when it is missing (like ssh-keygen's ~/.ssh). */
export function ensureParentDir(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fsError(dir, err);
  }
}

function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    /* some file systems cannot fsync a folder; the rename itself is still atomic */
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Writes `spec` to a fresh temp file beside it: O_EXCL, final mode first, full write, fsync. */
function stage(spec: FileSpec): Staged {
  const tmp = join(dirname(spec.path), `.${basename(spec.path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), spec.mode & 0o600);
    fchmodSync(fd, spec.mode); // exact mode, whatever the umask
    const buf = typeof spec.data === 'string' ? Buffer.from(spec.data, 'utf8') : spec.data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    return { spec, tmp };
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    removeQuietly(tmp);
    throw fsError(spec.path, err);
  }
}

/**
 * Moves a staged file into place. Without `overwrite`, link(2) makes "create only if absent" atomic:
 * an existing file (even one that appeared after our check) is never replaced.
 */
function commit(s: Staged, overwrite: boolean): void {
  try {
    if (overwrite) {
      renameSync(s.tmp, s.spec.path);
    } else {
      linkSync(s.tmp, s.spec.path);
      unlinkSync(s.tmp);
    }
  } catch (err) {
    removeQuietly(s.tmp);
    throw fsError(s.spec.path, err);
  }
}

/**
 * Writes several files as one unit: all are staged first, then moved into place in order. If any step
 * fails, temp files are removed and files this call created (not replaced) are removed again, so a
 * failure leaves the folder as it was — except that with `overwrite` an already-replaced file stays new.
 */
export function writeFilesAtomic(files: readonly FileSpec[], overwrite = false): void {
  const staged: Staged[] = [];
  const created: string[] = [];
  try {
    for (const f of files) ensureParentDir(f.path);
    // a target that can never be replaced by a file is refused before anything is moved into place
    for (const f of files) if (isDirectory(f.path)) throw fsError(f.path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    for (const f of files) staged.push(stage(f));
    for (const s of staged) {
      const existed = overwrite && pathExists(s.spec.path);
      commit(s, overwrite);
      if (!existed) created.push(s.spec.path);
    }
    for (const dir of new Set(files.map((f) => dirname(f.path)))) syncDir(dir);
  } catch (err) {
    for (const s of staged) removeQuietly(s.tmp);
    for (const p of created) removeQuietly(p);
    throw err;
  }
}

/** Writes one file atomically with the given mode (see writeFilesAtomic). */
export function writeFileAtomic(path: string, data: Buffer | string, mode: number, overwrite = false): void {
  writeFilesAtomic([{ path, data, mode }], overwrite);
}

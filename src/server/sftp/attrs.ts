/**
 * SFTP v3 values (draft-ietf-secsh-filexfer-02 §5, §7): file attributes from a stat, the status code
 * for an errno (OpenSSH sftp-server.c `errno_to_portable()`), open flags (§6.3), and the `ls -l` style
 * longname of a READDIR entry (sftp-server's `ls_file()`, with numeric owners: there is no user
 * database inside the jail).
 */
import { constants, type Stats } from 'node:fs';

/** SSH_FX_* (draft-02 §7). */
export const FX = { OK: 0, EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, BAD_MESSAGE: 5, OP_UNSUPPORTED: 8 } as const;

/** SSH_FXF_* open flags (draft-02 §6.3). */
export const FXF = { READ: 0x01, WRITE: 0x02, APPEND: 0x04, CREAT: 0x08, TRUNC: 0x10, EXCL: 0x20 } as const;

/** What ssh2's server methods take as ATTRS. */
export interface Attrs {
  size?: number;
  uid?: number;
  gid?: number;
  mode?: number;
  atime?: number;
  mtime?: number;
}

/** ATTRS of a stat: size, uid/gid, permissions (with the file type bits), atime/mtime (whole seconds). */
export function attrsOf(st: Stats): Attrs {
  return { size: st.size, uid: st.uid, gid: st.gid, mode: st.mode, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
}

/** sftp-server's errno_to_portable(): the status a failed call answers with. */
export function statusOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EBADF':
    case 'ELOOP':
      return FX.NO_SUCH_FILE;
    case 'EPERM':
    case 'EACCES':
    case 'EFAULT':
      return FX.PERMISSION_DENIED;
    case 'ENAMETOOLONG':
    case 'EINVAL':
    case 'ERR_INVALID_ARG_VALUE': // a NUL byte in a name (Node refuses it before the kernel)
      return FX.BAD_MESSAGE;
    case 'ENOSYS':
      return FX.OP_UNSUPPORTED;
    default:
      return FX.FAILURE;
  }
}

/** The status message: the errno's text without the path (paths are logged, not echoed with ours). */
export function messageOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_INVALID_ARG_VALUE') return 'Bad message';
  const status = statusOf(err);
  return ['Success', 'End of file', 'No such file', 'Permission denied', 'Failure', 'Bad message', '', '', 'Operation unsupported'][status] ?? 'Failure';
}

/** open(2) flags for SSH_FXF_* (sftp-server's flags_from_portable()); O_NOFOLLOW and O_NONBLOCK are added by the caller. */
export function openFlags(pflags: number): number {
  let f = 0;
  if (pflags & FXF.READ && pflags & FXF.WRITE) f = constants.O_RDWR;
  else if (pflags & FXF.WRITE) f = constants.O_WRONLY;
  else f = constants.O_RDONLY;
  if (pflags & FXF.APPEND) f |= constants.O_APPEND;
  if (pflags & FXF.CREAT) f |= constants.O_CREAT;
  if (pflags & FXF.TRUNC) f |= constants.O_TRUNC;
  if (pflags & FXF.EXCL) f |= constants.O_EXCL;
  return f;
}

/** Does this open ask to change anything on disk? (refused under --sftp-read-only) */
export const writes = (pflags: number): boolean => (pflags & (FXF.WRITE | FXF.APPEND | FXF.CREAT | FXF.TRUNC)) !== 0;

const TYPE_CHAR = new Map<number, string>([
  [constants.S_IFDIR, 'd'],
  [constants.S_IFLNK, 'l'],
  [constants.S_IFCHR, 'c'],
  [constants.S_IFBLK, 'b'],
  [constants.S_IFIFO, 'p'],
  [constants.S_IFSOCK, 's'],
]);

/** `drwxr-xr-x` of a mode (strmode(3), as sftp-server's ls_file()). */
export function modeString(mode: number): string {
  const t = TYPE_CHAR.get(mode & constants.S_IFMT) ?? '-';
  const rwx = (bits: number, special: boolean, ch: string) => (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
  return t + rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') + rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') + rwx(mode & 7, (mode & 0o1000) !== 0, 't');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** sftp-server's ls_file() line: mode, links, owner, group, size, date (time if within 6 months), name. */
export function longname(name: string, st: Stats, now = Date.now()): string {
  const d = new Date(st.mtimeMs);
  const recent = Math.abs(now - st.mtimeMs) < 182 * 86400 * 1000;
  const when = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${recent ? `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}` : String(d.getFullYear()).padStart(5)}`;
  return `${modeString(st.mode)} ${String(st.nlink).padStart(4)} ${String(st.uid).padEnd(8)} ${String(st.gid).padEnd(8)} ${String(st.size).padStart(8)} ${when} ${name}`;
}

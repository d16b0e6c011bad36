/**
 * What every SFTP request handler shares within one session: the jail, the handle table, the
 * limits, the log, and the ssh2 stream to answer on. Replies go through `ok`/`fail` so a status is
 * always one of draft-02 §7's codes with sftp-server's wording.
 */
import type { Stats } from 'node:fs';
import { FX, messageOf, statusOf } from './attrs.js';
import type { HandleTable } from './handles.js';
import type { Jail } from './jail.js';

/** Per-session limits (issue 13 §2 "Limits"). */
export interface SftpLimits {
  /** Open file and folder handles at once (sftp-server: NUM_HANDLES is unbounded but fd-limited). */
  maxHandles: number;
  /** Largest request packet accepted, bytes (ssh2's own cap, and sftp-server's SFTP_MAX_MSG_LENGTH: 256 KiB). */
  maxPacket: number;
  /** Largest READ answered, bytes (a longer one is answered short, as sftp-server). */
  maxRead: number;
  /** Output waiting for a slow client before requests stop being served, bytes. */
  outputHigh: number;
  /** Requests parsed ahead of the one being served (input is held beyond this). */
  queueHigh: number;
}

/** sftp-server's figures: 256 KiB packets, reads and writes of 256 KiB − 1 KiB (its limits@openssh.com). */
export const DEFAULT_SFTP_LIMITS: SftpLimits = {
  maxHandles: 64,
  maxPacket: 256 * 1024,
  maxRead: 256 * 1024 - 1024,
  outputHigh: 4 * 1024 * 1024,
  queueHigh: 64,
};

/** serveSftp's log callback: an event name and raw fields (the server's logger escapes them). */
export type SftpLog = (event: string, fields: Record<string, unknown>) => void;

/** The server side of ssh2's SFTP stream, as far as the handlers use it. */
export interface SftpStream {
  status(reqid: number, code: number, message?: string): void;
  handle(reqid: number, handle: Buffer): void;
  data(reqid: number, data: Buffer | string): void;
  name(reqid: number, names: Array<{ filename: string; longname: string; attrs: object }>): void;
  attrs(reqid: number, attrs: object): void;
}

/** One session's state. */
export interface Ctx {
  readonly sftp: SftpStream;
  readonly jail: Jail;
  readonly handles: HandleTable;
  readonly readOnly: boolean;
  readonly limits: SftpLimits;
  readonly log: SftpLog;
  /** One read buffer per session, reused (requests are served one at a time; ssh2's data() copies). */
  readonly readBuf: Buffer;
}

/** SSH_FX_OK. */
export function ok(ctx: Ctx, reqid: number): void {
  ctx.sftp.status(reqid, FX.OK, 'Success');
}

/** The status for a failed call (errno → draft-02 code, as sftp-server). */
export function fail(ctx: Ctx, reqid: number, err: unknown): void {
  ctx.sftp.status(reqid, statusOf(err), messageOf(err));
}

/** SSH_FX_PERMISSION_DENIED for a write under --sftp-read-only, logged. */
export function readOnlyRefusal(ctx: Ctx, reqid: number, op: string, path: string): void {
  ctx.log('sftp-refused', { op, path, reason: 'read-only' });
  ctx.sftp.status(reqid, FX.PERMISSION_DENIED, 'Permission denied (read-only)');
}

/** Logs one changing operation with its outcome (`error` = the errno code), then answers it. */
export function logged(ctx: Ctx, reqid: number, event: string, fields: Record<string, unknown>, fn: () => void): void {
  try {
    fn();
    ctx.log(event, { ...fields, result: 'ok' });
    ok(ctx, reqid);
  } catch (e) {
    ctx.log(event, { ...fields, result: (e as NodeJS.ErrnoException)?.code ?? 'error' });
    fail(ctx, reqid, e);
  }
}

/**
 * Permission bits a client may set: no setuid/setgid. The server may run as root for many users, and a
 * setuid file it owns inside ROOT would run as root for anyone local (sftp-server runs as the user).
 */
export const MODE_MASK = 0o1777;

/**
 * Applies SETSTAT/FSETSTAT attributes in sftp-server's order: size, permissions, times, owner. An owner
 * change is refused (EPERM) unless it names the current owner: the files belong to the server's user.
 */
export function applyAttrs(
  attrs: { size?: number; mode?: number; atime?: number; mtime?: number; uid?: number; gid?: number },
  ops: { truncate(n: number): void; chmod(m: number): void; utimes(a: number, m: number): void; stat(): Stats },
): void {
  if (typeof attrs.size === 'number') ops.truncate(attrs.size);
  if (typeof attrs.mode === 'number') ops.chmod(attrs.mode & MODE_MASK);
  if (typeof attrs.atime === 'number' && typeof attrs.mtime === 'number') ops.utimes(attrs.atime, attrs.mtime);
  if (typeof attrs.uid === 'number' && typeof attrs.gid === 'number') {
    const st = ops.stat();
    if (attrs.uid !== st.uid || attrs.gid !== st.gid) throw Object.assign(new Error('owner change refused'), { code: 'EPERM' });
  }
}

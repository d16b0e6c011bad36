/**
 * The SFTP subsystem handler (issue 13 §2, `--sftp ROOT`, `--sftp-read-only`): finds the user's root —
 * `%u` expanded with the same safe-name rule as authorized_keys paths (authorized.ts), a missing folder
 * refusing the subsystem (CHANNEL_FAILURE, so `sftp` says "subsystem request failed") with an
 * `sftp-refused` log line ({@link sftpAvailable}, asked by session.ts's policy) — then takes ssh2's SFTP stream and hands it to
 * sftp/index.ts's `serveSftp`, which serves protocol version 3 jailed to that root. No OS account is
 * looked up: a builtin-mode login needs none.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { expandPath, safeUserForPath } from '../authorized.js';
import type { LogFields } from '../log.js';
import type { ExitStatus, Handler, SessionContext, SftpStream } from '../pipeline.js';

/** What serveSftp (src/server/sftp/index.ts) takes besides the stream. */
export interface SftpServeOptions {
  /** Absolute, `%u` already expanded: the folder the client sees as `/`. */
  readonly root: string;
  readonly readOnly: boolean;
  log(event: string, fields: Record<string, unknown>): void;
  /** Called per request: session traffic for --idle-timeout (middleware/idle.ts). */
  touch?(): void;
}

/** The SFTP server: resolves when the stream ends. */
export type ServeSftp = (sftp: SftpStream, opts: SftpServeOptions) => Promise<void>;

/**
 * The root for `user`, or why there is none (the reason is logged, the subsystem refused). Synchronous
 * on purpose: it is decided inside ssh2's request event, before the reply, because OpenSSH's client
 * sends SSH_FXP_INIT right behind the subsystem request without waiting for the answer, and ssh2
 * drops channel data that arrives before the request is accepted (one stat of one path).
 */
export function sftpRoot(pattern: string, user: string): string | { refused: string } {
  if (/%u/.test(pattern) && !safeUserForPath(user)) return { refused: `user name ${JSON.stringify(user.slice(0, 64))} cannot name a folder` };
  const root = expandPath(pattern, user);
  if (!isAbsolute(root)) return { refused: `sftp root ${root} is not an absolute path` };
  try {
    if (!statSync(root).isDirectory()) return { refused: `sftp root ${root} is not a folder` };
  } catch {
    return { refused: `sftp root ${root} is missing` };
  }
  return root;
}

/** May this login open the SFTP subsystem now (its root exists)? Logs `sftp-refused` when not. */
export function sftpAvailable(ctx: SessionContext): boolean {
  if (!ctx.sftp) return false;
  const root = sftpRoot(ctx.sftp.root, ctx.user);
  if (typeof root === 'string') return true;
  ctx.log.event('sftp-refused', { conn: ctx.connId, user: ctx.user, reason: root.refused });
  return false;
}

/** Log fields from the SFTP server's (any value becomes text or a number). */
function fieldsOf(fields: Record<string, unknown>): LogFields {
  const out: LogFields = Object.create(null);
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
  }
  return out;
}

/** The handler of the `sftp` subsystem, given the SFTP server to run (loaded lazily by the caller). */
export function sftpHandler(load: () => Promise<ServeSftp>): Handler {
  return async (s): Promise<ExitStatus> => {
    const { ctx, request: r } = s;
    const cfg = ctx.sftp;
    if (r.kind !== 'subsystem' || r.name !== 'sftp' || !cfg) return { refused: 'not an sftp request' };
    const where = { conn: ctx.connId, session: s.id, user: ctx.user };
    const serve = await load();
    // from openSftp() to serve() in one tick: adapter.ts holds the client's requests until the next one
    const sftp = s.openSftp();
    if (!sftp) return { refused: 'channel closed' };
    const root = sftpRoot(cfg.root, ctx.user); // again: the folder may have gone since the request was accepted
    if (typeof root !== 'string') {
      ctx.log.event('sftp-refused', { ...where, reason: root.refused });
      sftp.end();
      return root;
    }
    ctx.log.event('sftp-start', { ...where, root, readOnly: cfg.readOnly });
    const stop = () => sftp.end(); // server shutdown: the stream ends, serveSftp closes its handles
    s.stopping.addEventListener('abort', stop);
    try {
      await serve(sftp, { root, readOnly: cfg.readOnly, log: (event, fields) => ctx.log.event(event, { ...where, ...fieldsOf(fields) }), touch: () => s.touch() });
    } finally {
      s.stopping.removeEventListener('abort', stop);
    }
    return 0;
  };
}

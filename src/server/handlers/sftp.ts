/**
 * The SFTP subsystem handler (issue 13 §2, `--sftp ROOT`, `--sftp-read-only`): finds the user's root —
 * `%u` expanded with the same safe-name rule as authorized_keys paths (authorized.ts), a missing folder
 * refusing the subsystem (CHANNEL_FAILURE, so `sftp` says "subsystem request failed") with an
 * `sftp-refused` log line — then accepts the request as ssh2's SFTP stream and hands it to
 * sftp/index.ts's `serveSftp`, which serves protocol version 3 jailed to that root. No OS account is
 * looked up: a builtin-mode login needs none.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { expandPath, safeUserForPath } from '../authorized.js';
import type { LogFields } from '../log.js';
import type { ExitStatus, Handler, SftpStream } from '../pipeline.js';

/** What serveSftp (src/server/sftp/index.ts) takes besides the stream. */
export interface SftpServeOptions {
  /** Absolute, `%u` already expanded: the folder the client sees as `/`. */
  readonly root: string;
  readonly readOnly: boolean;
  log(event: string, fields: Record<string, unknown>): void;
}

/** The SFTP server: resolves when the stream ends. */
export type ServeSftp = (sftp: SftpStream, opts: SftpServeOptions) => Promise<void>;

/** The root for `user`, or why there is none (the reason is logged, the subsystem refused). */
export async function sftpRoot(pattern: string, user: string): Promise<string | { refused: string }> {
  if (/%u/.test(pattern) && !safeUserForPath(user)) return { refused: `user name ${JSON.stringify(user.slice(0, 64))} cannot name a folder` };
  const root = expandPath(pattern, user);
  if (!isAbsolute(root)) return { refused: `sftp root ${root} is not an absolute path` };
  try {
    if (!(await stat(root)).isDirectory()) return { refused: `sftp root ${root} is not a folder` };
  } catch {
    return { refused: `sftp root ${root} is missing` };
  }
  return root;
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
    const root = await sftpRoot(cfg.root, ctx.user);
    if (typeof root !== 'string') {
      ctx.log.event('sftp-refused', { ...where, reason: root.refused });
      return root;
    }
    const serve = await load();
    const sftp = s.openSftp();
    if (!sftp) return { refused: 'channel closed' };
    ctx.log.event('sftp-start', { ...where, root, readOnly: cfg.readOnly });
    await serve(sftp, { root, readOnly: cfg.readOnly, log: (event, fields) => (s.touch(), ctx.log.event(event, { ...where, ...fieldsOf(fields) })) });
    return 0;
  };
}

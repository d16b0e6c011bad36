/**
 * The session pipeline of `sshkit serve` (issue 13 §1), read top to bottom in the order it runs:
 *   permissions  forced command / internal-sftp (authorized_keys `command=`, certificate force-command)
 *   logging      `session` and `session-end` lines (after permissions: the forced command is logged)
 *   recover      a handler's exception ends its session with status 1, logged
 *   sessionEnv   SSH_CONNECTION, SSH_CLIENT, SSH_ORIGINAL_COMMAND, SSHKIT_USER
 *   idleTimer    session traffic keeps the connection out of --idle-timeout
 * then route: sftp subsystem, `--exec os`, or the builtin shell/exec (and the admin REPL behind it).
 * The requests before the start (pty-req, env, signal) are answered by {@link cliPolicy} at once, as
 * RFC 4254 §6.2–6.9 replies must be. adapter.ts builds each Session from ssh2's objects.
 */
import type { SFTPWrapper } from 'ssh2';
import type { RequestPolicy } from './pipeline.js';
import { acceptEnv, sessionEnv } from './middleware/env.js';
import { idleTimer } from './middleware/idle.js';
import { logging } from './middleware/logging.js';
import { permissions, ptyRefusal, sftpServed } from './middleware/permissions.js';
import { recover } from './middleware/recover.js';
import { compose, type Handler, type Middleware } from './pipeline.js';
import { route } from './handlers/route.js';
import { sftpAvailable, sftpHandler, type ServeSftp } from './handlers/sftp.js';

export type { SessionContext } from './pipeline.js';

/** The CLI's middlewares, in the order they run. */
export const CLI_MIDDLEWARES: readonly Middleware[] = [permissions, logging, recover, sessionEnv, idleTimer];

/** Which requests a CLI session may make (one concern each: permissions.ts, env.ts). */
export const cliPolicy: RequestPolicy = {
  pty: ptyRefusal,
  env: acceptEnv,
  // as sshd: a subsystem that is not configured is refused before any forced command is looked at;
  // the sftp root is looked for only when SFTP itself will serve (not for a forced command)
  starts: (r, ctx) => r.kind !== 'subsystem' || (r.name === 'sftp' && ctx.sftp !== undefined && (!sftpServed(ctx) || sftpAvailable(ctx))),
  signals: true,
  sftp: sftpServed,
};

/**
 * The SFTP server of src/server/sftp/, imported on the first SFTP session (a server without --sftp never
 * loads it). The stream is the SFTPWrapper adapter.ts took from ssh2's `accept()`.
 */
async function loadServeSftp(): Promise<ServeSftp> {
  const { serveSftp } = await import('./sftp/index.js');
  return (stream, opts) => serveSftp(stream as SFTPWrapper, opts);
}

/** The CLI's session handler: the middlewares around the router; `serveSftp` may be given (tests). */
export function cliSessions(serveSftp: () => Promise<ServeSftp> = loadServeSftp): Handler {
  return compose(CLI_MIDDLEWARES, route(sftpHandler(serveSftp)));
}

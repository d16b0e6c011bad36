/**
 * authorized_keys permissions (sshd(8) AUTHORIZED_KEYS FILE FORMAT), applied to sessions as sshd's
 * session.c does:
 *  - `command=` (or a certificate's force-command) replaces whatever the client asked to run — shell,
 *    exec or subsystem — and the original goes on as `originalCommand` (SSH_ORIGINAL_COMMAND);
 *    so a forced command wins over the SFTP subsystem (do_exec: "forced command" runs instead);
 *  - a forced `internal-sftp` gives the SFTP subsystem only; a shell or exec then prints sshd's
 *    "This service allows sftp connections only." and exits 1 (SUBSYSTEM_INT_SFTP_ERROR);
 *  - `no-pty` / `restrict` refuse pty-req ({@link ptyRefusal}: the client says "PTY allocation
 *    request failed"); `restrict` alone does not refuse SFTP, as sshd.
 */
import type { SessionContext } from '../pipeline.js';
import { derive, type Middleware } from '../pipeline.js';

/** sshd session.c IS_INTERNAL_SFTP: the word `internal-sftp`, alone or followed by blank-separated arguments. */
export function isInternalSftp(command: string): boolean {
  return /^internal-sftp(?:[ \t]|$)/.test(command);
}

/** Why a pty-req is refused (null: allowed). */
export function ptyRefusal(ctx: SessionContext): string | null {
  return ctx.grant.pty ? null : 'no-pty/restrict';
}

/** Does an `sftp` subsystem request get SFTP here: `--sftp` is on and no forced command other than internal-sftp. */
export function sftpServed(ctx: SessionContext): boolean {
  const forced = ctx.grant.command;
  return ctx.sftp !== undefined && (forced === undefined || isInternalSftp(forced));
}

/** Applies the login's forced command to the session's request. */
export const permissions: Middleware = (next) => async (s) => {
  const forced = s.ctx.grant.command;
  if (forced === undefined) return next(s);
  const r = s.request;
  if (isInternalSftp(forced)) {
    if (r.kind === 'subsystem' && r.name === 'sftp' && s.ctx.sftp) return next(s);
    const ch = s.open();
    if (!ch) return { refused: 'channel closed' };
    ch.stderr.write('This service allows sftp connections only.\n');
    return 1;
  }
  const asked = r.kind === 'exec' ? r.command : r.kind === 'subsystem' ? r.name : undefined;
  return next(derive(s, { request: { kind: 'exec', command: forced }, originalCommand: asked }));
};

/**
 * The session handler hook of `sshkit/server` (issue 15): a library caller handles `exec` requests
 * with plain Node streams, no ssh2 type in sight. One exec per channel (RFC 4254 §6.5); a forced
 * command (authorized_keys `command=` or a certificate's force-command, as sshd) replaces the one asked
 * for, which is handed over as `originalCommand` (sshd's SSH_ORIGINAL_COMMAND). pty, shell and
 * subsystem requests are refused: the handler runs commands, not terminals.
 */
import type { Readable, Writable } from 'node:stream';
import type { SessionContext } from './session.js';

/** One exec request, as the handler sees it. */
export interface ExecSession {
  readonly user: string;
  /** The command to run: the forced command when the key has one, else what the client asked for. */
  readonly command: string;
  /** What the client asked for, when a forced command replaced it. */
  readonly originalCommand?: string;
  readonly address: string;
  /** The client's input (ends at the client's EOF). */
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Runs one command; resolves to its exit status (0–255; anything else is sent as 1). */
export type ExecHandler = (session: ExecSession) => number | void | Promise<number | void>;

/** The status sent for a handler's result: a whole 0–255, else 1 (a throw is a failure too). */
function statusOf(value: unknown): number {
  if (value === undefined) return 0;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255 ? value : 1;
}

/** Adapts an {@link ExecHandler} to the server's session hook (server.ts `sessionHandler`). */
export function execSessionHandler(onExec: ExecHandler): (session: any, ctx: SessionContext) => void {
  return (session, ctx) => {
    let channel: any = null;
    const refuse = (_accept: unknown, reject?: () => void) => reject?.();
    for (const name of ['pty', 'shell', 'subsystem', 'sftp', 'x11', 'auth-agent', 'signal']) session.on(name, refuse);
    session.on('env', (accept?: () => void) => accept?.());
    session.on('window-change', (accept?: () => void) => accept?.());
    const untrack = ctx.track(() => channel?.close?.());
    session.once('close', untrack);
    session.on('exec', (accept: () => any, reject: (() => void) | undefined, info: { command: string }) => {
      if (channel) return reject?.();
      channel = accept();
      if (!channel) return;
      ctx.touch();
      const forced = ctx.grant.command;
      const asked = String(info?.command ?? '');
      ctx.log.event('exec', { conn: ctx.connId, user: ctx.user, command: forced ?? asked, forced: forced !== undefined || undefined });
      const finish = (status: number) => {
        try {
          channel.exit(status);
          channel.end();
        } catch {
          /* the client went away first */
        }
      };
      Promise.resolve()
        .then(() =>
          onExec({
            user: ctx.user,
            command: forced ?? asked,
            ...(forced !== undefined ? { originalCommand: asked } : {}),
            address: ctx.address,
            stdin: channel,
            stdout: channel,
            stderr: channel.stderr,
          }),
        )
        .then(
          (v) => finish(statusOf(v)),
          (err) => {
            ctx.log.event('exec-error', { conn: ctx.connId, user: ctx.user, reason: String((err as Error)?.message ?? err).slice(0, 200) });
            finish(1);
          },
        );
    });
  };
}

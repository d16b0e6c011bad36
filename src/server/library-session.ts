/**
 * The session handler hook of `sshkit/server` (issue 15): a library caller handles `exec` requests
 * with plain Node streams, no ssh2 type in sight. One exec per channel (RFC 4254 §6.5); a forced
 * command (authorized_keys `command=` or a certificate's force-command, as sshd) replaces the one asked
 * for, which is handed over as `originalCommand` (sshd's SSH_ORIGINAL_COMMAND). pty, shell, signal and
 * subsystem requests are refused: the handler runs commands, not terminals. Built as a pipeline
 * (pipeline.ts): permissions and the idle timer, then {@link ExecHandler} as the last handler.
 */
import type { Readable, Writable } from 'node:stream';
import type { RequestPolicy } from './pipeline.js';
import { idleTimer } from './middleware/idle.js';
import { permissions } from './middleware/permissions.js';
import { MAX_ENV } from './middleware/env.js';
import { compose, type Handler } from './pipeline.js';

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

/** Only exec: no pty, shell, signal or subsystem; any env variable (bounded in number). */
export const libraryPolicy: RequestPolicy = {
  pty: () => 'the exec handler runs commands, not terminals',
  env: (_name, _value, count) => count < MAX_ENV,
  starts: (r) => r.kind === 'exec',
  signals: false,
  sftp: () => false,
};

/** Adapts an {@link ExecHandler} to a session {@link Handler} (server.ts `sessions`). */
export function execSessionHandler(onExec: ExecHandler): Handler {
  const last: Handler = async (s) => {
    if (s.request.kind !== 'exec') return { refused: 'exec only' };
    const { ctx } = s;
    const command = s.request.command;
    const ch = s.open();
    if (!ch) return { refused: 'channel closed' };
    const stop = () => ch.close();
    s.stopping.addEventListener('abort', stop);
    ctx.log.event('exec', { conn: ctx.connId, user: ctx.user, command, forced: s.originalCommand !== undefined || undefined });
    try {
      const v = await onExec({
        user: ctx.user,
        command,
        ...(s.originalCommand !== undefined ? { originalCommand: s.originalCommand } : {}),
        address: ctx.address,
        stdin: ch.stdin,
        stdout: ch.stdout,
        stderr: ch.stderr,
      });
      return statusOf(v);
    } catch (err) {
      ctx.log.event('exec-error', { conn: ctx.connId, user: ctx.user, reason: String((err as Error)?.message ?? err).slice(0, 200) });
      return 1;
    } finally {
      s.stopping.removeEventListener('abort', stop);
    }
  };
  return compose([permissions, idleTimer], last);
}

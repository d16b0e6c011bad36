/**
 * Logging middleware: one `session` line when a start request reaches the pipeline (what runs, after
 * middleware/permissions.ts, so a forced command is logged as such) and one `session-end` line with
 * its status and duration — the lines `sshkit serve` wrote before the pipeline (SPEC "Logging").
 */
import { statusField, type Middleware } from '../pipeline.js';

/** Logs the start and the end of every session through the session's connection log. */
export const logging: Middleware = (next) => async (s) => {
  const { ctx, request: r } = s;
  const started = Date.now();
  ctx.log.event('session', {
    conn: ctx.connId,
    session: s.id,
    user: ctx.user,
    kind: r.kind,
    command: r.kind === 'exec' ? r.command : undefined,
    subsystem: r.kind === 'subsystem' ? r.name : undefined,
    forced: s.originalCommand !== undefined || ctx.grant.command !== undefined || undefined,
    pty: s.pty !== null,
  });
  const st = await next(s);
  ctx.log.event('session-end', { conn: ctx.connId, session: s.id, user: ctx.user, status: statusField(st), ms: Date.now() - started });
  return st;
};

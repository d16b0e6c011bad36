/**
 * Error-recovery middleware: a handler that throws (or rejects) ends its own session with status 1 and a
 * `session-error` log line, never the connection or the process (SPEC: "never a crash of the server").
 * The client sees one line on stderr when the channel was open.
 */
import type { Writable } from 'node:stream';
import type { Middleware } from '../pipeline.js';

/** Turns a handler's exception into exit status 1, logged. */
export const recover: Middleware = (next) => async (s) => {
  let stderr: Writable | undefined;
  const watched = Object.create(s) as typeof s;
  Object.defineProperty(watched, 'open', {
    value: () => {
      const ch = s.open();
      stderr = ch?.stderr;
      return ch;
    },
  });
  try {
    return await next(watched);
  } catch (err) {
    const reason = String((err as Error)?.message ?? err).slice(0, 200);
    s.ctx.log.event('session-error', { conn: s.ctx.connId, session: s.id, user: s.ctx.user, reason });
    try {
      if (stderr?.writable) stderr.write('sshkit: internal error in this session (logged)\n');
    } catch {
      /* channel gone */
    }
    return 1;
  }
};

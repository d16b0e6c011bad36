/**
 * Idle-timer middleware: binds the session's `touch()` (called by handlers on traffic either way) to
 * the connection's `--idle-timeout` guard (limits.ts), and counts the start itself as activity.
 * Without it a session's traffic never keeps a connection alive.
 */
import { derive, type Middleware } from '../pipeline.js';

/** Makes session traffic reset the connection's idle timer. */
export const idleTimer: Middleware = (next) => (s) => {
  s.ctx.touch();
  return next(derive(s, { touch: () => s.ctx.touch() }));
};

/**
 * The session environment: which variables a client may send (as sshd's default AcceptEnv in Debian's
 * sshd_config: only the locale, LANG and LC_*), and what the server adds for `--exec os` commands, as
 * sshd's session.c do_setup_env: SSH_CONNECTION, SSH_CLIENT, SSH_ORIGINAL_COMMAND, plus SSHKIT_USER
 * (the login name; the command runs as the server's own user).
 */
import { derive, type Middleware } from '../pipeline.js';

/** Variables a session may hold from the client (a bound on what one channel may store). */
export const MAX_ENV = 64;

/** The env request rule (RFC 4254 §6.4): locale names only, at most {@link MAX_ENV}. */
export function acceptEnv(name: string, _value: string, count: number): boolean {
  return count < MAX_ENV && /^(LANG|LC_[A-Z_]+)$/.test(name);
}

/** Adds the SSH_* variables to the session's environment. */
export const sessionEnv: Middleware = (next) => (s) => {
  const { ctx } = s;
  const env = new Map(s.env);
  env.set('SSH_CONNECTION', `${ctx.address} ${ctx.port} 127.0.0.1 ${ctx.localPort}`);
  env.set('SSH_CLIENT', `${ctx.address} ${ctx.port} ${ctx.localPort}`);
  env.set('SSHKIT_USER', ctx.user);
  if (s.originalCommand !== undefined) env.set('SSH_ORIGINAL_COMMAND', s.originalCommand);
  return next(derive(s, { env }));
};

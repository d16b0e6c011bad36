/**
 * The admin REPL handler (SPEC "admin": a JavaScript REPL inside the server, `--admin` users only):
 * entered with the builtin `admin` command, from the shell or as `ssh host admin`; commands.ts checks
 * who may. Each evaluated line is logged (`admin-eval`, first 200 characters).
 */
import type { Session, SessionChannel } from '../pipeline.js';
import { safeWrite } from '../channel-flow.js';

/** Runs the REPL on an open session channel until `.exit`, Ctrl-D or the channel ends; resolves to 0. */
export async function runAdmin(s: Session, ch: SessionChannel, tty: boolean): Promise<number> {
  const { startAdminRepl } = await import('../admin-repl.js');
  const { ctx } = s;
  ctx.log.event('admin', { conn: ctx.connId, session: s.id, user: ctx.user });
  return startAdminRepl(ch.stdin, (text) => (s.touch(), safeWrite(ch.stdout, text)), tty, ctx.adminApi, (line) =>
    ctx.log.event('admin-eval', { conn: ctx.connId, user: ctx.user, code: line.slice(0, 200) }),
  );
}

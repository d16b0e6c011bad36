/**
 * The builtin side of a session (SPEC "Sessions"): the interactive shell (shell.ts) or one exec request,
 * both running commands.ts, with output that waits on the client. Output made while one slice of input
 * is handled goes out as one write, and once OUTPUT_HIGH waits unsent (channel-flow.ts) the client's
 * input is not read either until it has gone out — so a client that types and never reads costs a
 * bounded amount, whatever window it advertised.
 */
import { runCommand, type CommandIO } from './commands.js';
import type { OutputGate } from './channel-flow.js';
import type { SessionContext } from './session.js';
import { runShell } from './shell.js';

/** What runBuiltin needs from the session that started it. */
export interface BuiltinStart {
  readonly channel: any;
  readonly gate: OutputGate;
  readonly tty: boolean;
  /** null: the interactive shell. */
  readonly command: string | null;
  readonly sessionId: number;
  readonly ctx: SessionContext;
  finish(status: number | string): void;
}

/** Runs the shell or one builtin command on a started channel; calls `finish` with its status. */
export function runBuiltin({ channel, gate, tty, command, sessionId: id, ctx, finish }: BuiltinStart): void {
  const eol = tty ? '\r\n' : '\n';
  // Builtin output answers input: once OUTPUT_HIGH bytes wait unsent (the client is not reading, however
  // large a window it advertised), its input is not read either until that output has gone out.
  let blocked = false;
  let attached = false;
  const unblock = () => {
    if (!blocked) return;
    blocked = false;
    if (attached) channel.resume();
  };
  const sendNow = (stream: any, s: string) => {
    if (gate.write(stream, s) || blocked) return;
    blocked = true;
    channel.pause();
    gate.whenReady(unblock);
  };
  // Output made while one slice of input is handled (an echo per key) goes out as one write: each
  // queued write costs ≈ 200 bytes of bookkeeping, so one write per typed character cost 200× its size.
  let batch: Array<[any, string]> | null = null;
  const send = (stream: any, s: string) => {
    if (!batch) return sendNow(stream, s);
    const last = batch[batch.length - 1];
    if (last && last[0] === stream) last[1] += s;
    else batch.push([stream, s]);
  };
  const handleSlice = (h: (d: Buffer) => void, d: Buffer) => {
    batch = [];
    try {
      h(d);
    } finally {
      const out = batch;
      batch = null;
      for (const [stream, s] of out) sendNow(stream, s);
    }
  };
  const io: CommandIO = {
    user: ctx.user,
    admin: ctx.admin,
    eol,
    out: (s) => {
      ctx.touch();
      send(channel, s);
    },
    err: (s) => send(tty ? channel : channel.stderr, s),
    startAdmin: async () => {
      const { startAdminRepl } = await import('./admin-repl.js');
      ctx.log.event('admin', { conn: ctx.connId, session: id, user: ctx.user });
      const status = await startAdminRepl(channel, (s) => (ctx.touch(), safeWrite(channel, s)), tty, ctx.adminApi, (line) =>
        ctx.log.event('admin-eval', { conn: ctx.connId, user: ctx.user, code: line.slice(0, 200) }),
      );
      channel.resume();
      return status;
    },
  };
  if (command === null) {
    runShell(
      {
        onData: (h) => {
          // Detaching must pause: a flowing stream with no listener drops what the client types.
          channel.removeAllListeners('data');
          attached = !!h;
          if (h) {
            // fed in small slices: once the client stops reading, the rest waits in the channel
            channel.on('data', (d: Buffer) => {
              ctx.touch();
              for (let i = 0; i < d.length; i += 1024) {
                if (blocked) return void channel.unshift(d.subarray(i));
                handleSlice(h, d.subarray(i, i + 1024));
              }
            });
            if (!blocked) channel.resume();
          } else channel.pause();
        },
        onEnd: (h) => channel.once('end', h),
        finish: (status) => finish(status),
      },
      io,
      tty,
    );
    return;
  }
  runCommand(command, io).then(
    (r) => finish(r === 'quit' ? 0 : r),
    () => finish(1),
  );
}

/**
 * Writes unless the stream is gone; false when the stream's buffer is full (wait for 'drain').
 * `done` runs once the data has been handed on (or at once if the stream is gone).
 */
export function safeWrite(stream: any, data: string | Buffer, done?: () => void): boolean {
  try {
    if (stream && stream.writable) return stream.write(data, done ? () => done() : undefined) !== false;
  } catch {
    /* closed */
  }
  done?.();
  return true;
}

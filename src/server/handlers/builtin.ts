/**
 * The builtin shell and builtin exec handlers (SPEC "Sessions"): the interactive shell (shell.ts) or one
 * exec request, both running commands.ts, with output that waits on the client. Output made while one
 * slice of input is handled goes out as one write, and once OUTPUT_HIGH waits unsent (channel-flow.ts)
 * the client's input is not read either until it has gone out — so a client that types and never reads
 * costs a bounded amount, whatever window it advertised. No shell account is involved.
 */
import type { Writable } from 'node:stream';
import { runCommand, type CommandIO } from '../commands.js';
import type { ExitStatus, Handler, Session, SessionChannel } from '../pipeline.js';
import { runShell } from '../shell.js';
import { runAdmin } from './admin.js';
import { safeWrite } from '../channel-flow.js';

/** Runs the interactive shell (shell request) or one builtin command (exec request). */
export const builtin: Handler = async (s) => {
  if (s.request.kind === 'subsystem') return { refused: `subsystem ${s.request.name} not served` };
  const ch = s.open();
  if (!ch) return { refused: 'channel closed' };
  return runBuiltin(s, ch, s.request.kind === 'exec' ? s.request.command : null);
};

function runBuiltin(s: Session, ch: SessionChannel, command: string | null): Promise<ExitStatus> {
  const { stdin, stdout, stderr, flow } = s.pty ? { ...ch, stderr: ch.stdout } : ch;
  const tty = s.pty !== null;
  const eol = tty ? '\r\n' : '\n';
  return new Promise<ExitStatus>((resolve) => {
    let done = false;
    const finish = (st: ExitStatus) => {
      if (done) return;
      done = true;
      s.stopping.removeEventListener('abort', onStop);
      resolve(st);
    };
    const onStop = () => {
      safeWrite(ch.stderr, `${tty ? '\r\n' : ''}sshkit: server shutting down${eol}`);
      finish({ signal: 'TERM' });
    };
    s.stopping.addEventListener('abort', onStop);
    // Builtin output answers input: once OUTPUT_HIGH bytes wait unsent (the client is not reading, however
    // large a window it advertised), its input is not read either until that output has gone out.
    let blocked = false;
    let attached = false;
    const unblock = () => {
      if (!blocked) return;
      blocked = false;
      if (attached) stdin.resume();
    };
    const sendNow = (stream: Writable, text: string) => {
      if (flow.write(stream, text) || blocked) return;
      blocked = true;
      stdin.pause();
      flow.whenReady(unblock);
    };
    // Output made while one slice of input is handled (an echo per key) goes out as one write: each
    // queued write costs ≈ 200 bytes of bookkeeping, so one write per typed character cost 200× its size.
    let batch: Array<[Writable, string]> | null = null;
    const send = (stream: Writable, text: string) => {
      if (!batch) return sendNow(stream, text);
      const last = batch[batch.length - 1];
      if (last && last[0] === stream) last[1] += text;
      else batch.push([stream, text]);
    };
    const handleSlice = (h: (d: Buffer) => void, d: Buffer) => {
      batch = [];
      try {
        h(d);
      } finally {
        const out = batch;
        batch = null;
        for (const [stream, text] of out) sendNow(stream, text);
      }
    };
    const io: CommandIO = {
      user: s.ctx.user,
      admin: s.ctx.admin,
      eol,
      out: (text) => {
        s.touch();
        send(stdout, text);
      },
      err: (text) => send(stderr, text),
      startAdmin: async () => {
        const status = await runAdmin(s, ch, tty);
        stdin.resume();
        return status;
      },
    };
    if (command !== null) {
      runCommand(command, io).then(
        (r) => finish(r === 'quit' ? 0 : r),
        () => finish(1),
      );
      return;
    }
    runShell(
      {
        onData: (h) => {
          // Detaching must pause: a flowing stream with no listener drops what the client types.
          stdin.removeAllListeners('data');
          attached = !!h;
          if (h) {
            // fed in small slices: once the client stops reading, the rest waits in the channel
            stdin.on('data', (d: Buffer) => {
              s.touch();
              for (let i = 0; i < d.length; i += 1024) {
                if (blocked) return void stdin.unshift(d.subarray(i));
                handleSlice(h, d.subarray(i, i + 1024));
              }
            });
            if (!blocked) stdin.resume();
          } else stdin.pause();
        },
        onEnd: (h) => void stdin.once('end', h),
        finish: (status) => finish(status),
      },
      io,
      tty,
    );
  });
}

/**
 * The `--exec os` handler: the shell or command runs through `/bin/sh -c` as the server's own user
 * (exec-os.ts starts and signals it), with stdin, stdout and stderr forwarded. The command's output
 * waits on the client (channel-flow.ts OutputGate: the child is paused while OUTPUT_HIGH waits unsent),
 * window-changes resize its pty, client signals reach its process group, and a server shutdown or a
 * closed channel hangs it up (SIGHUP). The exit status, or the signal that ended it, is the result.
 */
import { killOsCommand, startOsCommand } from '../exec-os.js';
import { safeWrite } from '../channel-flow.js';
import type { ExitStatus, Handler } from '../pipeline.js';

/** Runs the session's shell or command as an OS process. */
export const execOs: Handler = async (s) => {
  const r = s.request;
  if (r.kind === 'subsystem') return { refused: `subsystem ${r.name} not served` };
  const ch = s.open();
  if (!ch) return { refused: 'channel closed' };
  const proc = startOsCommand(r.kind === 'exec' ? r.command : null, Object.fromEntries(s.env), s.pty);
  const child = proc.child;
  const unResize = s.onResize((size) => proc.resize(size)); // coalesced, off the event loop (exec-os.ts)
  const unSignal = s.onSignal((name) => proc.signal(name));
  const hangUp = () => killOsCommand(proc, 'SIGHUP');
  s.stopping.addEventListener('abort', hangUp);
  ch.onClose(hangUp);
  for (const [from, to] of [[child.stdout!, ch.stdout], [child.stderr!, ch.stderr]] as const) {
    from.on('data', (d: Buffer) => {
      s.touch();
      if (ch.flow.write(to, d)) return;
      from.pause(); // resumed once the backlog is low; after a close the rest drains into nowhere
      ch.flow.whenReady(() => from.resume());
    });
  }
  child.stdin!.on('error', () => undefined);
  ch.stdin.on('data', () => s.touch());
  ch.stdin.pipe(child.stdin!);
  const st = await new Promise<ExitStatus>((resolve) => {
    child.on('error', (err) => {
      safeWrite(ch.stderr, `sshkit: cannot run command: ${err.message}\n`);
      resolve(127);
    });
    child.on('close', (code, sig) => resolve(sig ? { signal: sig.replace(/^SIG/, '') } : (code ?? 0)));
  });
  unResize();
  unSignal();
  s.stopping.removeEventListener('abort', hangUp);
  return st;
};

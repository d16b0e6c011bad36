/**
 * One host, this process's own streams: stdin goes to the command, its stdout and stderr come back
 * unprefixed, as each chunk arrives. With -t a pseudo-terminal is requested; when our stdin is a
 * terminal it is put in raw mode for the session (as ssh does) and window size changes are sent.
 */
import type { ExecRequest, ExecResult } from './exec.js';
import type { Target } from './target.js';

type Base = Omit<ExecRequest, 'target' | 'stdin' | 'stdout' | 'stderr' | 'pty' | 'onResize'>;

/** Runs on one target with process.stdin/stdout/stderr; resolves with the status to exit with. */
export async function single(target: Target, base: Base, tty: boolean, execRemote: (r: ExecRequest) => Promise<ExecResult>): Promise<number> {
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  const req: ExecRequest = { ...base, target, stdin, stdout: process.stdout, stderr: process.stderr };
  if (tty) {
    const size = () => ({ rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 });
    req.pty = { term: process.env.TERM || 'xterm-256color', ...size() };
    req.onResize = (cb) => {
      const on = () => cb(size().rows, size().cols);
      process.stdout.on('resize', on);
      return () => process.stdout.off('resize', on);
    };
  }
  if (raw) stdin.setRawMode(true);
  try {
    return (await execRemote(req)).status;
  } finally {
    if (raw) stdin.setRawMode(false);
    // The command may have ended without reading all of stdin: stop reading so Node can exit.
    stdin.destroy();
  }
}

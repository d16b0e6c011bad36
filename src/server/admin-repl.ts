/**
 * `admin`: a Node REPL inside the running server, over the SSH channel (SPEC: "a JavaScript REPL …
 * with a `server` object (sessions, kick, reload, stats)"). Only `--admin` users reach it (commands.ts
 * checks). On a pty the REPL does its own line editing (terminal mode) and `\n` is sent as `\r\n`,
 * since the client's terminal is raw. The REPL's context holds only `server`, not the server's globals.
 */
import { Writable, type Readable } from 'node:stream';

/** The admin's handle on the server. */
export interface AdminApi {
  /** Live authenticated connections. */
  sessions(): Array<Record<string, unknown>>;
  /** Disconnects connection `id`; true if it existed. */
  kick(id: number): boolean;
  /** Re-reads authorized_keys and passwords; returns what was reloaded. */
  reload(): string;
  /** Counters since start. */
  stats(): Record<string, unknown>;
}

/** Output wrapper that turns `\n` into `\r\n` for a raw terminal. */
function crlf(write: (s: string) => void): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      write(chunk.toString('utf8').replace(/\r?\n/g, '\r\n'));
      cb();
    },
  });
}

/**
 * Runs a REPL on the channel until `.exit`, Ctrl-D or the channel ends; resolves with exit status 0.
 * `input` is the channel (a Readable); `write` sends to the client.
 */
export async function startAdminRepl(input: Readable, write: (s: string) => void, tty: boolean, api: AdminApi, onEval?: (code: string) => void): Promise<number> {
  const repl = await import('node:repl');
  const output = tty ? crlf(write) : new Writable({ write: (c, _e, cb) => (write(c.toString('utf8')), cb()) });
  return new Promise((resolve) => {
    const r = repl.start({
      input,
      output,
      prompt: 'sshkit> ',
      terminal: tty,
      useGlobal: false,
      ignoreUndefined: true,
    });
    // Writable output has no columns; give readline a sane width.
    (output as any).columns = 80;
    Object.defineProperty(r.context, 'server', { value: Object.freeze({ ...api }), enumerable: true });
    if (onEval) r.on('line', (line: string) => onEval(line));
    let ended = false;
    const finish = () => {
      if (ended) return;
      ended = true;
      resolve(0);
    };
    r.on('exit', finish);
    input.once('end', () => r.close());
    input.once('close', finish);
  });
}

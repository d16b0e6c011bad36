/**
 * The real process around `sshkit-keygen` (a KgIO): stdout/stderr, and stdin read as ssh-keygen reads
 * it — line by line with fgets() for "Enter file in which…" and "Overwrite (y/n)?", and passphrases as
 * readpass.c read_passphrase(RP_ALLOW_STDIN) → readpassphrase(3) does: from /dev/tty without echo (the
 * prompt on the terminal, a newline after), or, when there is no controlling terminal, the prompt on
 * stderr and the line from stdin (so `echo pass | ssh-keygen -y -f key` works without a terminal).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { KgIO } from './types.js';

/** stdin as one buffer handed out line by line (fgets) or whole (`-f -`), in arrival order. */
class StdinLines {
  private buf = Buffer.alloc(0);
  private ended = false;
  private waiters: Array<() => void> = [];
  private started = false;

  private start(): void {
    if (this.started) return;
    this.started = true;
    process.stdin.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    process.stdin.on('end', () => {
      this.ended = true;
      this.wake();
    });
    process.stdin.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async more(): Promise<void> {
    this.start();
    process.stdin.resume();
    await new Promise<void>((res) => this.waiters.push(res));
  }

  /** One line without its "\n"; null at end of input with nothing read. */
  async line(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0) {
        const out = this.buf.subarray(0, nl).toString('utf8');
        this.buf = this.buf.subarray(nl + 1);
        if (this.buf.length === 0) process.stdin.pause();
        return out;
      }
      if (this.ended) {
        if (this.buf.length === 0) return null;
        const out = this.buf.toString('utf8');
        this.buf = Buffer.alloc(0);
        return out;
      }
      await this.more();
    }
  }

  /** Everything left on stdin. */
  async all(): Promise<Buffer> {
    while (!this.ended) await this.more();
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

/** readpassphrase(3) on the terminal: echo off (raw mode), the line up to Enter, then "\n". */
async function readTtySecret(fd: number, prompt: string): Promise<string> {
  const input = new ReadStream(fd);
  input.setRawMode(true); // echo off before the prompt shows, as readpassphrase: nothing typed is echoed
  writeSync(fd, prompt);
  return new Promise<string>((resolve) => {
    let text = '';
    const done = (): void => {
      input.setRawMode(false);
      input.removeAllListeners('data');
      writeSync(fd, '\n');
      input.destroy(); // closes the terminal fd: an open tty.ReadStream would keep the process alive
      resolve(text);
    };
    input.on('data', (d: Buffer) => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') {
          input.setRawMode(false);
          writeSync(fd, '\n');
          process.exit(130); // ^C, as readpassphrase re-raises SIGINT
        }
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    });
    input.resume();
  });
}

const stdinLines = new StdinLines();

/** Everything on stdin (for `-f -`), sharing the buffer the prompts read from. */
export function readAllStdin(): Promise<Buffer> {
  return stdinLines.all();
}

/** The KgIO of this process. */
export function processIO(): KgIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stdin: process.stdin,
    env: process.env,
    isTTY: !!process.stdin.isTTY,
    async readSecret(prompt) {
      let fd: number | undefined;
      try {
        fd = openSync('/dev/tty', 'r+');
      } catch {
        fd = undefined;
      }
      if (fd !== undefined) {
        try {
          return await readTtySecret(fd, prompt);
        } catch (err) {
          try {
            closeSync(fd);
          } catch {
            /* already closed */
          }
          throw err;
        }
      }
      process.stderr.write(prompt);
      return (await stdinLines.line()) ?? ''; // readpassphrase at EOF: read_passphrase returns ""
    },
    async readLine(prompt) {
      process.stdout.write(prompt);
      const line = await stdinLines.line();
      if (line === null) throw new Error('end of input');
      return line;
    },
  };
}

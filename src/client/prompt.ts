/**
 * A passphrase prompt on the controlling terminal (/dev/tty, as ssh's read_passphrase), never on
 * stdin: stdin belongs to the remote command. Echo is off (raw mode); Ctrl-C or Ctrl-D abandon.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { isatty, ReadStream } from 'node:tty';

/** Is there a terminal to ask on? */
export function haveTerminal(): boolean {
  try {
    const fd = openSync('/dev/tty', 'r+');
    const ok = isatty(fd);
    closeSync(fd);
    return ok;
  } catch {
    return false;
  }
}

/** Asks `prompt` on /dev/tty and resolves with the line typed (without echo), or null if abandoned. */
export function readPassphrase(prompt: string): Promise<string | null> {
  const fd = openSync('/dev/tty', 'r+');
  const input = new ReadStream(fd);
  writeSync(fd, prompt);
  input.setRawMode(true);
  return new Promise((resolve) => {
    let typed = '';
    const done = (value: string | null) => {
      input.setRawMode(false);
      input.removeAllListeners('data');
      writeSync(fd, '\n');
      input.destroy(); // closes fd
      resolve(value);
    };
    input.setEncoding('utf8').on('data', (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(typed);
        if (ch === '\u0003' || ch === '\u0004') return done(null);
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch === '\u0015') typed = '';
        else typed += ch;
      }
    });
  });
}

/**
 * The interactive shell of `sshkit serve` (SPEC: "an interactive shell with line editing"). On a pty the
 * server does the editing itself (line-editor.ts); without a pty (`ssh -T host`) input is read line by
 * line with no prompt and no echo, so the shell can be scripted. Commands come from commands.ts. A line
 * over MAX_LINE bytes is refused with one message and never run.
 */
import { StringDecoder } from 'node:string_decoder';
import { runCommand, type CommandIO } from './commands.js';
import { LineEditor, MAX_LINE } from './line-editor.js';

export { LineEditor, MAX_LINE, type EditorEvent } from './line-editor.js';

/** The stream side of a shell: input bytes in, output out, and how the session ends. */
export interface ShellChannel {
  onData(handler: ((data: Buffer) => void) | null): void;
  onEnd(handler: () => void): void;
  finish(status: number): void;
}

/** Runs the interactive shell until `quit`, EOF or the channel closes. */
export function runShell(ch: ShellChannel, io: CommandIO, tty: boolean): void {
  const editor = new LineEditor((s) => io.out(s), `${io.user}@sshkit$ `, tty);
  let queue: Promise<unknown> = Promise.resolve();
  let done = false;
  const end = (status: number) => {
    if (done) return;
    done = true;
    ch.onData(null);
    ch.finish(status);
  };
  const utf8 = new StringDecoder('utf8'); // a character split across packets stays whole
  const listen = () => ch.onData((data) => handle(utf8.write(data)));
  const handle = (text: string) => {
    for (const ev of editor.feed(text)) {
      queue = queue.then(async () => {
        if (done) return;
        if (ev.type === 'eof') return end(0);
        if (ev.type === 'interrupt') return editor.showPrompt();
        if (ev.type === 'too-long') return io.err(`sshkit: line too long (over ${MAX_LINE} bytes): ignored up to the end of the line${io.eol}`);
        const isAdmin = /^\s*admin\s*$/.test(ev.text);
        if (isAdmin) ch.onData(null); // the REPL reads the channel itself
        const r = await runCommand(ev.text, io);
        if (isAdmin && !done) listen();
        if (r === 'quit') return end(0);
        editor.showPrompt();
      });
    }
  };
  if (tty) io.out(`Welcome to sshkit, ${io.user}. Type help for the commands.\r\n`);
  editor.showPrompt();
  listen();
  ch.onEnd(() => {
    queue = queue.then(() => end(0));
  });
}

/**
 * The interactive shell of `sshkit serve` (SPEC: "an interactive shell with line editing"). On a pty the
 * server does the editing itself, as a terminal line discipline would: echo, ← → Home End (also Ctrl-A/E),
 * Backspace, Delete, Ctrl-U/K/W, ↑ ↓ history, Ctrl-L, Ctrl-C (drop the line), Ctrl-D (quit on an empty
 * line). Without a pty (`ssh -T host`) input is read line by line with no prompt and no echo, so the
 * shell can be scripted. Commands come from commands.ts.
 */
import { StringDecoder } from 'node:string_decoder';
import { runCommand, type CommandIO } from './commands.js';

/** One decoded input event of the line editor. */
export type EditorEvent = { type: 'line'; text: string } | { type: 'eof' } | { type: 'interrupt' };

/** A minimal readline: feed it bytes, it writes screen updates through `write` and returns completed events. */
export class LineEditor {
  private buf: string[] = [];
  private cur = 0;
  private history: string[] = [];
  private hpos = 0;
  private esc = '';
  private lastCR = false;

  constructor(
    private readonly write: (s: string) => void,
    readonly prompt: string,
    private readonly tty: boolean,
  ) {}

  /** Prints the prompt (pty only). */
  showPrompt(): void {
    if (this.tty) this.write(this.prompt);
  }

  private redraw(): void {
    if (!this.tty) return;
    const text = this.buf.join('');
    const back = this.buf.length - this.cur;
    this.write(`\r${this.prompt}${text}\x1b[K${back ? `\x1b[${back}D` : ''}`);
  }

  private setLine(text: string): void {
    this.buf = [...text];
    this.cur = this.buf.length;
    this.redraw();
  }

  private finishLine(): EditorEvent {
    const text = this.buf.join('');
    if (this.tty) this.write('\r\n');
    if (text.trim() && this.history[this.history.length - 1] !== text) this.history.push(text);
    if (this.history.length > 500) this.history.shift();
    this.hpos = this.history.length;
    this.buf = [];
    this.cur = 0;
    return { type: 'line', text };
  }

  private escape(seq: string): void {
    switch (seq) {
      case '[D':
        if (this.cur > 0) this.cur--;
        break;
      case '[C':
        if (this.cur < this.buf.length) this.cur++;
        break;
      case '[H':
      case 'OH':
      case '[1~':
        this.cur = 0;
        break;
      case '[F':
      case 'OF':
      case '[4~':
        this.cur = this.buf.length;
        break;
      case '[3~':
        this.buf.splice(this.cur, 1);
        break;
      case '[A':
        if (this.hpos > 0) this.setLine(this.history[--this.hpos]);
        return;
      case '[B':
        if (this.hpos < this.history.length) this.setLine(this.history[++this.hpos] ?? '');
        return;
      default:
        return;
    }
    this.redraw();
  }

  /** Decodes input; returns the events it completed (usually zero or one line). */
  feed(data: string): EditorEvent[] {
    const out: EditorEvent[] = [];
    for (const ch of data) {
      if (this.esc) {
        this.esc += ch;
        // CSI/SS3 sequences end with a letter or '~'
        if (this.esc.length > 8 || /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z])$/.test(this.esc)) {
          this.escape(this.esc.slice(1));
          this.esc = '';
        } else if (!/^\x1b(\[[0-9;]*|O)?$/.test(this.esc)) {
          this.esc = '';
        }
        continue;
      }
      const wasCR = this.lastCR;
      this.lastCR = ch === '\r';
      if (!this.tty) {
        if (ch === '\n') out.push(this.finishLine());
        else if (ch !== '\r') this.buf.push(ch);
        continue;
      }
      switch (ch) {
        case '\x1b':
          this.esc = ch;
          break;
        case '\r':
          out.push(this.finishLine());
          break;
        case '\n':
          if (!wasCR) out.push(this.finishLine());
          break;
        case '\x7f':
        case '\b':
          if (this.cur > 0) {
            this.buf.splice(--this.cur, 1);
            this.redraw();
          }
          break;
        case '\x01':
          this.cur = 0;
          this.redraw();
          break;
        case '\x05':
          this.cur = this.buf.length;
          this.redraw();
          break;
        case '\x15':
          this.buf.splice(0, this.cur);
          this.cur = 0;
          this.redraw();
          break;
        case '\x0b':
          this.buf.splice(this.cur);
          this.redraw();
          break;
        case '\x17': {
          let i = this.cur;
          while (i > 0 && this.buf[i - 1] === ' ') i--;
          while (i > 0 && this.buf[i - 1] !== ' ') i--;
          this.buf.splice(i, this.cur - i);
          this.cur = i;
          this.redraw();
          break;
        }
        case '\x0c':
          this.write('\x1b[H\x1b[2J');
          this.redraw();
          break;
        case '\x03':
          this.write('^C\r\n');
          this.buf = [];
          this.cur = 0;
          out.push({ type: 'interrupt' });
          break;
        case '\x04':
          if (this.buf.length === 0) out.push({ type: 'eof' });
          else if (this.cur < this.buf.length) {
            this.buf.splice(this.cur, 1);
            this.redraw();
          }
          break;
        default:
          if (ch >= ' ') {
            this.buf.splice(this.cur++, 0, ch);
            if (this.cur === this.buf.length) this.write(ch);
            else this.redraw();
          }
      }
    }
    return out;
  }
}

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

/**
 * The builtin shell's line editor (SPEC "an interactive shell with line editing"): on a pty the server
 * edits the line itself, as a terminal line discipline would — echo, ← → Home End (also Ctrl-A/E),
 * Backspace, Delete, Ctrl-U/K/W, ↑ ↓ history, Ctrl-L, Ctrl-C (drop the line), Ctrl-D (quit on an empty
 * line). Without a pty input is read line by line, no echo.
 *
 * Bounded by design (issue 9 item 2, issue 18 `net--shell-*`, `scale--shell-insert-mid-line`):
 *  - a line holds at most MAX_LINE bytes of UTF-8 (the Linux tty's canonical line is 4095). A longer
 *    line is refused with one message and discarded up to its end; it is never run, not even truncated.
 *  - each key costs output proportional to what it changed on screen: an insert in the middle of the
 *    line is the character in insert mode (IRM, `ESC [4h`), a delete is DCH (`ESC [P`), a cursor move
 *    is CUB/CUF — never a redraw of the whole line, which made 64 KiB typed mid-line send 1.5 GB.
 *    Only Ctrl-L and history recall redraw a line, once, for the line they show.
 * Like the editor before it, it counts one terminal cell per character (no wide-character widths) and
 * does not follow a line that wraps past the terminal's width.
 */

/** Longest line the shell accepts, in bytes of UTF-8. */
export const MAX_LINE = 8192;

/** One decoded input event of the line editor. */
export type EditorEvent = { type: 'line'; text: string } | { type: 'eof' } | { type: 'interrupt' } | { type: 'too-long' };

const HISTORY = 500;

const utf8Len = (ch: string) => {
  const c = ch.codePointAt(0)!;
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
};
/** Not a C0/C1 control or DEL: a terminal shows it rather than acting on it (C1 0x9b is CSI to some). */
const printable = (ch: string) => ch >= ' ' && !(ch >= '\x7f' && ch <= '\x9f');
const bytesOf = (chars: readonly string[]) => chars.reduce((n, ch) => n + utf8Len(ch), 0);
const left = (n: number) => (n > 0 ? `\x1b[${n}D` : '');
const right = (n: number) => (n > 0 ? `\x1b[${n}C` : '');
const deleteChars = (n: number) => (n > 0 ? `\x1b[${n}P` : '');

/** A minimal readline: feed it text, it writes screen updates through `write` and returns completed events. */
export class LineEditor {
  private buf: string[] = [];
  private bytes = 0;
  private cur = 0;
  private history: string[] = [];
  private hpos = 0;
  private esc = '';
  private lastCR = false;
  /** The line went over MAX_LINE: input is dropped up to the end of the line. */
  private discarding = false;

  constructor(
    private readonly write: (s: string) => void,
    readonly prompt: string,
    private readonly tty: boolean,
  ) {}

  /** The line being edited and the cursor in it (in characters); `discarding` after an overlong line. */
  get state(): { line: string; cursor: number; discarding: boolean } {
    return { line: this.buf.join(''), cursor: this.cur, discarding: this.discarding };
  }

  /** Prints the prompt (pty only). */
  showPrompt(): void {
    if (this.tty) this.write(this.prompt);
  }

  private out(s: string): void {
    if (this.tty && s) this.write(s);
  }

  /** Redraws prompt and line (Ctrl-L, history): output proportional to the line shown. */
  private redraw(): void {
    this.out(`\r${this.prompt}${this.buf.join('')}\x1b[K${left(this.buf.length - this.cur)}`);
  }

  private setLine(text: string): void {
    this.buf = [...text];
    this.bytes = bytesOf(this.buf);
    this.cur = this.buf.length;
    this.redraw();
  }

  private clearLine(): void {
    this.buf = [];
    this.bytes = 0;
    this.cur = 0;
  }

  /** Removes `n` characters at `from` (the cursor is already there on screen). */
  private remove(from: number, n: number): void {
    const gone = this.buf.splice(from, Math.max(0, n));
    this.bytes -= bytesOf(gone);
    this.out(deleteChars(gone.length));
  }

  private moveTo(pos: number): void {
    this.out(pos < this.cur ? left(this.cur - pos) : right(pos - this.cur));
    this.cur = pos;
  }

  private finishLine(): EditorEvent {
    const text = this.buf.join('');
    this.out('\r\n');
    if (text.trim() && this.history[this.history.length - 1] !== text) this.history.push(text);
    if (this.history.length > HISTORY) this.history.shift();
    this.hpos = this.history.length;
    this.clearLine();
    return { type: 'line', text };
  }

  private insert(ch: string): EditorEvent | null {
    const n = utf8Len(ch);
    if (this.bytes + n > MAX_LINE) {
      this.discarding = true;
      this.clearLine();
      this.out('\r\n');
      return { type: 'too-long' };
    }
    this.buf.splice(this.cur++, 0, ch);
    this.bytes += n;
    this.out(this.cur === this.buf.length ? ch : `\x1b[4h${ch}\x1b[4l`);
    return null;
  }

  private escape(seq: string): void {
    switch (seq) {
      case '[D':
        if (this.cur > 0) this.moveTo(this.cur - 1);
        break;
      case '[C':
        if (this.cur < this.buf.length) this.moveTo(this.cur + 1);
        break;
      case '[H':
      case 'OH':
      case '[1~':
        this.moveTo(0);
        break;
      case '[F':
      case 'OF':
      case '[4~':
        this.moveTo(this.buf.length);
        break;
      case '[3~':
        this.remove(this.cur, 1);
        break;
      case '[A':
        if (this.hpos > 0) this.setLine(this.history[--this.hpos]);
        break;
      case '[B':
        if (this.hpos < this.history.length) this.setLine(this.history[++this.hpos] ?? '');
        break;
    }
  }

  /** The index just past the end of the line being discarded, or -1 when `data` does not hold it. */
  private endOfDiscard(data: string, from: number): number {
    const re = this.tty ? /[\r\n\x03]/g : /\n/g;
    re.lastIndex = from;
    return re.exec(data) ? re.lastIndex : -1;
  }

  /** Decodes input; returns the events it completed (usually zero or one line). */
  feed(data: string): EditorEvent[] {
    const out: EditorEvent[] = [];
    let i = 0;
    while (i < data.length) {
      if (this.discarding) {
        const end = this.endOfDiscard(data, i);
        if (end < 0) break;
        this.discarding = false;
        this.lastCR = data[end - 1] === '\r';
        i = end;
        this.esc = '';
        out.push({ type: 'interrupt' }); // a fresh prompt, nothing run
        continue;
      }
      const ch = String.fromCodePoint(data.codePointAt(i)!);
      i += ch.length;
      const ev = this.key(ch);
      if (ev) out.push(ev);
    }
    return out;
  }

  private key(ch: string): EditorEvent | null {
    if (this.esc) {
      this.esc += ch;
      // CSI/SS3 sequences end with a letter or '~'
      if (this.esc.length > 8 || /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z])$/.test(this.esc)) {
        this.escape(this.esc.slice(1));
        this.esc = '';
      } else if (!/^\x1b(\[[0-9;]*|O)?$/.test(this.esc)) {
        this.esc = '';
      }
      return null;
    }
    const wasCR = this.lastCR;
    this.lastCR = ch === '\r';
    if (!this.tty) {
      if (ch === '\n') return this.finishLine();
      return ch === '\r' ? null : this.insert(ch);
    }
    switch (ch) {
      case '\x1b':
        this.esc = ch;
        return null;
      case '\r':
        return this.finishLine();
      case '\n':
        return wasCR ? null : this.finishLine();
      case '\x7f':
      case '\b':
        if (this.cur > 0) {
          this.moveTo(this.cur - 1);
          this.remove(this.cur, 1);
        }
        return null;
      case '\x01':
        this.moveTo(0);
        return null;
      case '\x05':
        this.moveTo(this.buf.length);
        return null;
      case '\x15': {
        const n = this.cur;
        this.moveTo(0);
        this.remove(0, n);
        return null;
      }
      case '\x0b':
        this.bytes -= bytesOf(this.buf.splice(this.cur));
        this.out('\x1b[K');
        return null;
      case '\x17': {
        let i = this.cur;
        while (i > 0 && this.buf[i - 1] === ' ') i--;
        while (i > 0 && this.buf[i - 1] !== ' ') i--;
        const n = this.cur - i;
        this.moveTo(i);
        this.remove(i, n);
        return null;
      }
      case '\x0c':
        this.out('\x1b[H\x1b[2J');
        this.redraw();
        return null;
      case '\x03':
        this.out('^C\r\n');
        this.clearLine();
        return { type: 'interrupt' };
      case '\x04':
        if (this.buf.length === 0) return { type: 'eof' };
        this.remove(this.cur, 1);
        return null;
      default:
        return printable(ch) ? this.insert(ch) : null;
    }
  }
}

/**
 * Property tests of the builtin shell's line editor (src/server/line-editor.ts), in-process, on random
 * key sequences: printable text, UTF-8 (also split across feeds, as packets split it), control
 * characters, complete, partial and garbage escape sequences. Each run checks that the editor
 *  - never throws, and on a pty emits only the sequences a small terminal model understands;
 *  - keeps the screen right: after every feed, that model's cursor row shows prompt + line with the
 *    cursor where the editor thinks it is (this is what lets it redraw only what changed);
 *  - costs output linear in its input: O(1) per key, except Ctrl-L / ↑ / ↓, which redraw one line;
 *  - never hands out a line over MAX_LINE bytes; without a pty, echoes nothing and splits on \n only.
 * Budget: `fuzzParams` (a few seconds under `npm test`; `npm run fuzz` runs 50× more).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StringDecoder } from 'node:string_decoder';
import fc from 'fast-check';
import { LineEditor, MAX_LINE, type EditorEvent } from '../src/server/line-editor.js';
import { fuzzParams } from './fuzz-helper.js';

const PROMPT = 'alice@sshkit$ ';

/**
 * A one-row terminal with no right margin, enough for what the editor may send: text, CR, LF, BS, BEL,
 * CSI n D/C (cursor), n P (delete), K (erase to end), 4h/4l (insert mode), H and 2J (Ctrl-L). Anything
 * else is a failure: the editor must not send sequences we have not reasoned about.
 */
class Terminal {
  row: string[] = [];
  col = 0;
  private insert = false;

  write(s: string): void {
    const re = /\x1b\[([0-9;]*)([A-Za-z@])|([\s\S])/gu;
    for (const m of s.matchAll(re)) {
      if (m[3] !== undefined) this.char(m[3]);
      else this.csi(m[1], m[2]);
    }
  }

  private char(ch: string): void {
    if (ch === '\r') this.col = 0;
    else if (ch === '\n') this.row = [];
    else if (ch === '\b') this.col = Math.max(0, this.col - 1);
    else if (ch === '\x07') return;
    else {
      assert.ok(ch >= ' ' && ch !== '\x7f' && ch !== '\x1b', `control ${JSON.stringify(ch)} sent to the terminal`);
      while (this.row.length < this.col) this.row.push('');
      if (this.insert) this.row.splice(this.col, 0, ch);
      else this.row[this.col] = ch;
      this.col++;
    }
  }

  private csi(params: string, final: string): void {
    const n = params === '' ? 1 : Number(params);
    if (final === 'D') this.col = Math.max(0, this.col - n);
    else if (final === 'C') this.col += n;
    else if (final === 'P') this.row.splice(this.col, n);
    else if (final === 'K' && params === '') this.row.length = Math.min(this.row.length, this.col);
    else if ((final === 'h' || final === 'l') && params === '4') this.insert = final === 'h';
    else if (final === 'H' && params === '') this.col = 0;
    else if (final === 'J' && params === '2') this.row = [];
    else assert.fail(`unexpected sequence ESC [${params}${final}`);
  }

  /** What the row shows; a hole (never written) shows as NUL, trailing holes are not shown. */
  text(): string {
    return this.row.map((c) => c || '\0').join('').replace(/\0+$/, '');
  }
}

const keys = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...'abc xyz-_/\'"\\'.split('')), minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }) },
  { weight: 3, arbitrary: fc.constantFrom('\x1b[D', '\x1b[C', '\x1b[H', '\x1b[F', '\x1bOH', '\x1bOF', '\x1b[1~', '\x1b[4~', '\x1b[3~', '\x1b[A', '\x1b[B') },
  { weight: 1, arbitrary: fc.constantFrom('\x1b', '\x1b[', '\x1bO', '\x1b[1;5', '\x1b[999999999D', '\x1b[12345678', '\x1b\x1b[C', '\x1b]0;x\x07') },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\x7f', '\x9b', '\x85', '\u2028', '\ufffd', '\ud800', '\udc00') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => 'é'.repeat(n)) },
);
const inputs = fc.array(keys, { maxLength: 60 }).map((ks) => ks.join(''));

/** Feeds `input` in the given chunk sizes, as bytes through a UTF-8 decoder, as the shell does. */
function run(input: string, tty: boolean, cuts: number[], afterFeed?: (ed: LineEditor, term: Terminal) => void) {
  const term = new Terminal();
  let out = '';
  const ed = new LineEditor((s) => ((out += s), term.write(s)), PROMPT, tty);
  const events: EditorEvent[] = [];
  const utf8 = new StringDecoder('utf8');
  const bytes = Buffer.from(input, 'utf8');
  ed.showPrompt();
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, cuts.length ? cuts[i % cuts.length] : bytes.length);
    for (const ev of ed.feed(utf8.write(bytes.subarray(at, at + n)))) {
      events.push(ev);
      if (ev.type === 'line' || ev.type === 'interrupt') ed.showPrompt(); // as the shell does after a command
    }
    at += n;
    afterFeed?.(ed, term);
  }
  return { out, events, ed, term };
}

const redrawKeys = (s: string) => (s.match(/\x0c|\x1b\[[AB]/g) ?? []).length;

test('line editor on a pty: never throws, the screen shows prompt + line, output linear in input', () => {
  fc.assert(
    fc.property(inputs, fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 4 }), (input, cuts) => {
      // byte by byte (each feed holds at most one key, so the prompt comes where the shell puts it):
      // after every feed the model terminal shows exactly what the editor believes is on screen
      let feeds = 0;
      run(input, true, [1], (ed, term) => {
        const st = ed.state;
        if (++feeds % 7 !== 0 && input.length > 2000) return; // long inputs: every 7th byte (the check is O(line))
        if (st.discarding) return; // an overlong line: nothing is shown until its end
        assert.equal(term.text(), PROMPT + st.line, 'screen row');
        assert.equal(term.col, PROMPT.length + st.cursor, 'cursor column');
      });
      // in packet-sized pieces (type-ahead: keys after Enter echo before the next prompt): bounds only
      const { out, events } = run(input, true, cuts);
      const line = Math.min(input.length, MAX_LINE);
      const bound = 16 * input.length + (events.length + 1) * PROMPT.length + redrawKeys(input) * (PROMPT.length + 16 + line);
      assert.ok(out.length <= bound, `${out.length} output for ${input.length} input (bound ${bound})`);
      for (const ev of events) if (ev.type === 'line') assert.ok(Buffer.byteLength(ev.text) <= MAX_LINE);
    }),
    fuzzParams(200),
  );
});

test('line editor without a pty: no output at all, lines split on \\n only, none over MAX_LINE', () => {
  fc.assert(
    fc.property(inputs, fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 4 }), (input, cuts) => {
      const { out, events } = run(input + '\n', false, cuts);
      assert.equal(out, '');
      // what the shell sees is the decoded text (a lone surrogate went out as U+FFFD); \r is dropped
      const decoded = Buffer.from(input + '\n', 'utf8').toString('utf8');
      const expected = decoded.split('\n').slice(0, -1).map((l) => l.replace(/\r/g, ''));
      // an overlong line is one 'too-long' and then one 'interrupt' in place of its 'line'
      const lines: Array<string | null> = [];
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (ev.type === 'line') lines.push(ev.text);
        else if (ev.type === 'too-long') {
          lines.push(null);
          assert.equal(events[++i]?.type, 'interrupt');
        } else assert.fail(`unexpected ${ev.type} without a pty`);
      }
      assert.equal(lines.length, expected.length, JSON.stringify(lines));
      expected.forEach((l, i) => assert.equal(lines[i], Buffer.byteLength(l) <= MAX_LINE ? l : null));
    }),
    fuzzParams(300),
  );
});

test('typing in the middle of a long line costs O(1) output per key (scale--shell-insert-mid-line, in-process)', () => {
  // the shape of the finding: a long line, cursor to its start, then typing; 8000 bytes stay under the cap
  for (const n of [1000, 4000]) {
    const input = 'a'.repeat(n) + '\x01' + 'b'.repeat(n) + '\r';
    const { out, events } = run(input, true, []);
    assert.deepEqual(events[0], { type: 'line', text: 'b'.repeat(n) + 'a'.repeat(n) });
    // before the fix each key redrew the whole line: ≈ n × 2n bytes (32 MB at n = 4000)
    assert.ok(out.length < 12 * input.length, `${out.length} bytes of output for ${input.length} typed`);
  }
});

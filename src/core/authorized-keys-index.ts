/**
 * The compact index of an authorized_keys file (issue 14, ../shared/PERF.md lessons 2 and 3), split from
 * authorized-keys.ts (which re-exports it): the line parser stays there, the tables and their lookup are here.
 */
import { ParseError } from './errors.js';
import { eachLine, type LineError } from './lines.js';
import { indexedBlob, parseAuthorizedKeysLine, type AuthorizedKey } from './authorized-keys.js';
import { blobHash, ed25519LineHash } from './key-index-hash.js';

/** The line that starts at `start` in `text`, without its `\n` and one trailing `\r` (as eachLine gives it). */
function lineAt(text: string, start: number): string {
  const nl = text.indexOf('\n', start);
  const line = text.slice(start, nl < 0 ? text.length : nl);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/**
 * How a detached index reads one of its lines back: the `length` bytes of the file at byte `start` and
 * the byte after them when there is one (it must be the line's `\n`); undefined when the read fails.
 */
export type LineReader = (start: number, length: number) => Buffer | undefined;

/**
 * An authorized_keys file indexed by key blob, compactly (../shared/PERF.md lessons 2 and 3): per usable
 * line, 32-bit numbers (line start, line number, blob hash; a detached index adds the line's length in
 * bytes) and an open-addressed table of entry numbers, ≈ 20–26 bytes a key. Every line is validated in
 * full when the file is read (bad lines go to `errors`, as sshd logs them); the lines that list a
 * looked-up key are parsed again on lookup, so options, comments and key objects are never held. The
 * index holds the file's text, or — detached (issue 14: 100,000 keys in ≈ 2.6 MB instead of ≈ 11) —
 * nothing of it: a lookup reads the candidate lines back through its LineReader and trusts a line only
 * when it still carries the blob it was indexed with (the hash of its re-parsed blob) and exactly the
 * looked-up blob (a full compare); a line that changed marks the index `stale` and is never used.
 */
export class KeyIndex {
  /** Lines that could not be used, with their numbers. */
  errors: LineError[] = [];
  size = 0;
  /** A detached index's file no longer holds a line it indexed: the caller must index the file again. */
  stale = false;
  private starts = new Uint32Array(16);
  private lineNos = new Uint32Array(16);
  private hashes = new Uint32Array(16);
  private lengths = new Uint32Array(0); // detached only: each line's bytes, `\n` excluded
  private table = new Int32Array(0);

  constructor(
    private readonly text = '',
    private readonly reader?: LineReader,
  ) {
    if (reader) this.lengths = new Uint32Array(16);
  }

  /** An index that keeps no text: its lines are read back through `reader` (see addPiece). */
  static detached(reader: LineReader): KeyIndex {
    return new KeyIndex('', reader);
  }

  /**
   * Indexes the lines in text[start, end) (end at a line boundary or the end of the text), whose first
   * line is line `firstLine + 1`; bad lines are added to `errors` with their numbers.
   */
  addSlice(start: number, end: number, firstLine: number): void {
    const slice = start === 0 && end === this.text.length ? this.text : this.text.slice(start, end);
    this.walk(this.text, start, slice, firstLine, -1);
  }

  /**
   * A detached index's lines: `piece` is the text of whole lines of the file from byte `base`, its first
   * line numbered `firstLine + 1`. Without `bytes` the piece is ASCII (a character is a byte); with it,
   * `piece` is ONE line (no `\n`) decoded from that many bytes.
   */
  addPiece(piece: string, base: number, firstLine: number, bytes = -1): void {
    if (!this.reader) throw new Error('addPiece: not a detached index');
    this.walk(piece, 0, piece, firstLine, bytes, base);
  }

  /** eachLine over `slice` (= text from `offset`), pushing each usable line with its start and hash. */
  private walk(text: string, offset: number, slice: string, firstLine: number, bytes: number, base = 0): void {
    let cursor = offset; // start of line `cursorLine` in `text`
    let cursorLine = firstLine + 1;
    const errors = eachLine(slice, (line, n) => {
      const lineNo = n + firstLine;
      while (cursorLine < lineNo) {
        cursor = text.indexOf('\n', cursor) + 1;
        cursorLine++;
      }
      const fast = ed25519LineHash(text, cursor, cursor + line.length);
      const hash = fast >= 0 ? fast : blobHash(indexedBlob(line, lineNo));
      let length = 0;
      if (this.reader) {
        const nl = text.indexOf('\n', cursor);
        length = bytes >= 0 ? bytes : (nl < 0 ? text.length : nl) - cursor;
      }
      this.push(base + cursor, lineNo, hash, length);
    });
    for (const e of errors) this.errors.push({ line: e.line + firstLine, message: e.message });
  }

  private push(start: number, lineNo: number, hash: number, length: number): void {
    if (this.size === this.starts.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.lineNos = grow(this.lineNos);
      this.hashes = grow(this.hashes);
      if (this.reader) this.lengths = grow(this.lengths);
    }
    this.starts[this.size] = start;
    this.lineNos[this.size] = lineNo;
    this.hashes[this.size] = hash;
    if (this.reader) this.lengths[this.size] = length;
    this.size++;
  }

  /** Builds the lookup table once every line is in (linear probing, at most half full). */
  seal(): this {
    const n = this.size;
    this.starts = this.starts.slice(0, n);
    this.lineNos = this.lineNos.slice(0, n);
    this.hashes = this.hashes.slice(0, n);
    if (this.reader) this.lengths = this.lengths.slice(0, n);
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    const table = new Int32Array(cap);
    for (let e = 0; e < n; e++) {
      let slot = this.hashes[e] & (cap - 1);
      while (table[slot] !== 0) slot = (slot + 1) & (cap - 1);
      table[slot] = e + 1;
    }
    this.table = table;
    return this;
  }

  /** Bytes the index holds: its text (two bytes a character past U+00FF, as V8 stores it) and its tables. */
  get bytes(): number {
    const perChar = /[^\u0000-\u00ff]/.test(this.text) ? 2 : 1;
    return this.text.length * perChar + this.table.byteLength + this.starts.byteLength * 3 + this.lengths.byteLength;
  }

  /** Every line that lists exactly this key blob (several lines may list one key with other options). */
  lookup(blob: Buffer): AuthorizedKey[] {
    const table = this.table;
    if (table.length === 0) return [];
    const h = blobHash(blob);
    const found: number[] = [];
    for (let slot = h & (table.length - 1); table[slot] !== 0; slot = (slot + 1) & (table.length - 1)) {
      const e = table[slot] - 1;
      if (this.hashes[e] === h) found.push(e);
    }
    const out: AuthorizedKey[] = [];
    for (const e of found.sort((a, b) => a - b)) {
      const entry = this.reader ? this.reread(e) : parseAuthorizedKeysLine(lineAt(this.text, this.starts[e]), this.lineNos[e]);
      // held text was validated when the file was read: it parses again, the same way
      if (entry && entry.key.blob.equals(blob)) out.push(entry);
    }
    return out;
  }

  /** A detached entry's line read back and parsed; undefined (and `stale`) when it is not the line indexed. */
  private reread(e: number): AuthorizedKey | undefined {
    const length = this.lengths[e];
    const got = this.reader!(this.starts[e], length);
    if (!got || got.length < length || (got.length > length && got[length] !== 0x0a)) return this.changed();
    let line = got.toString('utf8', 0, length);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    let entry: AuthorizedKey;
    try {
      entry = parseAuthorizedKeysLine(line, this.lineNos[e]);
    } catch (err) {
      if (err instanceof ParseError) return this.changed();
      throw err;
    }
    return blobHash(entry.key.blob) === this.hashes[e] ? entry : this.changed();
  }

  private changed(): undefined {
    this.stale = true;
    return undefined;
  }
}

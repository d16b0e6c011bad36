/**
 * authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT): `[options] keytype base64 [comment]` per line.
 * Parsing is strict per line and forgiving per file, as auth2-pubkeyfile.c: a bad line is reported as
 * `file:line` and skipped, the others keep working. Keys are indexed by their blob so a lookup costs
 * the same with 100,000 keys as with one (../shared/PERF.md lesson 2).
 */
import { parseAbsoluteTime } from './time.js';
import { ParseError } from './errors.js';
import { readKeyPrefix, type PublicKey } from './key.js';
import { eachLine, type LineError } from './lines.js';
import { leadingField, parseOptions, type RawOption } from './options.js';
import { blobHash, ed25519LineHash } from './key-index-hash.js';

/** Structured authorized_keys options. Flags follow sshd: `restrict` turns every permission off. */
export interface KeyOptions {
  /** Forced command (`command="…"`). */
  command?: string;
  /** Host/address patterns the client must match (`from="…"`). */
  from?: string;
  /** Seconds since the epoch after which the key is refused (`expiry-time="…"`). */
  expiryTime?: number;
  /** Allowed certificate principals (`principals="…"`, with cert-authority). */
  principals?: string;
  /** The key is a CA for user certificates. */
  certAuthority: boolean;
  pty: boolean;
  portForwarding: boolean;
  agentForwarding: boolean;
  x11Forwarding: boolean;
  userRc: boolean;
  /** `environment="NAME=value"` entries, kept for logging; sshkit does not set them. */
  environment: string[];
  /** Options understood by sshd that sshkit accepts but does not act on (logged by the server). */
  ignored: string[];
}

/** One usable line of an authorized_keys file. */
export interface AuthorizedKey {
  readonly key: PublicKey;
  readonly options: KeyOptions;
  readonly line: number;
}

/** Re-exported for callers that report bad authorized_keys lines. */
export type { LineError };

// Maps, not `{}`: an option named `constructor` must not find Object.prototype (fuzz finding options--*).
type Flag = 'pty' | 'portForwarding' | 'agentForwarding' | 'x11Forwarding' | 'userRc';
const FLAGS = new Map<string, Flag>([
  ['no-pty', 'pty'],
  ['no-port-forwarding', 'portForwarding'],
  ['no-agent-forwarding', 'agentForwarding'],
  ['no-x11-forwarding', 'x11Forwarding'],
  ['no-user-rc', 'userRc'],
]);
const POSITIVE = new Map<string, Flag>([
  ['pty', 'pty'],
  ['port-forwarding', 'portForwarding'],
  ['agent-forwarding', 'agentForwarding'],
  ['x11-forwarding', 'x11Forwarding'],
  ['user-rc', 'userRc'],
]);
const NOT_ACTED_ON = new Set(['permitopen', 'permitlisten', 'tunnel', 'no-touch-required', 'touch-required', 'verify-required']);

function defaults(): KeyOptions {
  return { certAuthority: false, pty: true, portForwarding: true, agentForwarding: true, x11Forwarding: true, userRc: true, environment: [], ignored: [] };
}

/** Turns raw options into KeyOptions; unknown names are an error for the line (sshd does the same). */
export function interpretOptions(raw: RawOption[]): KeyOptions {
  const o = defaults();
  const needValue = (opt: RawOption): string => {
    if (opt.value === undefined) throw new ParseError(`option ${opt.name} needs a value`);
    return opt.value;
  };
  for (const opt of raw) {
    const flag = FLAGS.get(opt.name);
    const positive = POSITIVE.get(opt.name);
    if (flag || positive || opt.name === 'restrict' || opt.name === 'cert-authority') {
      if (opt.value !== undefined) throw new ParseError(`option ${opt.name} takes no value`);
    }
    if (opt.name === 'restrict') {
      o.pty = o.portForwarding = o.agentForwarding = o.x11Forwarding = o.userRc = false;
    } else if (flag) {
      o[flag] = false;
    } else if (positive) {
      o[positive] = true;
    } else if (opt.name === 'cert-authority') {
      o.certAuthority = true;
    } else if (opt.name === 'command') {
      if (o.command !== undefined) throw new ParseError('duplicate command= option');
      o.command = needValue(opt);
    } else if (opt.name === 'from') {
      if (o.from !== undefined) throw new ParseError('duplicate from= option');
      o.from = needValue(opt);
    } else if (opt.name === 'principals') {
      if (o.principals !== undefined) throw new ParseError('duplicate principals= option');
      o.principals = needValue(opt);
    } else if (opt.name === 'expiry-time') {
      const t = parseAbsoluteTime(needValue(opt));
      o.expiryTime = o.expiryTime === undefined ? t : Math.min(o.expiryTime, t);
    } else if (opt.name === 'environment') {
      const v = needValue(opt);
      if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) throw new ParseError(`invalid environment ${JSON.stringify(v)}`);
      o.environment.push(v);
    } else if (NOT_ACTED_ON.has(opt.name)) {
      o.ignored.push(opt.name);
    } else {
      throw new ParseError(`unsupported option ${JSON.stringify(opt.name)}`);
    }
  }
  return o;
}

/** A line split into its parts, validated: the raw options field and the key. */
interface SplitLine {
  readonly optionsField: string;
  readonly key: PublicKey;
}

function splitLine(line: string, forIndex = false): SplitLine {
  let got = readKeyPrefix(line);
  let optionsField = '';
  if (!got) {
    const field = leadingField(line);
    optionsField = field.text;
    got = readKeyPrefix(line, field.end);
    if (!got) throw new ParseError(field.end >= line.length ? 'no key found' : 'unknown key type or invalid options');
  }
  if (forIndex) {
    if (optionsField) interpretOptions(parseOptions(optionsField));
    return { optionsField, key: got.key }; // the index keeps no comment
  }
  const comment = line.slice(got.end).replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  return { optionsField, key: { ...got.key, comment } };
}

function withLine<T>(lineNo: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(err.message, lineNo);
    throw err;
  }
}

/**
 * Parses one authorized_keys line (not blank, not a comment). As sshd: try a key first; failing that,
 * the line starts with options, then the key. The trailing comment is the key's comment.
 */
export function parseAuthorizedKeysLine(line: string, lineNo = 0): AuthorizedKey {
  return withLine(lineNo, () => {
    const s = splitLine(line);
    return { key: s.key, options: interpretOptions(s.optionsField ? parseOptions(s.optionsField) : []), line: lineNo };
  });
}

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
      const hash = fast >= 0 ? fast : blobHash(withLine(lineNo, () => splitLine(line, true)).key.blob);
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

/**
 * An index of one line that must be good (a synthesized line, e.g. a trusted CA's `cert-authority`
 * line): numbered `lineNo`; a bad line throws its ParseError instead of becoming an `errors` entry.
 */
export function indexOneLine(line: string, lineNo: number): KeyIndex {
  parseAuthorizedKeysLine(line, lineNo); // throws on a bad line
  const index = new KeyIndex(line);
  index.addSlice(0, line.length, lineNo - 1);
  return index.seal();
}

/** Parses a whole authorized_keys text; bad lines go to `errors` (never the whole file). */
export function parseAuthorizedKeys(text: string): KeyIndex {
  const index = new KeyIndex(text);
  index.addSlice(0, text.length, 0);
  return index.seal();
}

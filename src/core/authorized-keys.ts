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
 * An authorized_keys file indexed by key blob, compactly (../shared/PERF.md lessons 2 and 3): the file
 * text itself plus, per usable line, three 32-bit numbers (line start, line number, blob hash) and an
 * open-addressed table of entry numbers, ≈ 20 bytes a key beside the text. Every line is validated in
 * full when the file is read (bad lines go to `errors`, as sshd logs them); the lines that list a
 * looked-up key are parsed again on lookup, so options, comments and key objects are never held.
 */
export class KeyIndex {
  /** Lines that could not be used, with their numbers. */
  errors: LineError[] = [];
  size = 0;
  private starts = new Uint32Array(16);
  private lineNos = new Uint32Array(16);
  private hashes = new Uint32Array(16);
  private table = new Int32Array(0);
  private cursor = 0; // offset of line `cursorLine` in the text, for addSlice's line starts
  private cursorLine = 1;

  constructor(private readonly text = '') {}

  /**
   * Indexes the lines in text[start, end) (end at a line boundary or the end of the text), whose first
   * line is line `firstLine + 1`; bad lines are added to `errors` with their numbers.
   */
  addSlice(start: number, end: number, firstLine: number): void {
    const text = this.text;
    const slice = start === 0 && end === text.length ? text : text.slice(start, end);
    this.cursor = start;
    this.cursorLine = firstLine + 1;
    const errors = eachLine(slice, (line, n) => {
      const lineNo = n + firstLine;
      while (this.cursorLine < lineNo) {
        this.cursor = text.indexOf('\n', this.cursor) + 1;
        this.cursorLine++;
      }
      const fast = ed25519LineHash(text, this.cursor, this.cursor + line.length);
      this.push(this.cursor, lineNo, fast >= 0 ? fast : blobHash(withLine(lineNo, () => splitLine(line, true)).key.blob));
    });
    for (const e of errors) this.errors.push({ line: e.line + firstLine, message: e.message });
  }

  private push(start: number, lineNo: number, hash: number): void {
    if (this.size === this.starts.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.lineNos = grow(this.lineNos);
      this.hashes = grow(this.hashes);
    }
    this.starts[this.size] = start;
    this.lineNos[this.size] = lineNo;
    this.hashes[this.size] = hash;
    this.size++;
  }

  /** Builds the lookup table once every line is in (linear probing, at most half full). */
  seal(): this {
    const n = this.size;
    this.starts = this.starts.slice(0, n);
    this.lineNos = this.lineNos.slice(0, n);
    this.hashes = this.hashes.slice(0, n);
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
    return this.text.length * perChar + this.table.byteLength + this.starts.byteLength * 3;
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
      // validated when the file was read: the line parses again, the same way
      const entry = parseAuthorizedKeysLine(lineAt(this.text, this.starts[e]), this.lineNos[e]);
      if (entry.key.blob.equals(blob)) out.push(entry);
    }
    return out;
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

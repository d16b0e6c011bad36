/**
 * authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT): `[options] keytype base64 [comment]` per line.
 * Parsing is strict per line and forgiving per file, as auth2-pubkeyfile.c: a bad line is reported as
 * `file:line` and skipped, the others keep working. Keys are indexed by their blob so a lookup costs
 * the same with 100,000 keys as with one (../shared/PERF.md lesson 2).
 */
import { parseAbsoluteTime } from './time.js';
import { ParseError } from './errors.js';
import { readKeyPrefix, type PublicKey } from './key.js';
import type { LineError } from './lines.js';
import { leadingField, parseOptions, type RawOption } from './options.js';
import { KeyIndex } from './authorized-keys-index.js';

export { KeyIndex, type LineReader } from './authorized-keys-index.js';

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

/** The key blob of a line, validated as the index needs it (options checked, no comment kept): KeyIndex's slow path. */
export function indexedBlob(line: string, lineNo: number): Buffer {
  return withLine(lineNo, () => splitLine(line, true)).key.blob;
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

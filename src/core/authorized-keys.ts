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

const FLAGS: Record<string, keyof KeyOptions> = {
  'no-pty': 'pty',
  'no-port-forwarding': 'portForwarding',
  'no-agent-forwarding': 'agentForwarding',
  'no-x11-forwarding': 'x11Forwarding',
  'no-user-rc': 'userRc',
};
const POSITIVE: Record<string, keyof KeyOptions> = {
  pty: 'pty',
  'port-forwarding': 'portForwarding',
  'agent-forwarding': 'agentForwarding',
  'x11-forwarding': 'x11Forwarding',
  'user-rc': 'userRc',
};
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
    if (opt.name in FLAGS || opt.name in POSITIVE || opt.name === 'restrict' || opt.name === 'cert-authority') {
      if (opt.value !== undefined) throw new ParseError(`option ${opt.name} takes no value`);
    }
    if (opt.name === 'restrict') {
      o.pty = o.portForwarding = o.agentForwarding = o.x11Forwarding = o.userRc = false;
    } else if (opt.name in FLAGS) {
      (o as any)[FLAGS[opt.name]] = false;
    } else if (opt.name in POSITIVE) {
      (o as any)[POSITIVE[opt.name]] = true;
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

function splitLine(line: string): SplitLine {
  let got = readKeyPrefix(line);
  let optionsField = '';
  if (!got) {
    const field = leadingField(line);
    optionsField = field.text;
    got = readKeyPrefix(line, field.end);
    if (!got) throw new ParseError(field.end >= line.length ? 'no key found' : 'unknown key type or invalid options');
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

/** What the index keeps of a line: bytes and strings, not parsed objects (PERF.md lesson 3). */
interface Stored {
  readonly line: number;
  readonly options: string;
  readonly comment: string;
}

/**
 * An authorized_keys file parsed into an index keyed by the canonical base64 of each key blob. Options
 * are validated when the file is read and interpreted again on lookup, so 100,000 keys cost little
 * memory and a lookup costs the same as with one key.
 */
export class KeyIndex {
  private readonly byBlob = new Map<string, Stored | Stored[]>();
  /** Lines that could not be used, with their numbers. */
  errors: LineError[] = [];
  size = 0;

  /** Adds one line; throws ParseError (with the line number) for a bad one. */
  addLine(line: string, lineNo: number): void {
    const stored = withLine(lineNo, () => {
      const s = splitLine(line);
      if (s.optionsField) interpretOptions(parseOptions(s.optionsField));
      // the id is the decoded blob's canonical text, the form lookup() computes: never the line's own
      // spelling, which b64_pton lets carry whitespace (\v, \f, \r) the canonical text has not
      return { id: s.key.blob.toString('base64'), entry: { line: lineNo, options: s.optionsField, comment: s.key.comment } };
    });
    const list = this.byBlob.get(stored.id);
    if (list === undefined) this.byBlob.set(stored.id, stored.entry);
    else if (Array.isArray(list)) list.push(stored.entry);
    else this.byBlob.set(stored.id, [list, stored.entry]);
    this.size++;
  }

  /** Every line that lists exactly this key blob (several lines may list one key with other options). */
  lookup(blob: Buffer): AuthorizedKey[] {
    const id = blob.toString('base64');
    const found = this.byBlob.get(id);
    if (found === undefined) return [];
    const stored = Buffer.from(id, 'base64'); // the listed bytes, for the caller's constant-time check
    const type = stored.subarray(4, 4 + stored.readUInt32BE(0)).toString('latin1');
    return (Array.isArray(found) ? found : [found]).map((s) => ({
      key: { type, blob: stored, comment: s.comment },
      options: interpretOptions(s.options ? parseOptions(s.options) : []),
      line: s.line,
    }));
  }
}

/** Parses a whole authorized_keys text; bad lines go to `errors` (never the whole file). */
export function parseAuthorizedKeys(text: string): KeyIndex {
  const index = new KeyIndex();
  index.errors = eachLine(text, (line, n) => index.addLine(line, n));
  return index;
}

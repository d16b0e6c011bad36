/**
 * The server's log (SPEC "Logs: one line per connection, auth attempt … and session; `json` format for
 * machines"). Each event is one line on stderr: `text` is `time event key=value …` (values quoted when
 * they hold blanks), `json` one object per line. The `listening` event is also what test helpers and
 * scripts wait for, so its fields (host, port, fingerprints) are stable.
 *
 * Every value may come from the network (user names, client versions, method and algorithm names,
 * commands, certificate key ids), so (issue 9 item 6): text values are escaped as OpenSSH's log escapes
 * them (`\ooo`, core/escape.ts `strvis`), JSON lines also escape U+0085/U+2028/U+2029, and each value is
 * cut at {@link MAX_VALUE} characters. {@link ConnLog} bounds how many lines one unauthenticated
 * connection may write.
 */
import { jsonLine, strvis } from '../core/escape.js';

/** Log lines for people (key=value) or machines (one JSON object a line). */
export type LogFormat = 'text' | 'json';
/** The fields of one log event. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

/** Where lines go (stderr by default; tests may capture). */
export type LogSink = (line: string) => void;

/** Longest value logged, in UTF-16 units (longer ones end in `...`): a 32 KiB user name stays a short line. */
export const MAX_VALUE = 1024;

function cut(v: string): string {
  return v.length > MAX_VALUE ? v.slice(0, MAX_VALUE) + '...' : v;
}

/** Printable ASCII without blank, `"`, `=` or `\`: strvis leaves it as it is and it needs no quotes. */
const PLAIN = /^[!#-<>-[\]-~]+$/;

function quote(v: string): string {
  if (PLAIN.test(v)) return v; // most values (ids, fingerprints, names): ≈ 1 µs each saved (issue 14)
  const e = strvis(v, '"');
  return /^[^\s"=]+$/.test(e) ? e : `"${e}"`;
}

/** Sees every event before it is formatted, suppressed ones included (metrics.ts derives its counters here). */
export type LogTap = (event: string, fields: LogFields) => void;

/** One-line structured logger; `event` names are fixed words (listening, connect, auth, session, …). */
export class Logger {
  private readonly taps: LogTap[] = [];

  constructor(
    readonly format: LogFormat = 'text',
    private readonly sink: LogSink = (line) => process.stderr.write(line + '\n'),
  ) {}

  /** Adds an observer of every event: the log is the one source of truth for metrics (issue 17). */
  tap(fn: LogTap): void {
    this.taps.push(fn);
  }

  /** Tells the taps of an event without writing a line (ConnLog's suppressed lines still count). */
  notify(event: string, fields: LogFields): void {
    for (const fn of this.taps) fn(event, fields);
  }

  /** Formats and writes one event. Undefined fields are left out. */
  event(event: string, fields: LogFields = {}): void {
    this.notify(event, fields);
    const time = new Date().toISOString();
    if (this.format === 'json') {
      const obj: Record<string, unknown> = { time, event };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) obj[k] = typeof v === 'string' ? cut(v) : v;
      this.sink(jsonLine(obj));
      return;
    }
    let line = `${time} ${event}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      line += ` ${k}=${quote(cut(String(v)))}`;
    }
    this.sink(line);
  }
}

/**
 * A connection's view of the log: before authentication at most `budget` lines, then one `log-limit`
 * line and silence (events listed in `always`, e.g. `disconnect`, `cut`, still pass and carry the count
 * of suppressed lines). sshd bounds the same flood by MaxAuthTries; sshkit also answers unlimited
 * key-only queries, so the log needs its own bound.
 */
export class ConnLog extends Logger {
  private used = 0;
  /** Lines left out so far. */
  suppressed = 0;
  private open = false;
  private authFrom = 0;

  constructor(
    private readonly base: Logger,
    private readonly conn: number,
    private readonly budget: number,
    private readonly always: ReadonlySet<string> = new Set(['disconnect', 'cut', 'conn-error']),
  ) {
    super(base.format, () => undefined);
  }

  /** After authentication the budget no longer applies (sessions are logged in full). */
  authenticated(): void {
    this.open = true;
  }

  /** An auth request arrived: the next `auth` line carries `ms`, the time the server took to answer it. */
  authStart(): void {
    this.authFrom = performance.now();
  }

  override event(event: string, fields: LogFields = {}): void {
    if (event === 'auth' && this.authFrom > 0) {
      fields = { ...fields, ms: Math.round((performance.now() - this.authFrom) * 10) / 10 };
      this.authFrom = 0;
    }
    if (this.open || this.always.has(event)) {
      this.base.event(event, this.suppressed && this.always.has(event) ? { ...fields, suppressed: this.suppressed } : fields);
      return;
    }
    if (this.used < this.budget) {
      this.used++;
      this.base.event(event, fields);
      return;
    }
    this.base.notify(event, fields);
    if (this.suppressed++ === 0) this.base.event('log-limit', { conn: this.conn, reason: `more than ${this.budget} lines before authentication; further lines suppressed` });
  }
}

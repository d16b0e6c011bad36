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

/** After authentication a connection may log {@link POST_AUTH_BURST} lines at once, then {@link POST_AUTH_RATE} a second. */
export const POST_AUTH_BURST = 2000;
export const POST_AUTH_RATE = 200;

/**
 * A connection's view of the log. Before authentication at most `budget` lines, then one `log-limit`
 * line and silence: sshd bounds the same flood by MaxAuthTries; sshkit also answers unlimited key-only
 * queries, so the log needs its own bound. After authentication a token bucket ({@link POST_AUTH_BURST}
 * lines, refilled at {@link POST_AUTH_RATE} a second): a session's lines, an SFTP upload's file lines
 * are all there, but an authenticated client looping on refused requests or empty channels cannot fill
 * the disk — past the bucket one `log-limit` line, and the next line that passes carries
 * `suppressed=N`, the count since the last one written. Events listed in `always` (`disconnect`, `cut`,
 * `conn-error`) always pass and carry the total of lines suppressed. Taps see every event.
 */
export class ConnLog extends Logger {
  private used = 0;
  /** Lines left out so far. */
  suppressed = 0;
  private open = false;
  private authFrom = 0;
  private tokens = POST_AUTH_BURST;
  private refilled = 0;
  /** Lines left out since the last line this connection wrote (after authentication). */
  private gap = 0;

  constructor(
    private readonly base: Logger,
    private readonly conn: number,
    private readonly budget: number,
    private readonly always: ReadonlySet<string> = new Set(['disconnect', 'cut', 'conn-error']),
    private readonly now: () => number = () => performance.now(),
  ) {
    super(base.format, () => undefined);
  }

  /** After authentication the pre-auth budget gives way to the token bucket (see the class comment). */
  authenticated(): void {
    this.open = true;
    this.refilled = this.now();
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
    if (this.always.has(event)) {
      this.base.event(event, this.suppressed ? { ...fields, suppressed: this.suppressed } : fields);
      return;
    }
    if (this.open ? this.take() : this.used++ < this.budget) {
      if (this.gap) fields = { ...fields, suppressed: this.gap };
      this.gap = 0;
      this.base.event(event, fields);
      return;
    }
    this.base.notify(event, fields);
    this.suppressed++;
    if (this.gap++ === 0) {
      const reason = this.open
        ? `more than ${POST_AUTH_BURST} lines at once or ${POST_AUTH_RATE} a second after authentication; lines suppressed`
        : `more than ${this.budget} lines before authentication; further lines suppressed`;
      this.base.event('log-limit', { conn: this.conn, reason });
    }
  }

  /** One token of the post-auth bucket, refilled by the time passed. */
  private take(): boolean {
    const t = this.now();
    this.tokens = Math.min(POST_AUTH_BURST, this.tokens + ((t - this.refilled) / 1000) * POST_AUTH_RATE);
    this.refilled = t;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

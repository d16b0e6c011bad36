/**
 * The server's log (SPEC "Logs: one line per connection, auth attempt … and session; `json` format for
 * machines"). Each event is one line on stderr: `text` is `time event key=value …` (values quoted when
 * they hold blanks), `json` one object per line. The `listening` event is also what test helpers and
 * scripts wait for, so its fields (host, port, fingerprints) are stable.
 */

/** Log lines for people (key=value) or machines (one JSON object a line). */
export type LogFormat = 'text' | 'json';
/** The fields of one log event. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

/** Where lines go (stderr by default; tests may capture). */
export type LogSink = (line: string) => void;

function quote(v: string): string {
  return /^[^\s"=]+$/.test(v) && v !== '' ? v : JSON.stringify(v);
}

/** One-line structured logger; `event` names are fixed words (listening, connect, auth, session, …). */
export class Logger {
  constructor(
    readonly format: LogFormat = 'text',
    private readonly sink: LogSink = (line) => process.stderr.write(line + '\n'),
  ) {}

  /** Formats and writes one event. Undefined fields are left out. */
  event(event: string, fields: LogFields = {}): void {
    const time = new Date().toISOString();
    if (this.format === 'json') {
      const obj: Record<string, unknown> = { time, event };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) obj[k] = v;
      this.sink(JSON.stringify(obj));
      return;
    }
    let line = `${time} ${event}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      line += ` ${k}=${quote(String(v))}`;
    }
    this.sink(line);
  }
}

/**
 * The line walk every line-oriented SSH file shares (authorized_keys, known_hosts, revoked keys,
 * password files, ssh-keygen -l input): blank lines and `#` comments are skipped, and a bad line is
 * reported with its number while the rest of the file keeps working (auth2-pubkeyfile.c's rule).
 */
import { ParseError } from './errors.js';

/** A line that could not be used: its 1-based number and why. */
export interface LineError {
  readonly line: number;
  readonly message: string;
}

/**
 * Calls `each` for every line that is neither blank nor a comment, with its 1-based number, and
 * collects the ParseErrors it throws (any other error propagates). A trailing `\r` is removed unless
 * `keepCR` (ssh-keygen -l prints it as part of a comment, so the fingerprint command keeps it).
 */
export function eachLine(text: string, each: (line: string, lineNo: number) => void, keepCR = false): LineError[] {
  const errors: LineError[] = [];
  walkQuietly(text.split('\n'), 0, each, keepCR, errors);
  return errors;
}

/**
 * {@link eachLine} for text that arrives in pieces (a file read in chunks, so memory stays flat in its
 * size): `push` each piece and `end` after the last; lines are numbered across pieces, and the errors of
 * the lines completed so far are returned by each call. The same walk, the same rules.
 */
export class LineStream {
  private rest = '';
  private done = 0;

  constructor(
    private readonly each: (line: string, lineNo: number) => void,
    private readonly keepCR = false,
  ) {}

  /** Characters held for a line not ended yet (a caller may refuse a line that never ends). */
  get pending(): number {
    return this.rest.length;
  }

  push(text: string): LineError[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop()!;
    return this.walk(lines);
  }

  end(): LineError[] {
    const last = [this.rest];
    this.rest = '';
    return this.walk(last);
  }

  private walk(lines: string[]): LineError[] {
    const errors: LineError[] = [];
    walkQuietly(lines, this.done, this.each, this.keepCR, errors);
    this.done += lines.length;
    return errors;
  }
}

function walkQuietly(lines: string[], before: number, each: (line: string, lineNo: number) => void, keepCR: boolean, errors: LineError[]): void {
  // A bad line is expected input, not an accident: its ParseError is kept as {line, message}, so the
  // walk does not pay for a stack trace each (that capture was ~90% of the time on a 1 MB file of junk
  // lines). Lines are walked synchronously, so the limit is restored before anything else runs.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    walk(lines, before, each, keepCR, errors);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function walk(lines: string[], before: number, each: (line: string, lineNo: number) => void, keepCR: boolean, errors: LineError[]): void {
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (!keepCR && line.endsWith('\r')) line = line.slice(0, -1);
    let p = 0;
    while (line[p] === ' ' || line[p] === '\t') p++;
    if (p === line.length || line[p] === '#' || (line[p] === '\r' && p === line.length - 1)) continue;
    try {
      each(line, before + i + 1);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      errors.push({ line: before + i + 1, message: err.message });
    }
  }
}

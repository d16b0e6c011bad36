/**
 * The one place that writes results: human text (chalk colour only on a TTY, never with NO_COLOR or
 * --no-color) or one JSON document with --json. Data goes to stdout, diagnostics to stderr.
 */
import type { ChalkInstance } from 'chalk';

/** Flags every command takes (SPEC "Everywhere"). */
export interface GlobalFlags {
  json?: boolean;
  color?: boolean;
}

/** Exit status the command asks for once it has finished normally (cli.ts applies it). */
let pendingStatus = 0;
/** Asks for a non-zero exit status once the command has finished (the highest request wins). */
export function requestStatus(code: number): void {
  pendingStatus = Math.max(pendingStatus, code);
}
/** The exit status the command asked for (cli.ts applies it). */
export function requestedStatus(): number {
  return pendingStatus;
}

/** Where a command writes: results to stdout (text or JSON), diagnostics to stderr. */
export class Output {
  readonly json: boolean;
  readonly colorOn: boolean;
  private chalk: ChalkInstance | null = null;

  constructor(flags: GlobalFlags, readonly stdout: NodeJS.WriteStream = process.stdout) {
    this.json = !!flags.json;
    this.colorOn =
      !this.json && flags.color !== false && !!stdout.isTTY && !('NO_COLOR' in process.env);
  }

  /** Lazily loads chalk only when colour is actually used. */
  async colors(): Promise<ChalkInstance | null> {
    if (!this.colorOn) return null;
    if (!this.chalk) {
      const { Chalk } = await import('chalk');
      this.chalk = new Chalk({ level: 1 });
    }
    return this.chalk;
  }

  /** A line of human output on stdout. */
  line(text: string): void {
    this.stdout.write(text + '\n');
  }

  /** The JSON document of a --json run. */
  data(value: unknown): void {
    this.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** A diagnostic on stderr, always prefixed `sshkit: ` unless it is a located `FILE:LINE:` report. */
  warn(text: string): void {
    process.stderr.write(text + '\n');
  }
}

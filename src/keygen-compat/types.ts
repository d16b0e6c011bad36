/**
 * Shared shapes of `sshkit-keygen` (issue 12), the ssh-keygen 9.2 command line on sshkit's core: the
 * parsed command line (getopt.ts makes it, as OpenSSH's bundled BSD getopt does) and the process I/O a
 * mode handler gets, so every mode is a function `(args, io) => exit status` testable without a process.
 */
import type { Readable } from 'node:stream';

/** A command line as ssh-keygen's getopt loop sees it. */
export interface KgArgs {
  /** Each flag letter given, with its arguments in order (`''` for a flag that takes none; `-v -v` = two entries). */
  readonly flags: ReadonlyMap<string, readonly string[]>;
  /** What follows the options (ssh-keygen reads argv[optind..] for -Y, -k, -Q, -s). */
  readonly operands: readonly string[];
}

/** The process around a mode: its streams, environment and terminal (a TTY prompts, as ssh-keygen's read_passphrase). */
export interface KgIO {
  readonly stdout: (text: string | Buffer) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  /** True when stdin is a terminal (ssh-keygen prompts only then, e.g. for -f and passphrases). */
  readonly isTTY: boolean;
  /** Reads one line from the terminal without echo (ssh-keygen's RP_ALLOW_STDIN off); rejects when there is none. */
  readonly readSecret: (prompt: string) => Promise<string>;
  /** Reads one echoed line from the terminal (ssh-keygen's "Enter file in which to save the key"). */
  readonly readLine: (prompt: string) => Promise<string>;
}

/** One ssh-keygen mode: returns the exit status ssh-keygen 9.2 would. */
export type ModeHandler = (args: KgArgs, io: KgIO) => Promise<number>;

/** The flag's last argument (ssh-keygen keeps the last of a repeated flag), or undefined. */
export function lastArg(args: KgArgs, flag: string): string | undefined {
  const v = args.flags.get(flag);
  return v && v.length > 0 ? v[v.length - 1] : undefined;
}

/** How many times a flag was given (`-v -v -v`, `-qq`). */
export function flagCount(args: KgArgs, flag: string): number {
  return args.flags.get(flag)?.length ?? 0;
}

/**
 * Typed errors: every failure a user can cause is an SshkitError carrying a stable string code, the exit
 * status it maps to (SPEC "Exit status") and a one-line message `<what>: <why>`. The CLI prints
 * `sshkit: <message>` and exits with `status`.
 */

/** Exit statuses of the command-line contract (../shared/SPEC.md). */
export const Exit = {
  /** success */
  OK: 0,
  /** a negative answer: signature bad, signer not allowed, key not authorized */
  NO: 1,
  /** usage error or bad input */
  BAD: 2,
  /** `exec`'s own failures (connection, host key, auth), as ssh(1) */
  CONN: 255,
} as const;
/** One of the exit statuses above. */
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/**
 * Stable string codes of {@link SshkitError} (issue 15): what a library caller switches on. The exit
 * status stays a separate number (`status`), chosen for the CLI by cli.ts alone.
 */
export type ErrorCode = 'BAD_INPUT' | 'PARSE' | 'PASSPHRASE_MISSING' | 'PASSPHRASE_INCORRECT' | 'REFUSED' | 'CONNECTION' | 'ERROR';

/** The code an error gets from its exit status when it names none (SPEC "Exit status"). */
function codeOfStatus(status: number): ErrorCode {
  return status === Exit.BAD ? 'BAD_INPUT' : status === Exit.NO ? 'REFUSED' : status === Exit.CONN ? 'CONNECTION' : 'ERROR';
}

/** Where bad input was found, as data (the message says it too, as `file:line: why`). */
export interface ErrorLocation {
  readonly code?: ErrorCode;
  readonly file?: string;
  readonly line?: number;
}

/**
 * An error meant for the user: one line, no stack, a stable string `code`, the exit `status` it maps
 * to for the CLI, and where known the `file` and `line` of the bad input.
 */
export class SshkitError extends Error {
  /** Stable machine-readable code (never the message, which may change). */
  readonly code: ErrorCode;
  /** File the bad input came from, when known. */
  readonly file?: string;
  /** 1-based line of the bad input, when known. */
  readonly line?: number;
  constructor(
    /** The exit status of the command-line contract (SPEC "Exit status"). */
    readonly status: number,
    message: string,
    where: ErrorLocation = {},
  ) {
    super(message);
    this.name = 'SshkitError';
    this.code = where.code ?? codeOfStatus(status);
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
  }
}

/**
 * Bad input at a known place: `loc` is `FILE:LINE` or a description of the value. Parsers in core/
 * throw this with the line number they were given; callers that read whole files prefix the file.
 */
export class ParseError extends SshkitError {
  constructor(message: string, line?: number, file?: string) {
    super(Exit.BAD, message, { code: 'PARSE', line, file });
    this.name = 'ParseError';
  }
}

/** Shorthand for a bad-input (exit 2) error. */
export function bad(message: string): SshkitError {
  return new SshkitError(Exit.BAD, message);
}

/** Turn a Node fs error into the one-line `<path>: <why>` form ssh-keygen users know. */
export function fsError(path: string, err: unknown): SshkitError {
  const e = err as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    EEXIST: 'File exists',
  };
  return bad(`${path}: ${(e && e.code && why[e.code]) || (e && e.message) || String(err)}`);
}

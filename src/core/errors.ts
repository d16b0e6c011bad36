/**
 * Typed errors: every failure a user can cause is an SshkitError carrying the exit status it maps to
 * (SPEC "Exit status") and a one-line message `<what>: <why>`. The CLI prints `sshkit: <message>`.
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

/** An error meant for the user: one line, no stack, a known exit status. */
export class SshkitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'SshkitError';
  }
}

/**
 * Bad input at a known place: `loc` is `FILE:LINE` or a description of the value. Parsers in core/
 * throw this with the line number they were given; callers that read whole files prefix the file.
 */
export class ParseError extends SshkitError {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(Exit.BAD, message);
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

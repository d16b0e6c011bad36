/**
 * The `--passwords FILE` source (SPEC: `user:hash` lines, scrypt, constant time; no file, no password
 * auth). Parsed by core passwords.ts, re-read when stat() shows a change (as authorized.ts), bad lines
 * logged with their number. An unreadable file denies every password (never fail open).
 */
import { readFileSync, statSync } from 'node:fs';
import { checkLogin, parsePasswordFile, type PasswordFile } from '../core/passwords.js';
import type { Logger } from './log.js';

/** The --passwords file, re-read when it changes; a missing or unreadable file denies every password. */
export class PasswordSource {
  private stamp = '';
  private file: PasswordFile = { users: new Map(), errors: [] };

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {
    this.refresh();
  }

  /** Re-reads the file if it changed (or always with `force`). */
  refresh(force = false): void {
    let stamp: string;
    try {
      const st = statSync(this.path);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
      if (st.size > 16 << 20) throw Object.assign(new Error('file too large'), { code: 'file too large' });
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch (err) {
      stamp = 'missing';
      if (this.stamp !== stamp) {
        this.log.event('passwords-missing', { file: this.path, reason: (err as NodeJS.ErrnoException).code, effect: 'all passwords denied' });
        this.file = { users: new Map(), errors: [] };
      }
      this.stamp = stamp;
      return;
    }
    if (stamp === this.stamp && !force) return;
    try {
      this.file = parsePasswordFile(readFileSync(this.path, 'utf8'));
    } catch (err) {
      this.file = { users: new Map(), errors: [] };
      this.log.event('passwords-missing', { file: this.path, reason: (err as Error).message, effect: 'all passwords denied' });
    }
    this.stamp = stamp;
    for (const e of this.file.errors) this.log.event('passwords-error', { file: this.path, line: e.line, reason: e.message });
    this.log.event('passwords', { file: this.path, users: this.file.users.size, errors: this.file.errors.length });
  }

  /** Checks one login (scrypt, constant-time compare; unknown users cost the same). */
  async check(user: string, password: string): Promise<boolean> {
    this.refresh();
    return checkLogin(this.file, user, password);
  }
}

/**
 * The `--passwords FILE` source (SPEC: `user:hash` lines, scrypt, constant time; no file, no password
 * auth). Read the one safe way (safe-read.ts: async, O_NONBLOCK|O_NOFOLLOW, fstat on the descriptor:
 * regular, ≤ 16 MiB, and sshd's StrictModes, since whoever can write this file can log in as anyone),
 * re-parsed by core passwords.ts only when (dev, inode, size, mtime, ctime) changed; bad lines are
 * logged with file and line and skipped. A missing, unreadable or refused file denies every password
 * (never fail open).
 */
import { checkLogin, parsePasswordFile, type PasswordFile } from '../core/passwords.js';
import type { Logger } from './log.js';
import { serverOwner, type Owner } from './safe-path.js';
import { logLineErrors, readTrusted } from './safe-read.js';

const NONE: PasswordFile = { users: new Map(), errors: [] };

/** The --passwords file, re-read when it changes; a missing, unreadable or refused file denies every password. */
export class PasswordSource {
  private stamp = '';
  private file: PasswordFile = NONE;
  private running: Promise<void> | null = null;
  /** Resolves once the file was first read (startup logs its bad lines). */
  readonly ready: Promise<void>;

  constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly owner: Owner = serverOwner(),
    /** sshd's StrictModes (default yes, as sshd; off on Windows, whose modes do not mean this). */
    private readonly strictModes = process.platform !== 'win32',
  ) {
    this.ready = this.refresh();
  }

  /** Re-reads the file if it changed (or always with `force`); concurrent callers share one read. Never rejects. */
  refresh(force = false): Promise<void> {
    if (this.running && !force) return this.running;
    const p = this.reread(force)
      .catch((err: Error) => this.unusable('passwords-refused', `cannot parse: ${err.message}`))
      .finally(() => {
        if (this.running === p) this.running = null;
      });
    this.running = p;
    return p;
  }

  private async reread(force: boolean): Promise<void> {
    const r = await readTrusted(this.path, { owner: this.owner, strictModes: this.strictModes, known: force ? undefined : this.stamp }, parsePasswordFile);
    if (r.status === 'missing' || r.status === 'refused') return this.unusable(`passwords-${r.status}`, r.reason);
    if (r.status === 'unchanged') return;
    this.file = r.value;
    this.stamp = r.stamp;
    logLineErrors(this.log, 'passwords-error', this.path, this.file.errors);
    this.log.event('passwords', { file: this.path, users: this.file.users.size, errors: this.file.errors.length });
  }

  private unusable(event: string, reason: string): void {
    const stamp = `${event}:${reason}`;
    if (this.stamp !== stamp) this.log.event(event, { file: this.path, reason, effect: 'all passwords denied' });
    this.stamp = stamp;
    this.file = NONE;
  }

  /** Checks one login (scrypt, constant-time compare; unknown users cost the same). */
  async check(user: string, password: string): Promise<boolean> {
    await this.refresh();
    return checkLogin(this.file, user, password);
  }
}

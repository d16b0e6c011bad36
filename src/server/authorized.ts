/**
 * The authorized_keys source of `sshkit serve --authorized PATH` (SPEC: `%u` per-user files, re-read
 * when the file changes, a bad line logged and skipped). Files are parsed by the core parser into a
 * KeyIndex (a Map by key blob, PERF.md lessons 2 and 3), cached per expanded path and re-parsed only
 * when stat() shows a change (inode, size, mtime, ctime), so 100,000 keys cost one parse, not one per
 * login. A missing or unreadable file yields an empty index: every key is denied (never fail open).
 */
import { statSync, readFileSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { parseAuthorizedKeys, KeyIndex } from '../core/authorized-keys.js';
import type { Logger } from './log.js';

interface Cached {
  stamp: string;
  index: KeyIndex;
}

function stampOf(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** Largest authorized_keys file read (100,000 RSA-4096 lines are about 75 MiB). */
const MAX_AUTHORIZED = 256 << 20;

/** Usernames that can safely be put into a path (no `/`, no `..`, no NUL): sshd refuses such names too. */
export function safeUserForPath(user: string): boolean {
  return user.length > 0 && user.length <= 256 && !/[/\\\0]/.test(user) && user !== '.' && user !== '..';
}

/** Expands `%u` (user), `%h` (server user's home) and `%%` as sshd's AuthorizedKeysFile tokens. */
export function expandPath(pattern: string, user: string): string {
  return pattern.replace(/%([%uh])/g, (_, t: string) => (t === '%' ? '%' : t === 'u' ? user : homedir()));
}

/** Per-path cache of parsed authorized_keys files, refreshed on change. */
export class AuthorizedKeys {
  private readonly cache = new Map<string, Cached>();
  /** Count of (re)loads, for the admin `stats()`. */
  loads = 0;

  constructor(
    readonly pattern: string,
    private readonly log: Logger,
  ) {}

  /** Does the path depend on the user (`%u`)? */
  get perUser(): boolean {
    return /%u/.test(this.pattern.replace(/%%/g, ''));
  }

  /** The index for `user` (re-read if the file changed). Empty when the file is missing or unreadable. */
  forUser(user: string): KeyIndex {
    if (this.perUser && !safeUserForPath(user)) return new KeyIndex();
    return this.load(expandPath(this.pattern, user));
  }

  /** Loads (or reuses) one file. */
  load(path: string, force = false): KeyIndex {
    let st: Stats;
    try {
      st = statSync(path);
    } catch (err) {
      return this.unavailable(path, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    // as sshd: only a regular file (a FIFO or a device would block or never end), and not a huge one
    if (!st.isFile()) return this.unavailable(path, 'not a regular file');
    if (st.size > MAX_AUTHORIZED) return this.unavailable(path, 'file too large');
    const stamp = stampOf(st);
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp && !force) return hit.index;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      return this.unavailable(path, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    const index = parseAuthorizedKeys(text);
    this.loads++;
    for (const e of index.errors) this.log.event('authorized-keys-error', { file: path, line: e.line, reason: e.message });
    this.log.event('authorized-keys', { file: path, keys: index.size, errors: index.errors.length, reload: !!hit });
    // Keep the previous cache entry keyed by stamp: a file rewritten in the same instant is re-read next time.
    this.cache.set(path, { stamp, index });
    if (this.cache.size > 1024) this.cache.delete(this.cache.keys().next().value as string);
    return index;
  }

  private unavailable(path: string, why: string): KeyIndex {
    const hit = this.cache.get(path);
    const stamp = `missing:${why}`;
    if (!hit || hit.stamp !== stamp) {
      this.log.event('authorized-keys-missing', { file: path, reason: why, effect: 'all keys denied' });
      this.cache.set(path, { stamp, index: new KeyIndex() });
    }
    return this.cache.get(path)!.index;
  }

  /** Forgets every cached file (admin `reload`); the next login re-reads them. */
  reload(): number {
    const paths = [...this.cache.keys()];
    this.cache.clear();
    if (!this.perUser) this.load(this.pattern);
    return paths.length;
  }

  /** Number of keys across the loaded files. */
  keyCount(): number {
    let n = 0;
    for (const c of this.cache.values()) n += c.index.size;
    return n;
  }
}

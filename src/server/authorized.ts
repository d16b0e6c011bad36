/**
 * The authorized_keys source of `sshkit serve --authorized PATH` (SPEC: `%u` per-user files, re-read
 * when the file changes, a bad line logged and skipped). Every login opens the file the safe way
 * (safe-read.ts: async, O_NONBLOCK|O_NOFOLLOW, fstat on the descriptor: regular, ≤ 16 MiB, StrictModes)
 * and re-parses it only when (dev, inode, size, mtime, ctime) changed, so 100,000 keys cost one parse,
 * not one per login. Files are indexed by the core KeyIndex (looked up by blob hash: PERF.md lessons 2
 * and 3), in slices that yield to the event loop, so a big file never stalls other logins: a small file
 * (< 64 KiB) with its text plus ≈ 20 bytes a key; a big one (authorized-file.ts, issue 14) without its
 * text, ≈ 26 bytes a key, read in pieces and its descriptor kept open (at most MAX_OPEN_INDEXES files),
 * its candidate lines read back at each lookup and trusted only while they still carry the indexed key
 * (else the index is `stale` and the file is indexed again). The cache is an LRU bounded in files and
 * in the bytes the indexes really hold (text and tables, KeyIndex.bytes), missing files included, so
 * made-up user names cannot grow it. A missing, unreadable or refused file yields an empty index: every
 * key is denied (never fail open), and the reason is logged.
 */
import { lstatSync, realpathSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { KeyIndex } from '../core/authorized-keys.js';
import { DETACH_MIN, indexFile } from './authorized-file.js';
import type { Logger } from './log.js';
import { serverOwner, type Owner } from './safe-path.js';
import { logLineErrors, openTrusted, readCapped, Slots, type TrustedRead } from './safe-read.js';

/** Most files kept parsed (per-user `%u` files, missing ones included); the least recently used goes first. */
export const MAX_CACHED_FILES = 1024;
/** Most bytes held by the cached indexes (KeyIndex.bytes: text and tables; the most recent file is always kept). */
export const MAX_CACHED_BYTES = 64 << 20;
/** Changed files read and parsed at once (the others wait; unchanged files are never held up). */
export const MAX_PARALLEL_PARSES = 2;
/** Text parsed between two yields to the event loop (≈ 700 ed25519 lines, a few ms). */
const SLICE = 64 << 10;
/** Most big files indexed without their text (authorized-file.ts), each holding its descriptor open. */
export const MAX_OPEN_INDEXES = 64;
/** How long a replaced index's descriptor stays open for the logins that fetched it just before. */
const CLOSE_DELAY_MS = 2000;

interface Cached {
  stamp: string;
  index: KeyIndex;
  bytes: number;
  /** metaStamp() seen unchanged across the last full check that passed; undefined: always check in full. */
  meta?: string;
  /** The open file a detached index reads its lines from. */
  fh?: FileHandle;
}

/**
 * The metadata of the file and of every directory up its canonical path (lstat: dev, inode, mode,
 * owner, size, mtime, ctime), taken synchronously: ≈ 10 µs, where readTrusted's full check (open,
 * fstat, realpath, a stat per directory, close: ≈ 9 thread-pool round trips) cost ≈ 0.4–0.8 ms of CPU
 * and more in latency per login (issue 14). Any change that could alter the full check's verdict —
 * content, a chmod, chown, rename or replacement of the file or a directory — changes a ctime or an
 * inode here. Undefined when anything fails (the full check then decides).
 */
function metaStamp(path: string): string | undefined {
  try {
    const parts: string[] = [];
    const add = (p: string) => {
      const st = lstatSync(p, { bigint: true });
      parts.push(`${st.dev}:${st.ino}:${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`);
    };
    add(path);
    let dir = realpathSync.native(path);
    add(dir);
    for (let up = dirname(dir); up !== dir; dir = up, up = dirname(up)) add(up);
    return parts.join('|');
  } catch {
    return undefined;
  }
}

const EMPTY = new KeyIndex().seal();

/** Usernames that can safely be put into a path (no `/`, no `..`, no NUL): sshd refuses such names too. */
export function safeUserForPath(user: string): boolean {
  return user.length > 0 && user.length <= 256 && !/[/\\\0]/.test(user) && user !== '.' && user !== '..';
}

/** Expands `%u` (user), `%h` (server user's home) and `%%` as sshd's AuthorizedKeysFile tokens. */
export function expandPath(pattern: string, user: string): string {
  return pattern.replace(/%([%uh])/g, (_, t: string) => (t === '%' ? '%' : t === 'u' ? user : homedir()));
}

/** Indexes `text` (core KeyIndex), yielding to the event loop between slices of SLICE bytes. */
export async function parseInSlices(text: string): Promise<KeyIndex> {
  const index = new KeyIndex(text);
  let start = 0;
  let base = 0; // lines before this slice
  while (start < text.length) {
    let end = text.length;
    if (text.length - start > SLICE) {
      const nl = text.indexOf('\n', start + SLICE);
      end = nl < 0 ? text.length : nl + 1;
    }
    index.addSlice(start, end, base);
    for (let i = text.indexOf('\n', start); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) base++;
    start = end;
    if (start < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return index.seal();
}

/** Per-path LRU cache of parsed authorized_keys files, refreshed on change. */
export class AuthorizedKeys {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<KeyIndex>>();
  private bytes = 0;
  /** Cached entries holding a descriptor (detached indexes), counted beside `bytes`: a login never scans the cache. */
  private open = 0;
  /** Descriptors of replaced indexes waiting for closeLater's delay (close() does not wait for it). */
  private readonly closing = new Set<FileHandle>();
  private readonly slots = new Slots(MAX_PARALLEL_PARSES);
  /** Count of (re)loads, for the admin `stats()`. */
  loads = 0;

  constructor(
    readonly pattern: string,
    private readonly log: Logger,
    private readonly owner: Owner = serverOwner(),
    /** sshd's StrictModes (default yes, as sshd; off on Windows, whose modes do not mean this). */
    private readonly strictModes = process.platform !== 'win32',
  ) {}

  /** Does the path depend on the user (`%u`)? */
  get perUser(): boolean {
    return /%u/.test(this.pattern.replace(/%%/g, ''));
  }

  /** The index for `user` (re-read if the file changed). Empty when the file is missing, unreadable or refused. */
  forUser(user: string): Promise<KeyIndex> {
    if (this.perUser && !safeUserForPath(user)) return Promise.resolve(EMPTY);
    return this.load(expandPath(this.pattern, user));
  }

  /**
   * The index for `user` to look `keyBlob` up in (KeySource.forKey): forUser's, tried once first, so that
   * a detached index that finds its file changed under it (KeyIndex.stale) is replaced by a fresh one
   * before the checker uses it (refresh() re-reads a stale file; concurrent logins share that one read).
   * The checker's own lookup reads the lines again and still trusts only lines that carry the key.
   */
  async forKey(user: string, keyBlob: Buffer): Promise<KeyIndex> {
    const index = await this.forUser(user);
    index.lookup(keyBlob);
    return index.stale ? this.forUser(user) : index;
  }

  /** Loads (or reuses) one file; concurrent logins for one path share one read. Never rejects. */
  load(path: string, force = false): Promise<KeyIndex> {
    const running = this.inflight.get(path);
    if (running && !force) return running;
    const p = this.refresh(path, force)
      .catch((err: Error) => this.unavailable(path, 'refused', `cannot parse: ${err.message}`))
      .finally(() => this.inflight.get(path) === p && this.inflight.delete(path));
    this.inflight.set(path, p);
    return p;
  }

  private async refresh(path: string, force: boolean): Promise<KeyIndex> {
    const hit = this.cache.get(path);
    if (hit?.index.stale) force = true; // a detached index found a line changed under it: index again
    const before = metaStamp(path);
    // nothing on the path changed since a full check passed with this very metadata: its verdict stands
    if (!force && hit?.meta !== undefined && before === hit.meta) return this.keep(path, hit).index;
    const known = force ? undefined : hit?.stamp;
    const r = await this.read(path, known);
    if (r.status === 'missing' || r.status === 'refused') return this.unavailable(path, r.status, r.reason);
    // the metadata the check saw: the same before and after it (a change during the check: check again next time)
    const meta = before !== undefined && metaStamp(path) === before ? before : undefined;
    if (r.status === 'unchanged') return this.keep(path, { ...hit!, meta }).index;
    const { index, fh } = r.value;
    this.loads++;
    logLineErrors(this.log, 'authorized-keys-error', path, index.errors);
    this.log.event('authorized-keys', { file: path, keys: index.size, errors: index.errors.length, reload: !!hit });
    return this.keep(path, { stamp: r.stamp, index, bytes: index.bytes, meta, fh }).index;
  }

  /**
   * Opens and checks the file (safe-read.ts openTrusted) and, unless unchanged, indexes it inside a slot:
   * a small file read whole, keeping its text; a big one in pieces, keeping its descriptor (authorized-file.ts).
   */
  private async read(path: string, known: string | undefined): Promise<TrustedRead<{ index: KeyIndex; fh?: FileHandle }>> {
    const o = await openTrusted(path, { owner: this.owner, strictModes: this.strictModes, known });
    if (o.status !== 'open') return o;
    const { fh, size, max, stamp } = o;
    let kept = false;
    try {
      return await this.slots.run(async () => {
        if (size < DETACH_MIN) {
          const data = await readCapped(fh, size, max);
          if (data.length > max) return { status: 'refused', reason: `${path} is larger than ${max} bytes` };
          return { status: 'read', stamp, bytes: data.length, value: { index: await parseInSlices(data.toString('utf8')) } };
        }
        const got = await indexFile(fh, size, max, path);
        if ('refused' in got) return { status: 'refused', reason: got.refused };
        kept = true;
        return { status: 'read', stamp, bytes: size, value: { index: got.index, fh } };
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw err; // the parser's own: logged by load() as `cannot parse`
      return { status: 'missing', reason: code };
    } finally {
      if (!kept) await fh.close().catch(() => undefined);
    }
  }

  /** Puts `entry` last (most recent) and evicts the least recently used beyond the caps. */
  private keep(path: string, entry: Cached): Cached {
    const old = this.cache.get(path);
    if (old) {
      this.forget(path, old);
      if (old.fh !== entry.fh) this.closeLater(old.fh);
    }
    this.cache.set(path, entry);
    this.bytes += entry.bytes;
    if (entry.fh) this.open++;
    while (this.cache.size > 1 && (this.cache.size > MAX_CACHED_FILES || this.bytes > MAX_CACHED_BYTES || this.open > MAX_OPEN_INDEXES)) {
      // over the descriptor cap only: the least recently used entry that holds one
      const onlyOpen = this.cache.size <= MAX_CACHED_FILES && this.bytes <= MAX_CACHED_BYTES;
      let oldest: [string, Cached] | undefined;
      for (const pair of this.cache) {
        if (!onlyOpen || pair[1].fh) {
          oldest = pair;
          break;
        }
      }
      const [p, e] = oldest!;
      if (e === entry) break;
      this.forget(p, e);
      this.closeLater(e.fh);
    }
    return entry;
  }

  /** Closes a replaced index's file a little later (a login that fetched the index just before may read it). */
  private closeLater(fh: FileHandle | undefined): void {
    if (!fh) return;
    this.closing.add(fh);
    setTimeout(() => {
      this.closing.delete(fh);
      void fh.close().catch(() => undefined);
    }, CLOSE_DELAY_MS).unref();
  }

  /** Takes `e` out of the cache and its totals (the caller closes its descriptor, if it is done with it). */
  private forget(path: string, e: Cached): void {
    this.cache.delete(path);
    this.bytes -= e.bytes;
    if (e.fh) this.open--;
  }

  /** An empty index for a file that cannot be used; logged once per path and reason. */
  private unavailable(path: string, kind: 'missing' | 'refused', why: string): KeyIndex {
    const stamp = `${kind}:${why}`;
    const hit = this.cache.get(path);
    if (!hit || hit.stamp !== stamp) {
      this.log.event(`authorized-keys-${kind}`, { file: path, reason: why, effect: 'all keys denied' });
    }
    return this.keep(path, { stamp, index: EMPTY, bytes: 0 }).index;
  }

  /** Forgets every cached file (admin `reload`); the next login re-reads them. */
  reload(): number {
    const n = this.cache.size;
    for (const e of this.cache.values()) this.closeLater(e.fh);
    this.cache.clear();
    this.bytes = 0;
    this.open = 0;
    if (!this.perUser) void this.load(this.pattern, true);
    return n;
  }

  /** Closes the files detached indexes read from (the server's stop); later logins read them again. */
  async close(): Promise<void> {
    const open = [...this.cache.values()].flatMap((e) => (e.fh ? [e.fh] : [])).concat([...this.closing]);
    this.closing.clear();
    this.cache.clear();
    this.bytes = 0;
    this.open = 0;
    await Promise.all(open.map((fh) => fh.close().catch(() => undefined)));
  }

  /** Number of keys across the loaded files. */
  keyCount(): number {
    let n = 0;
    for (const c of this.cache.values()) n += c.index.size;
    return n;
  }

  /** Files (missing ones included) and bytes held by the cache, for the admin `stats()` and tests. */
  cacheStats(): { files: number; bytes: number } {
    return { files: this.cache.size, bytes: this.bytes };
  }
}

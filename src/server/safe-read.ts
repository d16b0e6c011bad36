/**
 * The one way `sshkit serve` reads a file an attacker may control (per-user `%u` authorized_keys, the
 * --passwords file): asynchronously (libuv's pool, never a sync read on a login's path), opened with
 * `O_NONBLOCK|O_NOFOLLOW` so a FIFO or device swapped in cannot block the open and a symlink is not
 * followed, then judged on the opened descriptor (fstat), never on an earlier stat of the name:
 * a regular file, at most MAX_TRUSTED_FILE bytes, StrictModes (safe-path.ts). As auth2-pubkeyfile.c's
 * `auth_openfile()`, which opens with O_NONBLOCK and checks S_ISREG and safe_path_fd() on the fd.
 * An unchanged file (same dev, inode, size, mtime, ctime) is not read again.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import type { LineError } from '../core/lines.js';
import type { Logger } from './log.js';
import { unsafePathReason, type Owner } from './safe-path.js';

/**
 * Largest authorized_keys or passwords file read: 16 MiB (≈ 170,000 ed25519 lines, ≈ 22,000 RSA-4096
 * lines). A bigger file is refused unread: sshd has no such cap, but it reads line by line per login
 * where sshkit keeps the parsed file in memory.
 */
export const MAX_TRUSTED_FILE = 16 << 20;

/** Identity of one version of a file: a change to any of these means the file must be read again. */
export function stampOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** What readTrusted found. `missing`: could not be opened (ENOENT, EACCES…); `refused`: opened but not trusted. */
export type TrustedRead<T> =
  | { readonly status: 'read'; readonly stamp: string; readonly value: T; readonly bytes: number }
  | { readonly status: 'unchanged'; readonly stamp: string }
  | { readonly status: 'missing'; readonly reason: string }
  | { readonly status: 'refused'; readonly reason: string };

/** How to read: whose files are trusted, whether StrictModes applies, the stamp already cached. */
export interface ReadOptions {
  readonly owner: Owner;
  readonly strictModes: boolean;
  /** The stamp of the cached copy: when it still matches, the file is not read. */
  readonly known?: string;
  readonly maxBytes?: number;
  /** Shared by the readers of one source: how many changed files are read and parsed at once. */
  readonly slots?: Slots;
  /** How the bytes become the text handed to `parse` (default utf8; latin1 keeps binary files, e.g. a KRL, intact). */
  readonly encoding?: BufferEncoding;
}

/**
 * A counting semaphore. A burst of logins for many changed big files would otherwise hold all their
 * texts (each ≤ 16 MiB, twice over as bytes and string) and parses in memory at once.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(n: number) {
    this.free = n;
  }

  /** Runs `job` once a slot is free. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Reads at most `max + 1` bytes (a file that grew past the cap after fstat is caught too). */
export async function readCapped(fh: FileHandle, size: number, max: number): Promise<Buffer> {
  const cap = max + 1;
  // size + 1: the read that finds EOF fits, so a file of `size` bytes is never copied into a buffer twice its size
  let buf = Buffer.allocUnsafe(Math.min(Math.max(size + 1, 4096), cap));
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (buf.length >= cap) break;
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap));
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const { bytesRead } = await fh.read(buf, len, buf.length - len, len);
    if (bytesRead === 0) break;
    len += bytesRead;
  }
  return buf.subarray(0, len);
}

/** What openTrusted found: an opened, checked file (the caller closes `fh`), or why not (as TrustedRead). */
export type TrustedOpen =
  | { readonly status: 'open'; readonly stamp: string; readonly fh: FileHandle; readonly size: number; readonly max: number }
  | Exclude<TrustedRead<never>, { status: 'read' }>;

/**
 * Opens and checks `path` (O_NONBLOCK|O_NOFOLLOW, then fstat on the descriptor: regular, ≤ max bytes,
 * StrictModes); `unchanged` when its stamp is `opts.known`. Only an `open` result leaves a descriptor
 * open, for the caller to read and close. File errors are results, never exceptions.
 */
export async function openTrusted(path: string, opts: ReadOptions): Promise<TrustedOpen> {
  const max = opts.maxBytes ?? MAX_TRUSTED_FILE;
  let fh: FileHandle;
  try {
    fh = await open(path, FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    if (code === 'ELOOP') return { status: 'refused', reason: `${path} is a symbolic link (not followed)` };
    return { status: 'missing', reason: code };
  }
  let keep = false;
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) return { status: 'refused', reason: `${path} is not a regular file` };
    if (st.size > BigInt(max)) return { status: 'refused', reason: `${path} is larger than ${max} bytes` };
    if (opts.strictModes) {
      const why = await unsafePathReason(path, st, opts.owner);
      if (why !== null) return { status: 'refused', reason: why };
    }
    const stamp = stampOf(st);
    if (opts.known === stamp) return { status: 'unchanged', stamp };
    keep = true;
    return { status: 'open', stamp, fh, size: Number(st.size), max };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err; // not a file error: a bug, for the caller
    return { status: 'missing', reason: code };
  } finally {
    if (!keep) await fh.close().catch(() => undefined);
  }
}

/**
 * Opens and checks `path` (openTrusted); unless unchanged, reads it and hands the text to `parse` (inside
 * a slot). Never blocks on a FIFO; file errors are results, not exceptions (an exception of `parse` propagates).
 */
export async function readTrusted<T>(path: string, opts: ReadOptions, parse: (text: string) => T | Promise<T>): Promise<TrustedRead<T>> {
  const o = await openTrusted(path, opts);
  if (o.status !== 'open') return o;
  const { fh, stamp, size, max } = o;
  try {
    const job = async (): Promise<TrustedRead<T>> => {
      let data: Buffer;
      try {
        data = await readCapped(fh, size, max);
      } catch (err) {
        return { status: 'missing', reason: (err as NodeJS.ErrnoException).code ?? String(err) };
      }
      if (data.length > max) return { status: 'refused', reason: `${path} is larger than ${max} bytes` };
      const bytes = data.length;
      return { status: 'read', stamp, value: await parse(data.toString(opts.encoding ?? 'utf8')), bytes };
    };
    return await (opts.slots ? opts.slots.run(job) : job());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err; // not a file error: parse's own, for the caller
    return { status: 'missing', reason: code };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Bad lines logged per file read; the rest are counted in one line (a file of junk must not flood the log). */
export const MAX_LOGGED_LINE_ERRORS = 20;

/** Logs the first MAX_LOGGED_LINE_ERRORS bad lines as `file:line` events, then how many more there were. */
export function logLineErrors(log: Logger, event: string, file: string, errors: readonly LineError[]): void {
  for (const e of errors.slice(0, MAX_LOGGED_LINE_ERRORS)) log.event(event, { file, line: e.line, reason: e.message });
  if (errors.length > MAX_LOGGED_LINE_ERRORS) log.event(event, { file, more: errors.length - MAX_LOGGED_LINE_ERRORS, reason: 'further bad lines not logged' });
}

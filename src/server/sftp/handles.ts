/**
 * The session's open handles (draft-02 §6.2: opaque strings, at most 256 bytes): files and folders,
 * at most `max` at once (OpenSSH sftp-server refuses beyond its `NUM_HANDLES` too; we answer
 * SSH_FX_FAILURE "too many open handles"). Handles are 4-byte counters never reused within a session,
 * so a stale handle can never name a newer file. A Map keyed by the handle's hex, never an object.
 */
import { closeSync, type Dir } from 'node:fs';

/** An open file: its fd (opened for I/O), where it is, and what went through it (for the close log). */
export interface FileHandle {
  readonly kind: 'file';
  readonly fd: number;
  readonly path: string;
  readonly writable: boolean;
  bytesRead: number;
  bytesWritten: number;
}

/** An open folder: its O_PATH fd (for lstat of the entries), its listing stream, and the path. */
export interface DirHandle {
  readonly kind: 'dir';
  readonly fd: number;
  readonly dir: Dir;
  readonly path: string;
  done: boolean;
}

/** Either kind of open handle (draft-02 §6.2: one handle namespace for files and folders). */
export type Handle = FileHandle | DirHandle;

/** Handles of one session, bounded. */
export class HandleTable {
  private readonly open = new Map<string, Handle>();
  private next = 1;

  constructor(readonly max: number) {}

  get size(): number {
    return this.open.size;
  }

  /** Is there room for one more? (checked before opening, so nothing is opened that cannot be held) */
  full(): boolean {
    return this.open.size >= this.max;
  }

  /** Registers `h`; returns its wire handle. */
  add(h: Handle): Buffer {
    const id = Buffer.allocUnsafe(4);
    id.writeUInt32BE(this.next++ >>> 0, 0);
    this.open.set(id.toString('hex'), h);
    return id;
  }

  get(id: Buffer): Handle | undefined {
    return this.open.get(id.toString('hex'));
  }

  file(id: Buffer): FileHandle | undefined {
    const h = this.get(id);
    return h?.kind === 'file' ? h : undefined;
  }

  dir(id: Buffer): DirHandle | undefined {
    const h = this.get(id);
    return h?.kind === 'dir' ? h : undefined;
  }

  /** Forgets `id` and returns what it held (the caller closes it, to log the result). */
  take(id: Buffer): Handle | undefined {
    const key = id.toString('hex');
    const h = this.open.get(key);
    this.open.delete(key);
    return h;
  }

  /** Closes everything (the stream ended). */
  closeAll(): Handle[] {
    const all = [...this.open.values()];
    this.open.clear();
    for (const h of all) closeHandle(h);
    return all;
  }
}

/** Releases a handle's descriptors; errors are swallowed only here, at teardown. */
export function closeHandle(h: Handle): void {
  try {
    if (h.kind === 'dir') {
      h.dir.closeSync();
      closeSync(h.fd);
    } else closeSync(h.fd);
  } catch {
    /* already gone */
  }
}

/**
 * Which files `sshkit audit PATH...` looks at (issue 16): a named file always; in folders (walked
 * recursively, symlinked folders not followed, `.git` and `node_modules` skipped) `authorized_keys*`,
 * `known_hosts*` (also `ssh_known_hosts`), `allowed_signers*`, `*.pub` (and so `*-cert.pub`), and any other
 * file that is a private key by content — the way ssh-keygen recognises one, by its `-----BEGIN … PRIVATE
 * KEY-----` armor (private-key.ts), read from the file's first bytes only, so big unrelated files cost
 * one small read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import { basename, join } from 'node:path';
import { bad, fsError } from './errors.js';
import { isPrivateKeyText } from './private-key.js';
import type { FileKind } from './audit-files.js';

/** A file to audit: its path as shown, and its kind when the name tells it (null: judge by content). */
export interface Target {
  readonly path: string;
  readonly kind: FileKind | null;
}

const SKIP_DIRS = new Set(['.git', 'node_modules']);
/** Bytes read to recognise a private key by content: the armor line and what may precede it. */
const HEAD = 512;

/** The kind a file name implies, or null. */
export function kindByName(path: string): FileKind | null {
  const name = basename(path);
  if (name.startsWith('authorized_keys')) return 'authorized';
  if (name.startsWith('known_hosts') || name.startsWith('ssh_known_hosts')) return 'known-hosts';
  if (name.startsWith('allowed_signers')) return 'allowed-signers';
  if (name.endsWith('.pub')) return 'public';
  return null;
}

/**
 * Reads at most `limit` bytes of a regular file, opened without blocking (O_NONBLOCK: a FIFO swapped in
 * after the walk looked must not hang the audit) and judged by fstat of what was opened. Throws the fs
 * error, or ENOTREG for anything but a regular file, or EFBIG when it is larger than `limit`
 * (when `whole`). Returns the bytes and the stats of the opened file.
 */
export function readRegular(path: string, limit: number, whole = true): { data: Buffer; st: BigIntStats } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    if (whole && st.size > BigInt(limit)) throw Object.assign(new Error(`file larger than ${limit >> 20} MiB`), { code: 'EFBIG' });
    const size = Math.min(Number(st.size), limit);
    const data = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, data, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { data: data.subarray(0, got), st };
  } finally {
    closeSync(fd);
  }
}

/** Does the file start like a private key (its first HEAD bytes)? False for anything unreadable. */
export function looksPrivate(path: string): boolean {
  try {
    const head = readRegular(path, HEAD, false).data.toString('latin1');
    return isPrivateKeyText(head) && /^[ \t\r\n]*-----BEGIN /.test(head);
  } catch {
    return false;
  }
}

function walk(dir: string, out: Target[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    out.push({ path: dir, kind: null }); // reported as unreadable by the audit
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(path, out);
      continue;
    }
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        isFile = statSync(path).isFile(); // a link to a file is audited; a link to a folder is not walked
      } catch {
        isFile = false;
      }
    }
    if (!isFile) continue;
    const kind = kindByName(path);
    if (kind) out.push({ path, kind });
    else if (looksPrivate(path)) out.push({ path, kind: 'private' });
  }
}

/**
 * The files to audit under PATHs, in a stable order (folders sorted by name). A PATH that does not exist
 * is bad input (exit 2, one line). A named file whose name tells nothing is a private key if its
 * content says so, else read as lines of public keys.
 */
export function collectTargets(paths: readonly string[]): Target[] {
  if (paths.length === 0) throw bad('audit: no PATH given');
  const out: Target[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      throw fsError(p, err);
    }
    if (st.isDirectory()) walk(p, out);
    // only a regular file is opened to look inside: opening a FIFO would block (the audit reports it)
    else out.push({ path: p, kind: kindByName(p) ?? (st.isFile() && looksPrivate(p) ? 'private' : 'public') });
  }
  return out;
}

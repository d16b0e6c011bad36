/**
 * Which files `sshkit audit PATH...` looks at (issue 16): a named file always; in folders (walked
 * recursively, symlinked folders not followed, `.git` and `node_modules` skipped) `authorized_keys*`,
 * `known_hosts*` (also `ssh_known_hosts`), `allowed_signers*`, `*.pub` (and so `*-cert.pub`), and any other
 * file that is a private key by content — the way ssh-keygen recognises one, by its `-----BEGIN … PRIVATE
 * KEY-----` armor (private-key.ts), read from the file's first bytes only, so big unrelated files cost
 * one small read.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
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

/** Does the file start like a private key (its first HEAD bytes)? False for anything unreadable. */
export function looksPrivate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(HEAD);
    const n = readSync(fd, buf, 0, HEAD, 0);
    const head = buf.subarray(0, n).toString('latin1');
    return isPrivateKeyText(head) && /^[ \t\r\n]*-----BEGIN /.test(head);
  } catch {
    return false;
  } finally {
    closeSync(fd);
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
    else out.push({ path: p, kind: kindByName(p) ?? (looksPrivate(p) ? 'private' : 'public') });
  }
  return out;
}

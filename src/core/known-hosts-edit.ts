/**
 * `ssh-keygen -F/-R/-H` on a known_hosts file (ssh-keygen.c do_known_hosts, known_hosts_find_delete,
 * known_hosts_hash, OpenSSH 9.2). Each line is read with the one known_hosts parser and matched with
 * its one matcher (known-hosts.ts parseKnownHostsLine/hostMatches); lines are kept as written, so what
 * is not removed or hashed comes out byte for byte. Comments and blank lines are kept; an unreadable
 * line makes -R/-H refuse to write anything ("not a valid known_hosts file"), while -F skips it.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, unlinkSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';
import { bad, fsError, ParseError } from './errors.js';
import { hashHostName, hostMatches, parseKnownHostsLine, type KnownHost } from './known-hosts.js';

/** One line of the file as hostkeys_foreach sees it: a comment/blank, a bad line or an entry. */
interface Line {
  readonly no: number;
  readonly text: string;
  readonly entry: KnownHost | null;
  readonly invalid: string | null;
}

function linesOf(text: string): Line[] {
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((t, i) => {
    const lead = t.replace(/^[ \t]+/, '');
    if (lead === '' || lead.startsWith('#')) return { no: i + 1, text: t, entry: null, invalid: null };
    try {
      return { no: i + 1, text: t, entry: parseKnownHostsLine(t, i + 1), invalid: null };
    } catch (err) {
      if (err instanceof ParseError) return { no: i + 1, text: t, entry: null, invalid: err.message };
      throw err;
    }
  });
}

function refuseInvalid(file: string, lines: Line[]): void {
  const bad1 = lines.find((l) => l.invalid !== null);
  if (bad1) throw bad(`${file}:${bad1.no}: invalid line (${bad1.invalid}); not a valid known_hosts file, left unchanged`);
}

/** A matching entry, as `ssh-keygen -F` reports it. */
export interface FoundHost {
  readonly line: number;
  readonly marker: 'CA' | 'REVOKED' | '';
  readonly text: string;
}

/** `ssh-keygen -F HOST`: the entries for HOST, in file order (bad lines are skipped, as there). */
export function findHost(text: string, host: string): FoundHost[] {
  const found: FoundHost[] = [];
  for (const l of linesOf(text)) {
    if (!l.entry || !hostMatches(l.entry, host)) continue;
    const marker = l.entry.marker === 'cert-authority' ? 'CA' : l.entry.marker === 'revoked' ? 'REVOKED' : '';
    found.push({ line: l.no, marker, text: l.text });
  }
  return found;
}

/** ssh-keygen -F's output for the entries found: `# Host H found: line N MARKER` then the line. */
export function formatFound(host: string, found: readonly FoundHost[]): string {
  return found.map((f) => `# Host ${host} found: line ${f.line} ${f.marker}\n${f.text}\n`).join('');
}

/**
 * `ssh-keygen -R HOST`: the file without HOST's plain entries (@cert-authority and @revoked lines stay,
 * as known_hosts_find_delete keeps them), and the numbers of the lines removed.
 */
export function removeHost(file: string, text: string, host: string): { text: string; removed: number[] } {
  const lines = linesOf(text);
  refuseInvalid(file, lines);
  const removed: number[] = [];
  let out = '';
  for (const l of lines) {
    if (l.entry && l.entry.marker === null && hostMatches(l.entry, host)) removed.push(l.no);
    else out += l.text + '\n';
  }
  return { text: out, removed };
}

/** The rest of an entry line after its host field and blanks (hostkeys_foreach's `l->rip`). */
function afterHosts(line: string): string {
  return line.replace(/^[ \t]*[^ \t]+[ \t]*/, '');
}

/**
 * `ssh-keygen -H`: every plain entry's names (split at `,` up to the first empty one, ASCII-lowercased)
 * each hashed with a fresh 20-byte salt onto its own line; hashed lines, marker lines and lines with a
 * wildcard (`*?!`) are kept as they are, the last reported in `wildcards` as ssh-keygen logs them.
 */
export function hashHosts(file: string, text: string): { text: string; hashed: number; wildcards: number[] } {
  const lines = linesOf(text);
  refuseInvalid(file, lines);
  let out = '';
  let hashed = 0;
  const wildcards: number[] = [];
  for (const l of lines) {
    const e = l.entry;
    const wild = !!e && /[*?!]/.test(e.hosts);
    if (!e || e.hosts.startsWith('|') || wild || e.marker !== null) {
      if (wild && e) wildcards.push(l.no);
      out += l.text + '\n';
      continue;
    }
    const rip = afterHosts(l.text);
    for (const name of e.hosts.split(',')) {
      if (name === '') break; // strsep loop stops at the first empty name
      out += `${hashHostName(name.replace(/[A-Z]+/g, (c) => c.toLowerCase()), randomBytes(20))} ${rip}\n`;
    }
    hashed++;
  }
  return { text: out, hashed, wildcards };
}

/**
 * Replaces FILE with `text`, keeping the previous contents as FILE.old (a hard link to the old file, as
 * ssh-keygen: unlink FILE.old, link FILE to FILE.old, rename the new file in). The new file gets the
 * old one's mode & 0644. If the replacement fails, FILE is unchanged and FILE.old removed again.
 */
export function replaceKeepingOld(file: string, text: string): string {
  const old = `${file}.old`;
  let mode: number;
  try {
    mode = lstatSync(file).mode & 0o644;
  } catch (err) {
    throw fsError(file, err);
  }
  try {
    unlinkSync(old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(old, err);
  }
  try {
    linkSync(file, old);
  } catch (err) {
    throw fsError(old, err);
  }
  try {
    writeFileAtomic(file, Buffer.from(text, 'latin1'), mode, true); // text is latin1: every byte as read
  } catch (err) {
    try {
      unlinkSync(old);
    } catch {
      /* nothing to undo */
    }
    throw err;
  }
  return old;
}

/**
 * `sshkit audit` (issue 16): every file of the inventory audited by audit-files.ts, plus what needs the
 * file system or the whole inventory — file modes (sshd's StrictModes for authorized_keys through an
 * injected check, so core stays free of server code; ssh's sshkey_perm_ok for private keys), FILE.pub
 * against FILE, and keys listed in several places. The result is data; reports are audit-report.ts.
 */
import type { BigIntStats } from 'node:fs';
import { bad } from './errors.js';
import { parsePublicKeyText } from './key.js';
import { isRevoked, parseRevokedKeys } from './revocation.js';
import { finding, SEVERITY_RANK, type Finding, type Severity } from './audit-rules.js';
import { auditFile, type FileKind, type Listing } from './audit-files.js';
import { collectTargets, readRegular } from './audit-walk.js';
import type { AuditContext } from './audit-keys.js';

/** Files larger than this are not read (no key file is); reported as unparsable. */
export const MAX_AUDIT_FILE = 64 << 20;

/** sshd's StrictModes judgement of an authorized file (server/safe-path.ts): a reason, or null when safe. */
export type PathCheck = (path: string, st: BigIntStats) => Promise<string | null>;

/** Options of one audit run. */
export interface AuditOptions extends AuditContext {
  /** StrictModes check for authorized_keys files; without it that rule is not applied. */
  readonly pathCheck?: PathCheck;
}

/** Counts of an audit run. */
export interface AuditSummary {
  files: number;
  keys: number;
  error: number;
  warning: number;
  note: number;
}

/** The outcome: findings grouped by file (in walk order, lines ascending) and the counts. */
export interface AuditResult {
  readonly findings: Finding[];
  readonly summary: AuditSummary;
}

/**
 * The `--revoked FILE` list as a predicate, through revocation.ts (plain keys, certificates by key or CA).
 * KRL hook: binary KRLs are refused by parseRevokedKeys today (exit 2, never fail open); when the KRL
 * reader lands, a file starting with `SSHKRL\n\0` goes to it here, in this one call.
 */
export function revocationCheck(data: Buffer, name: string): (blob: Buffer) => boolean {
  let list;
  try {
    list = parseRevokedKeys(data);
  } catch (err) {
    throw bad(`${name}: ${(err as Error).message}`);
  }
  if (list.errors.length) throw bad(`${name}:${list.errors[0].line}: ${list.errors[0].message}`);
  return (blob) => isRevoked(list, blob);
}

/** FILE.pub beside the private key FILE holding another key (ssh offers FILE.pub's key first). */
function pubMismatch(path: string, key: string | undefined, out: Finding[]): void {
  if (key === undefined) return;
  let text: string;
  try {
    text = readRegular(path + '.pub', MAX_AUDIT_FILE).data.toString('latin1');
  } catch {
    return;
  }
  try {
    if (parsePublicKeyText(text).blob.toString('base64') === key) return;
  } catch {
    return; // an unparsable FILE.pub is reported when FILE.pub itself is audited
  }
  out.push(finding('pub-mismatch', path + '.pub', 1, `holds another key than its private key ${path}`));
}

/** Keys listed in several places: each place is a finding naming the others. */
function duplicates(listings: readonly Listing[], out: Finding[]): void {
  const byKey = new Map<string, Listing[]>();
  for (const l of listings) {
    const k = `${l.group}:${l.id}`;
    const list = byKey.get(k);
    if (list) list.push(l);
    else byKey.set(k, [l]);
  }
  for (const list of byKey.values()) {
    if (list.length < 2) continue;
    for (const l of list) {
      const others = list.filter((o) => o !== l).map((o) => `${o.file}:${o.line}`);
      const named = others.length > 3 ? `${others.slice(0, 3).join(', ')} and ${others.length - 3} more` : others.join(', ');
      out.push(finding(l.group === 'host' ? 'shared-host-key' : 'duplicate-key', l.file, l.line, `same key also at ${named}`));
    }
  }
}

const TRUST_FILES: ReadonlySet<FileKind> = new Set(['known-hosts', 'allowed-signers']);

/** Audits the files under `paths`; a missing PATH is bad input (SshkitError, exit 2). */
export async function runAudit(paths: readonly string[], opts: AuditOptions): Promise<AuditResult> {
  const targets = collectTargets(paths);
  const perFile = new Map<string, Finding[]>();
  const listings: Listing[] = [];
  const checks: Promise<void>[] = [];
  const summary: AuditSummary = { files: 0, keys: 0, error: 0, warning: 0, note: 0 };
  const add = (f: Finding) => {
    const list = perFile.get(f.file);
    if (list) list.push(f);
    else perFile.set(f.file, [f]);
  };
  for (const t of targets) perFile.set(t.path, []);
  for (const t of targets) {
    let st: BigIntStats;
    let text: string;
    try {
      const got = readRegular(t.path, MAX_AUDIT_FILE);
      st = got.st;
      text = got.data.toString('latin1');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EFBIG') add(finding('unparsable', t.path, null, e.message));
      else add(finding('unreadable-file', t.path, null, `cannot read: ${e.code === 'EACCES' ? 'Permission denied' : e.code === 'ENOTREG' ? e.message : (e.code ?? e.message)}`));
      continue;
    }
    summary.files++;
    const kind = t.kind ?? 'public';
    const mode = Number(st.mode);
    const a = auditFile({ name: t.path, kind, text, mode }, opts);
    summary.keys += a.keys;
    a.findings.forEach(add);
    listings.push(...a.listings);
    if (kind === 'private') {
      const extra: Finding[] = [];
      pubMismatch(t.path, a.listings[0]?.id, extra);
      extra.forEach(add);
    }
    if (kind === 'authorized' && opts.pathCheck) {
      // started now, awaited after the walk: the stat(2)s of the folder walk overlap the parsing
      const file = t.path;
      checks.push(
        opts.pathCheck(file, st).then((why) => {
          if (why) add(finding('unsafe-authorized-file', file, null, `sshd (StrictModes) would refuse it: ${why}`));
        }),
      );
    }
    if (TRUST_FILES.has(kind) && (mode & 0o022) !== 0) {
      add(finding('writable-trust-file', t.path, null, `mode ${(mode & 0o777).toString(8).padStart(4, '0')}: writable by ${mode & 0o002 ? 'everyone' : 'its group'}`));
    }
  }
  await Promise.all(checks);
  const dup: Finding[] = [];
  duplicates(listings, dup);
  dup.forEach(add);
  const findings: Finding[] = [];
  for (const list of perFile.values()) {
    list.sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
    findings.push(...list);
  }
  for (const f of findings) summary[f.severity]++;
  return { findings, summary };
}

/** Is any finding at or above `failOn` (`never`: none counts)? Decides exit 1 (issue 16). */
export function failsAt(findings: readonly Finding[], failOn: Severity | 'never'): boolean {
  if (failOn === 'never') return false;
  const min = SEVERITY_RANK.get(failOn)!;
  return findings.some((f) => SEVERITY_RANK.get(f.severity)! >= min);
}

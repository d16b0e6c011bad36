/**
 * `sshkit audit` (issue 16): every file of the inventory audited by audit-files.ts, plus what needs the
 * file system or the whole inventory — file modes (sshd's StrictModes for authorized_keys through an
 * injected check, so core stays free of server code; ssh's sshkey_perm_ok for private keys), FILE.pub
 * against FILE, and keys listed in several places. The result is data; reports are audit-report.ts.
 */
import type { BigIntStats } from 'node:fs';
import { statSync } from 'node:fs';
import { finding, SEVERITY_RANK, type Finding, type Severity } from './audit-rules.js';
import type { Listings } from './audit-files.js';
import { collectTargets } from './audit-walk.js';
import { auditTarget, type TargetResult } from './audit-target.js';
import { revocationCheck } from './audit-keys.js';

export { revocationCheck };

/** sshd's StrictModes judgement of an authorized file (server/safe-path.ts): a reason, or null when safe. */
export type PathCheck = (path: string, st: BigIntStats) => Promise<string | null>;

/** Options of one audit run. */
export interface AuditOptions {
  /** The audit's time, seconds since the epoch. */
  readonly now: number;
  /** `--expiring-within` in seconds; 0 turns the `expiring` rule off. */
  readonly expiringWithin: number;
  /** The `--revoked` list's bytes and name, already checked by {@link revocationCheck}. */
  readonly revoked?: { data: Buffer; name: string };
  /** StrictModes check for authorized_keys files; without it that rule is not applied. */
  readonly pathCheck?: PathCheck;
  /** Worker threads for large inventories (1: none). */
  readonly jobs?: number;
  /** Fewest files for which workers are worth their start-up (default 64). */
  readonly parallelFrom?: number;
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

/** Keys listed in several places: each place is a finding naming (at most three of) the others. */
function duplicates(files: readonly string[], listings: readonly (Listings | null)[], out: Finding[]): void {
  // a place is packed in one number, file index × 2^32 + line: no object per listed key
  const SHIFT = 2 ** 32;
  const byGroup = new Map<Listings['group'], Map<string, number | number[]>>();
  listings.forEach((l, fi) => {
    if (!l) return;
    let byKey = byGroup.get(l.group);
    if (!byKey) byGroup.set(l.group, (byKey = new Map()));
    for (let i = 0; i < l.ids.length; i++) {
      const place = fi * SHIFT + l.lines[i];
      const seen = byKey.get(l.ids[i]);
      if (seen === undefined) byKey.set(l.ids[i], place);
      else if (typeof seen === 'number') byKey.set(l.ids[i], [seen, place]);
      else seen.push(place);
    }
  });
  const where = (place: number) => ({ file: files[Math.floor(place / SHIFT)], line: place % SHIFT });
  for (const [group, byKey] of byGroup) {
    const rule = group === 'host' ? 'shared-host-key' : 'duplicate-key';
    for (const places of byKey.values()) {
      if (typeof places === 'number') continue;
      for (const p of places) {
        // at most three others are named: a key listed n times costs O(n), not O(n²)
        const others: string[] = [];
        for (let i = 0; i < places.length && others.length < 3; i++) {
          if (places[i] !== p) others.push(`${where(places[i]).file}:${where(places[i]).line}`);
        }
        const more = places.length - 1 - others.length;
        const at = where(p);
        out.push(finding(rule, at.file, at.line, `same key also at ${others.join(', ')}${more > 0 ? ` and ${more} more` : ''}`));
      }
    }
  }
}

async function authorizedCheck(path: string, check: PathCheck): Promise<Finding | null> {
  let st: BigIntStats;
  try {
    st = statSync(path, { bigint: true });
  } catch {
    return null; // unreadable: reported by the file's own audit
  }
  if (!st.isFile()) return null;
  const why = await check(path, st);
  return why ? finding('unsafe-authorized-file', path, null, `sshd (StrictModes) would refuse it: ${why}`) : null;
}

/** Audits the files under `paths`; a missing PATH is bad input (SshkitError, exit 2). */
export async function runAudit(paths: readonly string[], opts: AuditOptions): Promise<AuditResult> {
  const targets = collectTargets(paths);
  // StrictModes walks (stat(2)s on libuv's pool) start first and overlap the parsing
  const checks = opts.pathCheck ? targets.filter((t) => t.kind === 'authorized').map((t) => authorizedCheck(t.path, opts.pathCheck!)) : [];
  const jobs = Math.max(1, Math.floor(opts.jobs ?? 1));
  let results: TargetResult[];
  if (jobs > 1 && targets.length >= (opts.parallelFrom ?? 64)) {
    const { auditInWorkers } = await import('./audit-pool.js');
    results = await auditInWorkers(targets, { now: opts.now, expiringWithin: opts.expiringWithin, revoked: opts.revoked }, Math.min(jobs, targets.length));
  } else {
    const isRevoked = opts.revoked ? revocationCheck(opts.revoked.data, opts.revoked.name) : undefined;
    const ctx = { now: opts.now, expiringWithin: opts.expiringWithin, isRevoked };
    results = targets.map((t) => auditTarget(t, ctx));
  }
  const perFile = new Map<string, Finding[]>(targets.map((t) => [t.path, []]));
  const add = (f: Finding) => {
    const list = perFile.get(f.file);
    if (list) list.push(f);
    else perFile.set(f.file, [f]);
  };
  const summary: AuditSummary = { files: 0, keys: 0, error: 0, warning: 0, note: 0 };
  results.forEach((r) => {
    if (r.read) summary.files++;
    summary.keys += r.keys;
    r.findings.forEach(add);
  });
  for (const f of await Promise.all(checks)) if (f) add(f);
  const dup: Finding[] = [];
  duplicates(
    targets.map((t) => t.path),
    results.map((r) => r.listings),
    dup,
  );
  dup.forEach(add);
  const findings: Finding[] = [];
  for (const list of perFile.values()) {
    list.sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
    for (const f of list) findings.push(f);
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

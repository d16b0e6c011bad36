/**
 * Parallel `sshkit audit` for large inventories (issue 16's 100,000 keys in 1,000 files): the files are
 * dealt round-robin to worker threads, each running {@link auditTarget} on its share, and the results
 * come back in the files' order, so the report is the same as a single-threaded run's (tested). The
 * revocation list travels as the validated bytes and is rebuilt in each worker (a predicate cannot be
 * sent). This module is also the workers' entry point (when started with `workerData.sshkitAudit`).
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { auditTarget, type TargetResult } from './audit-target.js';
import type { Target } from './audit-walk.js';
import type { AuditContext } from './audit-keys.js';

/** What a worker needs: its targets, the audit time and window, the raw --revoked list. */
interface Job {
  readonly sshkitAudit: true;
  readonly targets: Target[];
  readonly now: number;
  readonly expiringWithin: number;
  readonly revoked?: { data: Uint8Array; name: string };
}

/** The plain-data part of an audit context, and the --revoked bytes (rebuilt per thread). */
export interface PoolContext {
  readonly now: number;
  readonly expiringWithin: number;
  readonly revoked?: { data: Uint8Array; name: string };
}

async function contextOf(p: PoolContext): Promise<AuditContext> {
  if (!p.revoked) return { now: p.now, expiringWithin: p.expiringWithin };
  const { revocationCheck } = await import('./audit-keys.js');
  return { now: p.now, expiringWithin: p.expiringWithin, isRevoked: revocationCheck(Buffer.from(p.revoked.data), p.revoked.name) };
}

function runJob(targets: Target[], ctx: PoolContext, jobs: number, index: number): Promise<TargetResult[]> {
  const mine = targets.filter((_t, i) => i % jobs === index);
  const job: Job = { sshkitAudit: true, targets: mine, ...ctx };
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', (r: TargetResult[]) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`audit worker exited ${code}`));
    });
  });
}

/** Audits `targets` on `jobs` worker threads; results in the targets' order. */
export async function auditInWorkers(targets: Target[], ctx: PoolContext, jobs: number): Promise<TargetResult[]> {
  const parts = await Promise.all(Array.from({ length: jobs }, (_x, j) => runJob(targets, ctx, jobs, j)));
  return targets.map((_t, i) => parts[i % jobs][Math.floor(i / jobs)]);
}

// (no top-level await: the CLI's startup snapshot bundles this module as CommonJS, issue 14; a rejection
// here is still the worker's uncaught error, as before)
if (!isMainThread && parentPort && (workerData as Job | undefined)?.sshkitAudit) {
  const job = workerData as Job;
  const port = parentPort;
  void contextOf(job).then((ctx) => port.postMessage(job.targets.map((t) => auditTarget(t, ctx))));
}

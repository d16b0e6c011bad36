/**
 * Helpers of the one-shot command benchmarks (startup, fingerprint, sshsig; issue 14): commands timed in
 * interleaved rounds (A B C, A B C, …, so load drifts hit every command alike), medians, ratios against
 * the reference measured in the same run, peak RSS, and the machine's load printed beside the figures.
 * Wall-clock timing here, never in tests.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { median } from './util.js';

/** One command of a round: what to run, with stdin from a file (or none), and a step run before each round. */
export interface Timed {
  readonly name: string;
  readonly cmd: string;
  readonly args: string[];
  readonly stdin?: string;
  readonly before?: () => void;
}

/** The children's environment: no colour, NODE_EXTRA_CA_CERTS unset (it adds ≈40 ms to every Node start). */
export function benchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

function once(c: Timed): number {
  c.before?.();
  const fd = c.stdin ? openSync(c.stdin, 'r') : 'ignore';
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { env: benchEnv(), stdio: [fd, 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${c.name}: ${c.cmd} ${c.args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

/** Median wall time (ms) of each command over `rounds` interleaved rounds (one warm-up round not counted). */
export function interleaved(rounds: number, cmds: Timed[]): Map<string, number> {
  for (const c of cmds) once(c);
  const times = new Map<string, number[]>(cmds.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) for (const c of cmds) times.get(c.name)!.push(once(c));
  return new Map([...times].map(([k, v]) => [k, median(v)]));
}

/** Peak RSS (MiB) of one run, from GNU time's %M; NaN without /usr/bin/time. */
export function peakMiB(cmd: string, args: string[], stdin?: string): number {
  if (!existsSync('/usr/bin/time')) return NaN;
  const fd = stdin ? openSync(stdin, 'r') : 'ignore';
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env: benchEnv(), stdio: [fd, 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const lines = String(r.stderr).trim().split('\n');
    return Number(lines[lines.length - 1]) / 1024;
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

/** The machine's load (1/5/15 min) and core count, printed with every table: the figures depend on it. */
export function load(): string {
  return `load ${loadavg().map((l) => l.toFixed(2)).join(' / ')} on ${availableParallelism()} cores`;
}

/** `label  sshkit ms  ref ms  ratio (goal)`, one line (`oursName` for a reference row that is not sshkit). */
export function ratioRow(label: string, ours: number, ref: number, refName: string, goal: string, oursName = 'sshkit'): void {
  process.stdout.write(
    `${label.padEnd(40)} ${oursName} ${ours.toFixed(1).padStart(8)} ms   ${refName} ${ref.toFixed(1).padStart(8)} ms   ratio ${(ours / ref).toFixed(2)}x   (goal ${goal})\n`,
  );
}

/** Whether bin/sshkit will start from the snapshot (npm run bench builds it first). */
export function snapshotState(root: string): string {
  const r = spawnSync('sh', ['-c', '[ -f "$1/dist/snapshot/sshkit.blob" ] && [ "$1/dist/snapshot/sshkit.cjs" -nt "$1/dist/src/cli.js" ] && echo fresh || echo "missing or stale (run npm run build)"', 'sh', root], { encoding: 'utf8' });
  return r.stdout.trim();
}

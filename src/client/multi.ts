/**
 * `sshkit exec --hosts FILE`: one command on many hosts with bounded concurrency (`--parallel N`).
 * Output lines are prefixed with their host (`host: line`, as pdsh), stdout to stdout and stderr to
 * stderr, whole lines only so hosts never interleave mid-line; a summary table (host, exit status,
 * time) ends the run on stderr. With --json nothing streams: one document holds every host's result
 * and output. Knows nothing of ssh2: it is handed a `run(target, stdout, stderr)` function.
 */
import { Writable } from 'node:stream';
import { SshkitError } from '../core/errors.js';
import type { ExecResult } from './exec.js';
import type { Target } from './target.js';

/** One host's outcome; `error` is exec's own failure (status 255). */
export interface HostResult {
  host: string;
  user: string;
  port: number;
  status: number;
  signal?: string;
  error?: string;
  seconds: number;
  stdout?: string;
  stderr?: string;
}

/** Runs the command on one target, writing its output to the given streams (injected for tests). */
export type RunOne = (target: Target, stdout: Writable, stderr: Writable) => Promise<ExecResult>;

/** Writes whole lines of `label: line` to `dest`; `flush` ends a last unterminated line. */
export class LinePrefixer extends Writable {
  private pending: Buffer = Buffer.alloc(0);
  private readonly prefix: Buffer;

  constructor(
    label: string,
    private readonly dest: NodeJS.WritableStream,
  ) {
    super();
    this.prefix = Buffer.from(`${label}: `);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const parts: Buffer[] = [];
    let nl: number;
    while ((nl = data.indexOf(0x0a)) >= 0) {
      parts.push(this.prefix, data.subarray(0, nl + 1));
      data = data.subarray(nl + 1);
    }
    this.pending = Buffer.from(data);
    if (parts.length) this.dest.write(Buffer.concat(parts));
    cb();
  }

  /** Writes what is left of an unterminated last line, with a newline. */
  flush(): void {
    if (this.pending.length) this.dest.write(Buffer.concat([this.prefix, this.pending, Buffer.from('\n')]));
    this.pending = Buffer.alloc(0);
  }
}

/** Collects everything written (the --json mode's output capture). */
class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** How `--hosts` runs: concurrency and whether output is collected for --json. */
export interface ManyOptions {
  parallel: number;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

async function runHost(target: Target, run: RunOne, opts: ManyOptions): Promise<HostResult> {
  const t0 = process.hrtime.bigint();
  const out = opts.json ? new Capture() : new LinePrefixer(target.label, opts.stdout);
  const err = opts.json ? new Capture() : new LinePrefixer(target.label, opts.stderr);
  const base = { host: target.label, user: target.user, port: target.port };
  let result: Omit<HostResult, 'seconds'>;
  try {
    const r = await run(target, out, err);
    result = { ...base, status: r.status, ...(r.signal ? { signal: r.signal } : {}) };
  } catch (e) {
    if (!(e instanceof SshkitError)) throw e;
    result = { ...base, status: e.status, error: e.message };
    if (!opts.json) opts.stderr.write(`sshkit: ${target.label}: ${e.message}\n`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (out instanceof LinePrefixer && err instanceof LinePrefixer) {
    out.flush();
    err.flush();
    return { ...result, seconds };
  }
  return { ...result, seconds, stdout: (out as Capture).text(), stderr: (err as Capture).text() };
}

/** Runs on every target, at most `parallel` at a time; results in the order of the targets. */
export async function runMany(targets: Target[], run: RunOne, opts: ManyOptions): Promise<HostResult[]> {
  const results: HostResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      results[i] = await runHost(targets[i], run, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallel, targets.length)) }, worker));
  return results;
}

/** The summary table: host, exit status, time, and the failure or signal if any. */
export function summaryTable(results: HostResult[]): string {
  const rows = results.map((r) => [r.host, String(r.status), `${r.seconds.toFixed(2)}s`, r.error ?? (r.signal ? `killed by ${r.signal}` : '')]);
  const head = ['HOST', 'STATUS', 'TIME', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(width[i]) : c)).join('  ').trimEnd();
  const ok = results.filter((r) => r.status === 0).length;
  return [fmt(head), ...rows.map(fmt), `${ok} of ${results.length} hosts succeeded`].join('\n') + '\n';
}

/**
 * Benchmark helpers: time commands side by side (sshkit and the OpenSSH reference in the same run),
 * report medians and the ratio. Wall-clock timing here, never in tests.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SSHKIT = join(ROOT, 'bin', 'sshkit');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; // an even count: the mean of the middle two
}

/** Runs a command `rounds` times and returns the median wall time in ms (fails loudly on non-zero exit). */
export function timeCommand(cmd: string, args: string[], rounds: number, input?: string | Buffer): number {
  const times: number[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_EXTRA_CA_CERTS;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { input, env, maxBuffer: 1 << 30, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  return median(times);
}

/** One row of a side-by-side table: `label  sshkit ms  reference ms  ratio`. */
export function row(label: string, ours: number, ref: number, refName: string): void {
  const ratio = ours / ref;
  process.stdout.write(
    `${label.padEnd(44)} sshkit ${ours.toFixed(1).padStart(8)} ms   ${refName} ${ref.toFixed(1).padStart(8)} ms   ratio ${ratio.toFixed(2)}x${ratio <= 1 ? '' : ' (slower)'}\n`,
  );
}

/** An ed25519 key pair made by ssh-keygen at `file` (no passphrase): the benches' user and host keys. */
export function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

/** A TCP port the kernel just handed out on 127.0.0.1 (for servers that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let clkTck: number | undefined;
/**
 * CPU time a process has used, in ms: utime + stime + cutime + cstime (/proc/PID/stat fields 14–17,
 * proc(5)), i.e. its own and that of its children it has reaped — for sshd, every per-connection process
 * once it has exited. Clock ticks of 1/CLK_TCK s (getconf; 100 on Linux): read it over many logins.
 */
export function procCpuMs(pid: number): number {
  clkTck ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / clkTck;
}

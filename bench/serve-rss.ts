/**
 * When `sshkit serve`'s peak RSS happens and what it is made of (issue 14: ≤ 80 MiB with 100,000 keys):
 * starts the server (plain path, as serve.bench.ts) over N keys (the client's last), samples its VmRSS
 * from /proc every 2 ms, and prints the peak of each phase — start, first login (the parse of the file
 * included), then LOGINS logins at c=1, 8 and 32 — with VmHWM, the server's CPU a login, and at the end
 * its resident memory per mapping (the node binary's pages, anonymous memory: V8's heap and malloc).
 * Not part of `npm run bench` (a tool for finding the peak, like serve-cpu.ts):
 *   node dist/bench/serve-rss.js [keys=100000] [logins=300] [-- node flags for sshkit]
 * SERVE_SSHKIT runs another build (e.g. a baseline checkout's bin/sshkit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, SSHKIT } from './util.js';
import { login, waitPort } from './ssh-login.js';
import { benchKeys, bigAuthorized } from './serve-servers.js';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const nodeFlags = dash >= 0 ? argv.slice(dash + 1) : [];
const [keysArg = '100000', loginsArg = '300'] = dash >= 0 ? argv.slice(0, dash) : argv;
const KEYS = Number(keysArg);
const LOGINS = Number(loginsArg);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-serve-rss-'));
const user = userInfo().username;

/** VmRSS and VmHWM of `pid` in MiB. */
function rss(pid: number): { now: number; hwm: number } {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024;
    return { now: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return { now: NaN, hwm: NaN };
  }
}

/** utime + stime of a process in ms (/proc/PID/stat fields 14 and 15, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Resident MiB per mapping name (/proc/PID/smaps), the largest first. */
function mappings(pid: number): string {
  const sizes = new Map<string, number>();
  let name = '';
  for (const l of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(l);
    if (head) name = head[1] || '[anonymous]';
    const r = /^Rss:\s+(\d+)/.exec(l);
    if (r) sizes.set(name, (sizes.get(name) ?? 0) + Number(r[1]) / 1024);
  }
  return [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' | ');
}

async function main(): Promise<void> {
  const { ck, hk, key } = benchKeys(dir);
  const ak = join(dir, 'authorized_keys');
  bigAuthorized(ak, readFileSync(ck + '.pub', 'utf8'), KEYS - 1);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dir };
  delete env.NODE_EXTRA_CA_CERTS;
  const port = await freePort();
  const t0 = performance.now();
  const args = [...nodeFlags, process.env.SERVE_SSHKIT ?? SSHKIT, 'serve', '--port', String(port), '--authorized', ak, '--host-key', hk, '--max-startups', '2000', '--login-grace-time', '120'];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const pid = child.pid!;
  let phase = 'start';
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid).now)), 2);
  const mark = (next: string, extra = '') => {
    const r = rss(pid);
    process.stdout.write(`${phase.padEnd(14)} peak ${peak.toFixed(1)} MiB | now ${r.now.toFixed(1)} | VmHWM ${r.hwm.toFixed(1)} | t ${(performance.now() - t0).toFixed(0)} ms${extra}\n`);
    phase = next;
    peak = 0;
  };
  try {
    await waitPort(port, 5);
    mark('first login');
    const tf = performance.now();
    await login(port, key, user);
    const first = performance.now() - tf;
    mark('c=1', ` | first login (port open → done) ${first.toFixed(0)} ms`);
    for (const conc of [1, 8, 32]) {
      const c0 = cpuMs(pid);
      let n = 0;
      await Promise.all(
        Array.from({ length: conc }, async () => {
          while (n < LOGINS) (n++, await login(port, key, user));
        }),
      );
      mark(conc === 1 ? 'c=8' : conc === 8 ? 'c=32' : 'end', ` | ${n} logins, server CPU ${((cpuMs(pid) - c0) / n).toFixed(2)} ms a login`);
    }
    process.stdout.write(`resident by mapping (MiB): ${mappings(pid)}\n`);
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 300);
  }
}

main().catch((err) => {
  process.stdout.write(`serve-rss failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});

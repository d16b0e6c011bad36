/**
 * `sshkit serve` vs Twisted Conch (test/peers/conch-bench.py: dict checker, builtin exec, TCP_NODELAY:
 * the server sshkit is judged against, issue 14) and OpenSSH `sshd` (foreground, own config, loopback
 * high port), same machine, same run, the servers interleaved round by round (BENCH_ROUNDS, default 2;
 * medians) so a shared machine's load falls on all of them alike:
 *  - logins/s (connect + kex + ed25519 publickey + exec `echo ok` + close) at concurrency 1, 8, 32,
 *    with p50/p99 latency; the load client is ssh2's Client with TCP_NODELAY (PERF.md lessons 1 and 4);
 *  - the same with 100,000 keys in authorized_keys (the client's key last: sshd's worst case);
 *  - first login after start with 100,000 keys (port open → first login done: the parse at start
 *    included), and the server's RSS and peak RSS (VmHWM) with them loaded, after the logins;
 *  - server RSS with N idle authenticated sessions, a shell channel open on each (default 500; BENCH_IDLE),
 *    last, on fresh servers: sshd's N session processes load the machine for a while after they end.
 * sshd runs `echo ok` through a shell (a fork per login, its nature); sshkit and Conch answer in process.
 * Each phase is time-boxed (BENCH_SECONDS, default 4 s) so the whole benchmark stays near four minutes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, keygen, median, ROOT, SSHKIT } from './util.js';
import { login as sshLogin, waitPort } from './ssh-login.js';
import { WireWriter } from '../src/core/wire.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IDLE = Number(process.env.BENCH_IDLE ?? 500);
const BIG = Number(process.env.BENCH_KEYS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCH = join(ROOT, 'test', 'peers', 'conch-bench.py');
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-serve-'));
const children: ChildProcess[] = [];
const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dir };
delete env.NODE_EXTRA_CA_CERTS;

const require = createRequire(import.meta.url);

interface Srv {
  name: string;
  port: number;
  pid: number;
  stop(): void;
}

async function startSshkit(ak: string, hostKey: string): Promise<Srv> {
  const port = await freePort();
  const c = spawn(process.execPath, [SSHKIT, 'serve', '--port', String(port), '--authorized', ak, '--host-key', hostKey, '--max-startups', '2000', '--login-grace-time', '120'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(c);
  await waitPort(port);
  return { name: 'sshkit', port, pid: c.pid!, stop: () => c.kill('SIGTERM') };
}

async function startSshd(ak: string, hostKey: string): Promise<Srv> {
  const port = await freePort();
  const cfg = join(dir, `sshd_config_${port}`);
  writeFileSync(
    cfg,
    [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${ak}`, 'PidFile none', 'UsePAM no',
      'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'MaxStartups 2000', 'MaxSessions 2000',
      'LogLevel ERROR', 'UseDNS no', 'PermitRootLogin prohibit-password',
    ].join('\n') + '\n',
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg, '-p', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(c);
  await waitPort(port);
  return { name: 'sshd', port, pid: c.pid!, stop: () => c.kill('SIGTERM') };
}

async function startConch(ak: string, hostKey: string): Promise<Srv> {
  const c = spawn('/usr/bin/python3', [CONCH, '--host-key', hostKey, '--authorized', ak], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    c.once('exit', (code) => reject(new Error(`conch-bench.py exited ${code}`)));
  });
  return { name: 'conch', port, pid: c.pid!, stop: () => c.kill('SIGTERM') };
}

/** Resident and peak resident memory (VmRSS, VmHWM) of one process, in MiB. */
function ownRss(pid: number): { rss: number; peak: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Every descendant of `root` now (from ps). */
function descendants(root: number): number[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    for (const [pid, ppid] of rows) if (ppid === p) (out.push(pid), stack.push(pid));
  }
  return out;
}

/**
 * Waits (≤ 30 s) until the processes in `pids` have exited: sshd's per-session processes outlive its
 * listener. They must be listed before the listener stops: once it has exited they are the children of
 * init, and a wait for "no child of the listener" returned at once while 500 sessions were still
 * exiting, loading the next phase (the first-login samples right after it; issue 14's 2,192 ms).
 */
async function sessionsGone(pids: readonly number[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const live = new Set(spawnSync('ps', ['-eo', 'pid='], { encoding: 'utf8' }).stdout.split('\n').map(Number));
    if (!pids.some((p) => live.has(p))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopAndWait(srv: Srv): Promise<void> {
  const c = children.find((ch) => ch.pid === srv.pid);
  if (!c || c.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    c.once('exit', () => resolve());
    srv.stop();
  });
}

const user = (() => {
  try {
    return require('node:os').userInfo().username as string;
  } catch {
    return 'root';
  }
})();

/** One login as the bench's user (ssh-login.ts): connect, auth, exec `echo ok` (or keep a shell open), close. */
const login = (port: number, privateKey: Buffer, keep = false) => sshLogin(port, privateKey, user, keep);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Logins for SECONDS at `conc` concurrent workers. */
async function loginRate(port: number, key: Buffer, conc: number, seconds = SECONDS): Promise<{ rate: number; p50: number; p99: number; n: number; cpu: number }> {
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (performance.now() < end) lat.push((await login(port, key)).ms);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  return { rate: lat.length / wall, p50: pct(lat, 50), p99: pct(lat, 99), n: lat.length, cpu: (c.user + c.system) / 1e6 / wall };
}

/** Resident memory of a process and all its descendants, in MiB (from ps). */
function treeRssMiB(root: number): number {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const kids = new Map<number, number[]>();
  for (const [pid, ppid] of rows) kids.set(ppid, [...(kids.get(ppid) ?? []), pid]);
  const rss = new Map(rows.map(([pid, , r]) => [pid, r]));
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(kids.get(p) ?? []));
  }
  return total / 1024;
}

async function idleRss(srv: Srv, key: Buffer): Promise<{ before: number; after: number; opened: number }> {
  const before = treeRssMiB(srv.pid);
  const conns: any[] = [];
  for (let i = 0; i < IDLE; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, IDLE - i) }, () => login(srv.port, key, true).catch(() => null)));
    for (const b of batch) if (b) conns.push(b.conn);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = treeRssMiB(srv.pid);
  for (const c of conns) c.end();
  await new Promise((r) => setTimeout(r, 500));
  return { before, after, opened: conns.length };
}

function bigAuthorized(file: string, clientPub: string): void {
  const lines: string[] = [];
  for (let i = 0; i < BIG; i++) {
    const blob = new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer();
    lines.push(`ssh-ed25519 ${blob.toString('base64')} bench${i}`);
  }
  lines.push(clientPub.trim());
  writeFileSync(file, lines.join('\n') + '\n');
}

const f = (n: number, d = 1) => n.toFixed(d);
type Rate = Awaited<ReturnType<typeof loginRate>>;
type Starter = (ak: string, hostKey: string) => Promise<Srv>;

/** Medians over ROUNDS of each server's rate, the servers interleaved within a round. */
async function interleaved(srvs: Srv[], key: Buffer, conc: number): Promise<Rate[]> {
  const runs: Rate[][] = srvs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < srvs.length; i++) runs[i].push(await loginRate(srvs[i].port, key, conc));
  return runs.map((rs) => {
    const pick = (k: keyof Rate) => median(rs.map((x) => x[k]));
    return { rate: pick('rate'), p50: pick('p50'), p99: pick('p99'), n: rs.reduce((t, x) => t + x.n, 0), cpu: pick('cpu') };
  });
}

function rateLine(conc: number, a: Rate, c: Rate, s: Rate): string {
  return (
    `  c=${String(conc).padEnd(3)} sshkit ${f(a.rate).padStart(6)}/s p50 ${f(a.p50)} p99 ${f(a.p99)} ms | conch ${f(c.rate).padStart(6)}/s p50 ${f(c.p50)} ms | ` +
    `sshd ${f(s.rate).padStart(6)}/s p50 ${f(s.p50)} ms | ratio vs conch ${f(a.rate / c.rate, 2)}x${a.rate / c.rate >= 1.2 ? '' : ' (goal 1.2x)'}, vs sshd ${f(a.rate / s.rate, 2)}x | client CPU ${f(a.cpu * 100, 0)}%\n`
  );
}

/**
 * A fresh server over the big file: port open → first login done (`ms`; sshkit parses after it opens its
 * port, Conch before), and process start → first login done (`whole`: each one's start and parse included).
 */
async function firstLogin(start: Starter, ak: string, hk: string, key: Buffer): Promise<{ ms: number; whole: number; srv: Srv }> {
  const spawned = performance.now();
  const srv = await start(ak, hk);
  await waitPort(srv.port);
  const t0 = performance.now();
  await login(srv.port, key);
  const done = performance.now();
  return { ms: done - t0, whole: done - spawned, srv };
}

async function main(): Promise<void> {
  if (spawnSync('/usr/sbin/sshd', ['-V']).error) {
    process.stdout.write('sshd not installed (apt-get install -y openssh-server); skipping\n');
    return;
  }
  if (spawnSync('/usr/bin/python3', ['-c', 'import twisted.conch']).status !== 0) {
    process.stdout.write('Twisted Conch not installed (apt-get install -y python3-twisted); skipping\n');
    return;
  }
  const ck = join(dir, 'client');
  const hk = join(dir, 'host');
  keygen(ck);
  keygen(hk);
  const key = readFileSync(ck);
  const small = join(dir, 'ak_small');
  writeFileSync(small, readFileSync(ck + '.pub'));
  process.stdout.write(`user ${user}; ${SECONDS} s per phase, ${ROUNDS} rounds interleaved (medians); client: ssh2 Client in one Node process (TCP_NODELAY); NODE_EXTRA_CA_CERTS unset; load average ${require('node:os').loadavg().map((x: number) => f(x, 2)).join(' ')}\n`);

  let ours = await startSshkit(small, hk);
  let conch = await startConch(small, hk);
  let ref = await startSshd(small, hk);
  for (const s of [ours, conch, ref]) await login(s.port, key);
  process.stdout.write('\nlogins/s (connect + kex + ed25519 publickey + exec echo + close), 1 key\n');
  let small1: Rate[] | undefined; // the 1-key baseline (c=1)
  for (const conc of [1, 8, 32]) {
    const [a, c, b] = await interleaved([ours, conch, ref], key, conc);
    if (conc === 1) small1 = [a, c, b];
    process.stdout.write(rateLine(conc, a, c, b));
  }

  for (const s of [ours, conch, ref]) await stopAndWait(s);

  const big = join(dir, 'ak_big');
  bigAuthorized(big, readFileSync(ck + '.pub', 'utf8'));
  process.stdout.write(`\n${BIG} keys in authorized_keys (client key last)\n`);
  const firsts: { sshkit: number[]; conch: number[] } = { sshkit: [], conch: [] };
  const wholes: { sshkit: number[]; conch: number[] } = { sshkit: [], conch: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, start] of [['sshkit', startSshkit], ['conch', startConch]] as const) {
      const got = await firstLogin(start, big, hk, key);
      firsts[name].push(got.ms);
      wholes[name].push(got.whole);
      if (r < ROUNDS - 1) await stopAndWait(got.srv);
      else if (name === 'sshkit') ours = got.srv;
      else conch = got.srv;
    }
  }
  const [fa, fc] = [median(firsts.sshkit), median(firsts.conch)];
  const each = (xs: number[]) => xs.map((x) => f(x, 0)).join(', ');
  process.stdout.write(
    `  first login after start (port open → login done; sshkit parses after its port opens, Conch before): sshkit ${f(fa)} ms (${each(firsts.sshkit)}) | conch ${f(fc)} ms (${each(firsts.conch)}) | ratio ${f(fa / fc, 2)}x${fa <= 300 ? '' : ' (goal ≤ 300 ms)'}\n`,
  );
  const [wa, wc] = [median(wholes.sshkit), median(wholes.conch)];
  process.stdout.write(`  process start → first login done (each one's start-up and parse): sshkit ${f(wa)} ms (${each(wholes.sshkit)}) | conch ${f(wc)} ms (${each(wholes.conch)}) | ratio ${f(wa / wc, 2)}x\n`);
  ref = await startSshd(big, hk);
  await login(ref.port, key);
  for (const conc of [1, 8]) {
    const [a, c, b] = await interleaved([ours, conch, ref], key, conc);
    process.stdout.write(rateLine(conc, a, c, b));
    if (conc === 1 && small1) {
      process.stdout.write(
        `  auth latency flatness (p50 login, 1 key → ${BIG} keys): sshkit ${f(small1[0].p50)} → ${f(a.p50)} ms (${f(a.p50 / small1[0].p50, 2)}x) | conch ${f(small1[1].p50)} → ${f(c.p50)} ms (${f(c.p50 / small1[1].p50, 2)}x) | sshd ${f(small1[2].p50)} → ${f(b.p50)} ms (${f(b.p50 / small1[2].p50, 2)}x)\n`,
      );
    }
  }
  const [ma, mc] = [ownRss(ours.pid), ownRss(conch.pid)];
  process.stdout.write(
    `  server RSS with ${BIG} keys loaded, after the logins: sshkit ${f(ma.rss)} MiB (peak ${f(ma.peak)}${ma.peak <= 80 ? '' : ', goal ≤ 80'}) | conch ${f(mc.rss)} MiB (peak ${f(mc.peak)}) | ratio ${f(ma.peak / mc.peak, 2)}x peak | sshd ${f(treeRssMiB(ref.pid))} MiB (re-reads the file per login)\n`,
  );
  for (const s of [ours, conch, ref]) await stopAndWait(s);

  // last: the idle sessions (sshd's are 500 processes) load the machine for a while after they end
  ours = await startSshkit(small, hk);
  conch = await startConch(small, hk);
  ref = await startSshd(small, hk);
  process.stdout.write(`\nserver RSS with ${IDLE} idle authenticated sessions, shell channel open (sshd: all its processes)\n`);
  const ra = await idleRss(ours, key);
  const rc = await idleRss(conch, key);
  const rb = await idleRss(ref, key);
  process.stdout.write(
    `  sshkit ${f(ra.before)} → ${f(ra.after)} MiB (${ra.opened} open) | conch ${f(rc.before)} → ${f(rc.after)} MiB (${rc.opened} open) | sshd ${f(rb.before)} → ${f(rb.after)} MiB (${rb.opened} open) | ratio vs sshd ${f(ra.after / rb.after, 2)}x\n`,
  );
  const sshdSessions = descendants(ref.pid);
  for (const s of [ours, conch, ref]) await stopAndWait(s);
  await sessionsGone(sshdSessions);
}

main()
  .catch((err) => {
    process.stdout.write(`serve bench failed: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 300);
  });

/**
 * `sshkit serve` vs Twisted Conch (test/peers/conch-bench.py: dict checker, builtin exec, TCP_NODELAY:
 * the server sshkit is judged against, issue 14) and OpenSSH `sshd` (foreground, own config, loopback
 * high port), same machine, same run, the servers interleaved round by round (BENCH_ROUNDS, default 2;
 * medians) so a shared machine's load falls on all of them alike:
 *  - logins/s (connect + kex + ed25519 publickey + exec `echo ok` + close) at concurrency 1, 8, 32,
 *    with p50/p99 latency, under two load clients: ssh2's Client in this Node process (TCP_NODELAY,
 *    PERF.md lessons 1 and 4; ≈ 7 ms of CPU a login, as much as a server: at c=8 on 2 cores it is the
 *    bottleneck) and bench/ssh-load.go (Go's x/crypto/ssh, ≈ 2–3 ms a login; kex, cipher, MAC and host-key
 *    algorithm pinned alike for all three servers, host key pinned; skipped, saying so, without Go);
 *  - each server's own CPU per login under each client (utime + stime + its reaped children's, from
 *    /proc/PID/stat over the phase: the figure that says which server is cheaper whatever the client),
 *    and each client's;
 *  - the same with 100,000 keys in authorized_keys (the client's key last: sshd's worst case);
 *  - first login after start with 100,000 keys (port open → first login done: the parse at start
 *    included), and the server's RSS and peak RSS (VmHWM) with them loaded, after the logins;
 *  - server RSS with N idle authenticated sessions, a shell channel open on each (default 500; BENCH_IDLE),
 *    last, on fresh servers: sshd's N session processes load the machine for a while after they end.
 * sshd runs `echo ok` through a shell (a fork per login, its nature); sshkit and Conch answer in process.
 * Each phase is time-boxed (BENCH_SECONDS, default 4 s).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, procCpuMs } from './util.js';
import { benchKeys, bigAuthorized, descendants, idleRss, ownRss, servers, sessionsGone, treeRssMiB, userShell, userShellMs, type Srv, type Starter } from './serve-servers.js';
import { login as sshLogin, negotiated, waitPort } from './ssh-login.js';
import { buildGoLoad, GO_ALGORITHMS, goLoad } from './go-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IDLE = Number(process.env.BENCH_IDLE ?? 500);
const BIG = Number(process.env.BENCH_KEYS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000); // logins each of sshkit and Conch serves before the measured phases
const CONCS = (process.env.BENCH_CONC ?? '1,8,32').split(',').map(Number); // concurrencies of the login phases
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-serve-'));
const children: ChildProcess[] = [];
const { startSshkit, startSshd, startConch, stopAndWait } = servers(dir, children);

const require = createRequire(import.meta.url);

const user = (() => {
  try {
    return require('node:os').userInfo().username as string;
  } catch {
    return 'root';
  }
})();

/** One login as the bench's user (ssh-login.ts): connect, auth, exec `echo ok` (or keep a shell open), close. */
const login = (port: number, privateKey: Buffer, keep = false) => sshLogin(port, privateKey, user, keep, hostBlob);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** The load clients: ssh2's Client in this process, and the Go client when it could be built. */
type ClientName = 'ssh2' | 'go';
let goBin: string | undefined;
let hostBlob: Buffer | undefined; // the host key's wire blob: the ssh2 client pins it
let files: { key: string; hostPub: string } | undefined;

/** One phase's figures: logins/s, latency (ms), client and server CPU per login (ms). */
interface Rate {
  rate: number;
  p50: number;
  p99: number;
  n: number;
  cpu: number;
  srvCpu: number;
}

/**
 * Waits until the server has finished with the phase's connections: sshd's per-connection processes
 * have exited and been reaped (their CPU then counts in its cutime/cstime), then 100 ms for the rest.
 */
async function settled(srv: Srv): Promise<void> {
  // ≤ 120 s: with 100,000 keys each sshd login is ≈ 0.6 s of CPU, and its processes outlive the phase's last login
  if (srv.name === 'sshd') for (let i = 0; i < 6000 && descendants(srv.pid).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
}

/** Logins for SECONDS at `conc` concurrent workers of `client`; the server's CPU over them from /proc. */
async function loginRate(srv: Srv, key: Buffer, conc: number, client: ClientName, seconds = SECONDS): Promise<Rate> {
  await settled(srv);
  const s0 = procCpuMs(srv.pid);
  if (client === 'go') {
    const g = await goLoad(goBin!, { port: srv.port, user, keyFile: files!.key, hostPubFile: files!.hostPub, conc, seconds }).catch((err: Error) => {
      throw new Error(`${srv.name}, c=${conc}, go client: ${err.message}`);
    });
    await settled(srv);
    return { rate: g.rate, p50: g.p50, p99: g.p99, n: g.logins, cpu: g.cpuMsPerLogin, srvCpu: (procCpuMs(srv.pid) - s0) / g.logins };
  }
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (performance.now() < end) lat.push((await sshLogin(srv.port, key, user, false, hostBlob)).ms);
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  await settled(srv);
  const n = lat.length;
  return { rate: n / wall, p50: pct(lat, 50), p99: pct(lat, 99), n, cpu: (c.user + c.system) / 1000 / n, srvCpu: (procCpuMs(srv.pid) - s0) / n };
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const CLIENTS = (): ClientName[] => (goBin ? ['ssh2', 'go'] : ['ssh2']);

const SKIPPED: Rate = { rate: NaN, p50: NaN, p99: NaN, n: 0, cpu: NaN, srvCpu: NaN };

/** Medians over ROUNDS of each server's figures per client, servers and clients interleaved within a round; `skip` servers get no phase (NaN figures). */
async function interleaved(srvs: Srv[], key: Buffer, conc: number, skip: (s: Srv) => boolean = () => false): Promise<Map<ClientName, Rate[]>> {
  const runs = new Map<ClientName, Rate[][]>(CLIENTS().map((c) => [c, srvs.map(() => [])]));
  for (let r = 0; r < ROUNDS; r++) for (const [client, rs] of runs) for (let i = 0; i < srvs.length; i++) rs[i].push(skip(srvs[i]) ? SKIPPED : await loginRate(srvs[i], key, conc, client));
  const out = new Map<ClientName, Rate[]>();
  for (const [client, rs] of runs) {
    out.set(
      client,
      rs.map((xs) => {
        const pick = (k: keyof Rate) => median(xs.map((x) => x[k]));
        return { rate: pick('rate'), p50: pick('p50'), p99: pick('p99'), n: xs.reduce((t, x) => t + x.n, 0), cpu: pick('cpu'), srvCpu: pick('srvCpu') };
      }),
    );
  }
  return out;
}

/**
 * A long-running server's steady state: WARMUP logins (c=8, unmeasured) on sshkit and Conch before any
 * phase. V8's optimizing compiler was still at work on sshkit's worker threads for the first ≈ 3,000
 * logins (0.87 → 0.73 → 0.45 ms of CPU a login over three windows of 1,500), a cost a server pays once;
 * the 4 s phases alone would have measured it. sshd forks a fresh process per login: nothing to warm.
 */
async function warmUp(srvs: Srv[], key: Buffer): Promise<void> {
  for (const srv of srvs) {
    if (srv.name === 'sshd' || WARMUP <= 0) continue;
    if (goBin) await goLoad(goBin, { port: srv.port, user, keyFile: files!.key, hostPubFile: files!.hostPub, conc: 8, seconds: 600, logins: WARMUP });
    else {
      let left = WARMUP;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (left-- > 0) await login(srv.port, key);
        }),
      );
    }
  }
}

/** The ratios vs Conch against issue 14's goal (≥ 1.2× at c=1 and c=8, 1 and 100,000 keys), for the summary. */
const goals: string[] = [];

function rateLines(label: string, conc: number, byClient: Map<ClientName, Rate[]>): string {
  let out = '';
  for (const [client, [a, c, s]] of byClient) {
    const ratio = a.rate / c.rate;
    out +=
      `  c=${String(conc).padEnd(3)} ${client.padEnd(4)} client: sshkit ${f(a.rate).padStart(6)}/s p50 ${f(a.p50)} p99 ${f(a.p99)} ms | conch ${f(c.rate).padStart(6)}/s p50 ${f(c.p50)} ms | ` +
      `sshd ${f(s.rate).padStart(6)}/s p50 ${f(s.p50)} ms | ratio vs conch ${f(ratio, 2)}x${ratio >= 1.2 || conc > 8 ? '' : ' (goal 1.2x)'}, vs sshd ${f(a.rate / s.rate, 2)}x\n` +
      `        server CPU per login: sshkit ${f(a.srvCpu, 2)} ms | conch ${f(c.srvCpu, 2)} ms | sshd ${f(s.srvCpu, 2)} ms (its processes) | sshkit/conch ${f(a.srvCpu / c.srvCpu, 2)}x | ` +
      `client CPU per login ${f(a.cpu, 2)} / ${f(c.cpu, 2)} / ${f(s.cpu, 2)} ms\n`;
    if (conc <= 8) goals.push(`${label} c=${conc} ${client}: ${f(ratio, 2)}x${ratio >= 1.2 ? ' met' : ''} (server CPU ${f(a.srvCpu / c.srvCpu, 2)}x)`);
  }
  return out;
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
  const { ck, hk, key } = benchKeys(dir);
  const small = join(dir, 'ak_small');
  writeFileSync(small, readFileSync(ck + '.pub'));
  hostBlob = Buffer.from(readFileSync(hk + '.pub', 'utf8').split(/\s+/)[1], 'base64');
  files = { key: ck, hostPub: hk + '.pub' };
  const go = buildGoLoad(dir);
  if ('bin' in go) goBin = go.bin;
  const a = GO_ALGORITHMS;
  process.stdout.write(
    `user ${user}; ${SECONDS} s per phase, ${ROUNDS} rounds interleaved (medians); NODE_EXTRA_CA_CERTS unset; load average ${require('node:os').loadavg().map((x: number) => f(x, 2)).join(' ')}\n` +
      `servers warmed with ${WARMUP} logins each (sshkit, Conch) before the phases (BENCH_WARMUP)\n` +
      `clients: ssh2 = ssh2's Client in this Node process (TCP_NODELAY, its default algorithm lists); go = bench/ssh-load.go (x/crypto/ssh, one process, a goroutine per worker, TCP_NODELAY, ` +
      ('bin' in go ? `${a.kex} / ${a.hostAlg} / ${a.cipher} / ${a.mac} pinned for all three servers)\n` : `NOT RUN: ${go.missing})\n`),
  );

  let ours = await startSshkit(small, hk);
  let conch = await startConch(small, hk);
  let ref = await startSshd(small, hk);
  for (const s of [ours, conch, ref]) await login(s.port, key);
  await warmUp([ours, conch], key);
  process.stdout.write(`sshd runs echo through the user's shell: ${userShellMs(user).toFixed(1)} ms a run here (${userShell()} -c 'echo ok' with SSH_CLIENT set, as sshd starts it: Debian's bash then reads ~/.bashrc), in each of its logins\n`);
  process.stdout.write(`ssh2 negotiated (kex / host key / cipher / MAC): ${(await Promise.all([ours, conch, ref].map(async (s) => `${s.name} ${await negotiated(s.port, key, user)}`))).join(' | ')}\n`);
  process.stdout.write('\nlogins/s (connect + kex + ed25519 publickey + exec echo + close), 1 key\n');
  let small1: Map<ClientName, Rate[]> | undefined; // the 1-key baseline (c=1)
  for (const conc of CONCS) {
    const got = await interleaved([ours, conch, ref], key, conc);
    if (conc === 1) small1 = got;
    process.stdout.write(rateLines('1 key', conc, got));
  }

  for (const s of [ours, conch, ref]) await stopAndWait(s);

  const big = join(dir, 'ak_big');
  bigAuthorized(big, readFileSync(ck + '.pub', 'utf8'), BIG);
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
  await warmUp([ours, conch], key);
  for (const conc of CONCS) {
    // sshd re-reads the 100,000 keys in each of its login processes (≈ 0.6 s of CPU): 32 at once loaded
    // the 2-core machine (load average 68) past the end of its phase and into the next server's
    const got = await interleaved([ours, conch, ref], key, conc, (s) => s.name === 'sshd' && conc > 8);
    process.stdout.write(rateLines(`${BIG} keys`, conc, got));
    if (conc > 8) process.stdout.write(`        (sshd not run at c=${conc} with ${BIG} keys: each of its logins re-reads them, ≈ 0.6 s of CPU; 32 at once overload the machine)\n`);
    if (conc === 1 && small1) {
      const [a, c, b] = got.get('ssh2')!;
      const [a1, c1, b1] = small1.get('ssh2')!;
      process.stdout.write(
        `  auth latency flatness (p50 login, ssh2 client, 1 key → ${BIG} keys): sshkit ${f(a1.p50)} → ${f(a.p50)} ms (${f(a.p50 / a1.p50, 2)}x) | conch ${f(c1.p50)} → ${f(c.p50)} ms (${f(c.p50 / c1.p50, 2)}x) | sshd ${f(b1.p50)} → ${f(b.p50)} ms (${f(b.p50 / b1.p50, 2)}x)\n`,
      );
    }
  }
  const [ma, mc] = [ownRss(ours.pid), ownRss(conch.pid)];
  process.stdout.write(
    `  server RSS with ${BIG} keys loaded, after the logins: sshkit ${f(ma.rss)} MiB (peak ${f(ma.peak)}${ma.peak <= 80 ? '' : ', goal ≤ 80'}) | conch ${f(mc.rss)} MiB (peak ${f(mc.peak)}) | ratio ${f(ma.peak / mc.peak, 2)}x peak | sshd ${f(treeRssMiB(ref.pid))} MiB (re-reads the file per login)\n`,
  );
  for (const s of [ours, conch, ref]) await stopAndWait(s);

  // last: the idle sessions (sshd's are 500 processes) load the machine for a while after they end (BENCH_IDLE=0: none)
  if (IDLE > 0) {
    ours = await startSshkit(small, hk);
    conch = await startConch(small, hk);
    ref = await startSshd(small, hk);
    process.stdout.write(`\nserver RSS with ${IDLE} idle authenticated sessions, shell channel open (sshd: all its processes)\n`);
    const ra = await idleRss(ours, IDLE, () => login(ours.port, key, true));
    const rc = await idleRss(conch, IDLE, () => login(conch.port, key, true));
    const rb = await idleRss(ref, IDLE, () => login(ref.port, key, true));
    process.stdout.write(
      `  sshkit ${f(ra.before)} → ${f(ra.after)} MiB (${ra.opened} open) | conch ${f(rc.before)} → ${f(rc.after)} MiB (${rc.opened} open) | sshd ${f(rb.before)} → ${f(rb.after)} MiB (${rb.opened} open) | ratio vs sshd ${f(ra.after / rb.after, 2)}x\n`,
    );
    const sshdSessions = descendants(ref.pid);
    for (const s of [ours, conch, ref]) await stopAndWait(s);
    await sessionsGone(sshdSessions);
  }
  process.stdout.write(`\nlogins/s vs Conch, goal ≥ 1.2x (in brackets: sshkit's server CPU per login over Conch's): ${goals.join('; ')}\n`);
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

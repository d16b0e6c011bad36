/**
 * Server CPU per login (issue 14's serve goals, judged on a shared machine): starts `sshkit serve` (plain
 * path, as serve.bench.ts) or Twisted Conch (test/peers/conch-bench.py) over 1 key or BENCH_KEYS keys,
 * runs a fixed number of logins (connect, kex, ed25519 publickey, exec `echo ok`, close) at concurrency C
 * and prints the server's CPU time per login (utime + stime from /proc/PID/stat), the client's, the rate,
 * the first login after start and the server's RSS / peak RSS. CPU per login hardly moves with the
 * machine's load; the rate does. Not part of `npm run bench` (a tool for profiling):
 *   node dist/bench/serve-cpu.js [sshkit|conch] [keys] [concurrency] [logins] [-- node flags for sshkit]
 * SERVE_CLIENT=go loads it with bench/ssh-load.go (Go's x/crypto/ssh, ≈ 2–3 ms CPU a login, so the server is the
 * bottleneck; default ssh2's Client in this process).
 * SERVE_SSHKIT runs another build (e.g. a baseline checkout's bin/sshkit), SERVE_NODE replaces the node binary (e.g. a wrapper running strace), SERVE_ARGS adds serve flags; SERVE_ENV_* variables are passed to the server as *.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, SSHKIT } from './util.js';
import { login, waitPort } from './ssh-login.js';
import { buildGoLoad, goLoad } from './go-load.js';
import { benchKeys, bigAuthorized } from './serve-servers.js';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const nodeFlags = dash >= 0 ? argv.slice(dash + 1) : [];
const [kind = 'sshkit', keysArg = '1', concArg = '1', loginsArg = '400'] = dash >= 0 ? argv.slice(0, dash) : argv;
const KEYS = Number(keysArg);
const CONC = Number(concArg);
const LOGINS = Number(loginsArg);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-serve-cpu-'));
const user = userInfo().username;
let child: ChildProcess | undefined;

/** utime + stime of a process in ms (/proc/PID/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function rss(pid: number): { rss: number; peak: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** One timed login (ssh-login.ts), its latency in ms. */
const loginMs = async (port: number, privateKey: Buffer) => (await login(port, privateKey, user)).ms;

async function start(ak: string, hk: string): Promise<{ pid: number; port: number }> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dir };
  delete env.NODE_EXTRA_CA_CERTS;
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('SERVE_ENV_')) env[k.slice(10)] = v;
  if (kind === 'conch') {
    const c = (child = spawn('/usr/bin/python3', [join(ROOT, 'test/peers/conch-bench.py'), '--host-key', hk, '--authorized', ak], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const port = await new Promise<number>((resolve) => {
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    return { pid: c.pid!, port };
  }
  const port = await freePort();
  const extra = (process.env.SERVE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeFlags, process.env.SERVE_SSHKIT ?? SSHKIT, 'serve', '--port', String(port), '--authorized', ak, '--host-key', hk, '--max-startups', '2000', '--login-grace-time', '120', ...extra];
  child = spawn(process.env.SERVE_NODE ?? process.execPath, args, { env, stdio: ['ignore', 'ignore', process.env.SERVE_LOG ? 'inherit' : 'ignore'] });
  await waitPort(port, 5); // 5 ms polls: the first-login figure starts when the port opens
  return { pid: child.pid!, port };
}

async function main(): Promise<void> {
  const { ck, hk, key } = benchKeys(dir);
  const ak = join(dir, 'ak');
  bigAuthorized(ak, readFileSync(ck + '.pub', 'utf8'), KEYS - 1);
  const srv = await start(ak, hk);
  const t0 = performance.now();
  const first = await loginMs(srv.port, key);
  const firstAll = performance.now() - t0;
  for (let i = 0; i < 50; i++) await loginMs(srv.port, key); // warm-up (JIT)
  let goBin: string | undefined;
  if (process.env.SERVE_CLIENT === 'go') {
    const go = buildGoLoad(dir);
    if (!('bin' in go)) throw new Error(go.missing);
    goBin = go.bin;
  }
  const s0 = cpuMs(srv.pid);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let left = LOGINS;
  const lat: number[] = [];
  let goCpu: number | undefined;
  let goP50: number | undefined;
  if (process.env.SERVE_CLIENT === 'go') {
    const g = await goLoad(goBin!, { port: srv.port, user, keyFile: ck, hostPubFile: hk + '.pub', conc: CONC, seconds: 600, logins: LOGINS });
    goCpu = g.cpuMsPerLogin;
    goP50 = g.p50;
    lat.length = g.logins; // the count; the Go client reports the percentiles itself
  } else {
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (left-- > 0) lat.push(await loginMs(srv.port, key));
      }),
    );
  }
  const wall = performance.now() - w0;
  const s1 = cpuMs(srv.pid);
  const c = process.cpuUsage(c0);
  lat.sort((a, b) => a - b);
  const p50 = goP50 ?? lat[lat.length >> 1];
  const m = rss(srv.pid);
  process.stdout.write(
    `${kind} keys=${KEYS} c=${CONC} n=${lat.length}: server CPU ${((s1 - s0) / lat.length).toFixed(3)} ms/login | client CPU ${(goCpu ?? (c.user + c.system) / 1000 / lat.length).toFixed(3)} ms/login (${process.env.SERVE_CLIENT === 'go' ? 'go' : 'ssh2'}) | ` +
      `${((lat.length / wall) * 1000).toFixed(1)} logins/s p50 ${p50.toFixed(2)} ms | first login ${first.toFixed(0)} ms | RSS ${m.rss.toFixed(1)} peak ${m.peak.toFixed(1)} MiB | load ${require('node:os').loadavg()[0].toFixed(2)}\n`,
  );
  void firstAll;
}

main()
  .catch((err) => {
    process.stdout.write(`serve-cpu failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    child?.kill('SIGTERM');
    setTimeout(() => rmSync(dir, { recursive: true, force: true }), 300);
  });

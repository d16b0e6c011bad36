/**
 * `sshkit serve` vs OpenSSH `sshd` (foreground, own config, loopback high port), same machine, same run:
 *  - logins/s (connect + kex + ed25519 publickey + exec `echo ok` + close) at concurrency 1, 8, 32,
 *    with p50/p99 latency; the load client is ssh2's Client with TCP_NODELAY (PERF.md lessons 1 and 4);
 *  - the same with 100,000 keys in authorized_keys (the client's key last: sshd's worst case);
 *  - server RSS with N idle authenticated sessions, a shell channel open on each (default 500; BENCH_IDLE).
 * sshd runs `echo ok` through a shell (a fork per login, its nature); sshkit runs its builtin echo.
 * Each phase is time-boxed (BENCH_SECONDS, default 4 s) so the whole benchmark stays near two minutes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSHKIT } from './util.js';
import { WireWriter } from '../src/core/wire.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const IDLE = Number(process.env.BENCH_IDLE ?? 500);
const BIG = Number(process.env.BENCH_KEYS ?? 100_000);
const { Client } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-serve-'));
const children: ChildProcess[] = [];
const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dir };
delete env.NODE_EXTRA_CA_CERTS;

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = require('node:net').connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} never opened`);
}
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

const user = (() => {
  try {
    return require('node:os').userInfo().username as string;
  } catch {
    return 'root';
  }
})();

/** One login: connect, auth, exec `echo ok`, close. Resolves with the latency in ms. */
function login(port: number, privateKey: Buffer, keep = false): Promise<{ ms: number; conn: any }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const conn = new Client();
    conn.on('ready', () => {
      // kept: an idle session, a shell channel open without a pty (sshd starts a shell for it)
      if (keep) return conn.shell(false, (err) => (err ? reject(err) : resolve({ ms: performance.now() - t0, conn })));
      conn.exec('echo ok', (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d));
        stream.on('close', () => {
          conn.end();
          if (out.trim() !== 'ok') return reject(new Error(`unexpected output ${JSON.stringify(out)}`));
          resolve({ ms: performance.now() - t0, conn });
        });
      });
    });
    conn.on('error', reject);
    conn.connect({ host: '127.0.0.1', port, username: user, privateKey, hostVerifier: () => true, readyTimeout: 60_000 } as any);
    (conn as any)._sock?.setNoDelay?.(true);
  });
}

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

async function main(): Promise<void> {
  if (spawnSync('/usr/sbin/sshd', ['-V']).error) {
    process.stdout.write('sshd not installed (apt-get install -y openssh-server); skipping\n');
    return;
  }
  const ck = join(dir, 'client');
  const hk = join(dir, 'host');
  keygen(ck);
  keygen(hk);
  const key = readFileSync(ck);
  const small = join(dir, 'ak_small');
  writeFileSync(small, readFileSync(ck + '.pub'));
  process.stdout.write(`user ${user}; ${SECONDS} s per phase; client: ssh2 Client in one Node process (TCP_NODELAY); NODE_EXTRA_CA_CERTS unset\n`);

  let ours = await startSshkit(small, hk);
  let ref = await startSshd(small, hk);
  await login(ours.port, key);
  await login(ref.port, key);
  process.stdout.write('\nlogins/s (connect + kex + ed25519 publickey + exec echo + close)\n');
  let small1: { a: { p50: number }; b: { p50: number } } | undefined; // the 1-key baseline (c=1)
  for (const conc of [1, 8, 32]) {
    const a = await loginRate(ours.port, key, conc);
    const b = await loginRate(ref.port, key, conc);
    if (conc === 1) small1 = { a, b };
    process.stdout.write(
      `  c=${String(conc).padEnd(3)} sshkit ${f(a.rate).padStart(6)}/s p50 ${f(a.p50)} p99 ${f(a.p99)} ms | sshd ${f(b.rate).padStart(6)}/s p50 ${f(b.p50)} p99 ${f(b.p99)} ms | ratio ${f(a.rate / b.rate, 2)}x | client CPU ${f(a.cpu * 100, 0)}% / ${f(b.cpu * 100, 0)}%\n`,
    );
  }

  process.stdout.write(`\nserver RSS with ${IDLE} idle authenticated sessions, shell channel open (sshd: all its processes)\n`);
  const ra = await idleRss(ours, key);
  const rb = await idleRss(ref, key);
  process.stdout.write(`  sshkit ${f(ra.before)} → ${f(ra.after)} MiB (${ra.opened} open) | sshd ${f(rb.before)} → ${f(rb.after)} MiB (${rb.opened} open) | ratio ${f(ra.after / rb.after, 2)}x\n`);
  ours.stop();
  ref.stop();

  const big = join(dir, 'ak_big');
  bigAuthorized(big, readFileSync(ck + '.pub', 'utf8'));
  ours = await startSshkit(big, hk);
  ref = await startSshd(big, hk);
  const t0 = performance.now();
  await login(ours.port, key); // includes parsing the 100k-line file once
  const firstMs = performance.now() - t0;
  await login(ref.port, key);
  process.stdout.write(`\n${BIG} keys in authorized_keys (client key last); sshkit's first login after start ${f(firstMs)} ms (file already parsed at start)\n`);
  for (const conc of [1, 8]) {
    const a = await loginRate(ours.port, key, conc);
    const b = await loginRate(ref.port, key, conc);
    process.stdout.write(
      `  c=${String(conc).padEnd(3)} sshkit ${f(a.rate).padStart(6)}/s p50 ${f(a.p50)} ms | sshd ${f(b.rate).padStart(6)}/s p50 ${f(b.p50)} ms | ratio ${f(a.rate / b.rate, 2)}x\n`,
    );
    if (conc === 1 && small1) {
      process.stdout.write(
        `  auth latency flatness (p50 login, 1 key → ${BIG} keys): sshkit ${f(small1.a.p50)} → ${f(a.p50)} ms (${f(a.p50 / small1.a.p50, 2)}x) | sshd ${f(small1.b.p50)} → ${f(b.p50)} ms (${f(b.p50 / small1.b.p50, 2)}x)\n`,
      );
    }
  }
  process.stdout.write(`  server RSS with ${BIG} keys loaded: sshkit ${f(treeRssMiB(ours.pid))} MiB | sshd ${f(treeRssMiB(ref.pid))} MiB (sshd re-reads the file per login)\n`);
  ours.stop();
  ref.stop();
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

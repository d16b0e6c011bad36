/**
 * The three servers of the serve bench (serve.bench.ts) and what it reads of their processes:
 * `sshkit serve` (plain path), OpenSSH `sshd` (foreground, own config, loopback high port) and Twisted
 * Conch (test/peers/conch-bench.py), each started over an authorized_keys file and a host key, and
 * their RSS and descendants from /proc and ps; the big authorized_keys file and the idle-sessions probe.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, keygen, median, ROOT, SSHKIT } from './util.js';
import { WireWriter } from '../src/core/wire.js';
import { waitPort } from './ssh-login.js';

const CONCH = join(ROOT, 'test', 'peers', 'conch-bench.py');

/** A started server: its name (sshkit, conch, sshd), port and listener's pid. */
export interface Srv {
  name: string;
  port: number;
  pid: number;
  stop(): void;
}

/** Starts a server over authorized_keys file `ak` and host key `hostKey`. */
export type Starter = (ak: string, hostKey: string) => Promise<Srv>;

/** The starters, writing their configs in `dir`; `children` collects every process started (killed at the end). */
export function servers(dir: string, children: ChildProcess[]): { startSshkit: Starter; startSshd: Starter; startConch: Starter; stopAndWait(srv: Srv): Promise<void> } {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: dir };
  delete env.NODE_EXTRA_CA_CERTS;

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

  function stopAndWait(srv: Srv): Promise<void> {
    const c = children.find((ch) => ch.pid === srv.pid);
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      srv.stop();
    });
  }

  return { startSshkit, startSshd, startConch, stopAndWait };
}

/** Resident and peak resident memory (VmRSS, VmHWM) of one process, in MiB. */
export function ownRss(pid: number): { rss: number; peak: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** Every descendant of `root` now (from ps). */
export function descendants(root: number): number[] {
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
export async function sessionsGone(pids: readonly number[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const live = new Set(spawnSync('ps', ['-eo', 'pid='], { encoding: 'utf8' }).stdout.split('\n').map(Number));
    if (!pids.some((p) => live.has(p))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resident memory of a process and all its descendants, in MiB (from ps). */
export function treeRssMiB(root: number): number {
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

/** Server RSS (the whole process tree) before and with `n` idle sessions held open by `open` (each resolves with its ssh2 connection). */
export async function idleRss(srv: Srv, n: number, open: () => Promise<{ conn: any }>): Promise<{ before: number; after: number; opened: number }> {
  const before = treeRssMiB(srv.pid);
  const conns: any[] = [];
  for (let i = 0; i < n; i += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, n - i) }, () => open().catch(() => null)));
    for (const b of batch) if (b) conns.push(b.conn);
  }
  await new Promise((r) => setTimeout(r, 500));
  const after = treeRssMiB(srv.pid);
  for (const c of conns) c.end();
  await new Promise((r) => setTimeout(r, 500));
  return { before, after, opened: conns.length };
}

/** The serve benches' ed25519 key pairs in `dir`, made by ssh-keygen: the client's (`ck`, its private key bytes `key`) and the host's (`hk`). */
export function benchKeys(dir: string): { ck: string; hk: string; key: Buffer } {
  const ck = join(dir, 'client');
  const hk = join(dir, 'host');
  keygen(ck);
  keygen(hk);
  return { ck, hk, key: readFileSync(ck) };
}

/** `n` random ed25519 keys, then the client's key last (sshd's worst case), written to `file`. */
export function bigAuthorized(file: string, clientPub: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const blob = new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer();
    lines.push(`ssh-ed25519 ${blob.toString('base64')} bench${i}`);
  }
  lines.push(clientPub.trim());
  writeFileSync(file, lines.join('\n') + '\n');
}

/** The bench user's login shell: sshd runs `echo ok` through it. */
export function userShell(): string {
  try {
    return userInfo().shell || '/bin/sh';
  } catch {
    return '/bin/sh';
  }
}

/**
 * Median wall time of the user's shell running `echo ok` as sshd runs it (SSH_CLIENT set: Debian's bash
 * then reads ~/.bashrc, SSH_SOURCE_BASHRC): part of each sshd login, printed beside sshd's figures.
 */
export function userShellMs(user: string): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    spawnSync(userShell(), ['-c', 'echo ok'], { env: { HOME: process.env.HOME ?? '/', PATH: '/usr/bin:/bin', USER: user, SSH_CLIENT: '127.0.0.1 1 22' }, stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * The other SSH implementations, as the interop tests drive them: each peer program is run the way a
 * user would (its own key files, its own known-hosts pinning), with a generous timeout after which its
 * process group is killed, so a hung peer fails its cell and never the run. Helper programs in
 * test/peers/ (Go, C) are compiled once per test process into a temp folder.
 *
 *   const r = await peerRun('dbclient', ['-p', port, …], { input, env: { HOME } });
 *   r.status, r.stdout (Buffer), r.stderr, r.timedOut
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_TYPES, ROOT, openssh, testEnv } from './helpers.js';

export interface PeerResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

export interface PeerRunOptions {
  input?: Buffer | string;
  env?: Record<string, string>;
  /** Kill the peer after this long (ms); default 60 s. */
  timeoutMs?: number;
  /** Keep the peer's stdin open (after writing `input`) until it exits (Twisted Conch drops output on early EOF). */
  holdStdin?: boolean;
  cwd?: string;
  /** Kill the peer at once when its stderr matches (a failure after which it would only hang). */
  failOn?: RegExp;
}

/** Runs one peer program; never rejects for the peer's own failure (a missing program is an error). */
export function peerRun(cmd: string, args: string[], o: PeerRunOptions = {}): Promise<PeerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: testEnv({ PYTHONWARNINGS: 'ignore', ...o.env }), cwd: o.cwd, detached: true });
    const out: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (o.failOn?.test(stderr)) kill();
    });
    const t = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(t);
      reject(new Error(`${cmd}: ${e.message} (scripts/test-deps.sh installs the interop peers)`));
    });
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout: Buffer.concat(out), stderr, timedOut });
    });
    child.stdin.on('error', () => {});
    if (o.input !== undefined) child.stdin.write(o.input);
    if (!o.holdStdin) child.stdin.end();
    else child.on('exit', () => child.stdin.destroy());
  });
}

/** One line for a failure message: what ran and what it said. */
export function show(r: PeerResult): string {
  return `status=${r.status}${r.timedOut ? ' (TIMED OUT, killed)' : ''} stdout=${JSON.stringify(r.stdout.toString('utf8').slice(0, 300))} stderr=${JSON.stringify(r.stderr.slice(-600))}`;
}

let work: string | undefined;
/** This process's scratch folder (built peers, converted keys), removed at exit. */
export function scratch(): string {
  if (!work) {
    const dir = mkdtempSync(join(tmpdir(), 'sshkit-interop-'));
    work = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return work;
}

let goBuild: Promise<string> | undefined;
/** test/peers/go-peer.go built against Debian's x/crypto (GO111MODULE=off GOPATH=/usr/share/gocode). */
export function goPeer(): Promise<string> {
  goBuild ??= (async () => {
    const out = join(scratch(), 'go-peer');
    const r = await peerRun('go', ['build', '-o', out, join(ROOT, 'test/peers/go-peer.go')], {
      env: { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(scratch(), 'gocache'), GOFLAGS: '' },
      timeoutMs: 180_000,
    });
    if (r.status !== 0) throw new Error(`go build test/peers/go-peer.go failed: ${show(r)}`);
    return out;
  })();
  return goBuild;
}

let ccBuild: Promise<string> | undefined;
/** test/peers/libssh-client.c compiled with `cc … $(pkg-config --cflags --libs libssh)`. */
export function libsshPeer(): Promise<string> {
  ccBuild ??= (async () => {
    const pc = await peerRun('pkg-config', ['--cflags', '--libs', 'libssh']);
    if (pc.status !== 0) throw new Error(`pkg-config libssh: ${show(pc)} (install libssh-dev)`);
    const out = join(scratch(), 'libssh-client');
    const flags = pc.stdout.toString().trim().split(/\s+/).filter(Boolean);
    const r = await peerRun('cc', ['-O1', '-o', out, join(ROOT, 'test/peers/libssh-client.c'), ...flags], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`cc test/peers/libssh-client.c failed: ${show(r)}`);
    return out;
  })();
  return ccBuild;
}

export interface KeyPair {
  /** OpenSSH private key file (ssh-keygen's default format). */
  readonly path: string;
  readonly pubPath: string;
  readonly pub: string;
  readonly name: string;
}

/** A key pair made by the real ssh-keygen (type from helpers' KEY_TYPES, e.g. ed25519, ecdsa384, rsa3072). */
export function makeKey(dir: string, name: string, type: string): KeyPair {
  const path = join(dir, name);
  if (!existsSync(path)) {
    const r = openssh('ssh-keygen', ['-q', ...KEY_TYPES[type], '-N', '', '-C', name, '-f', path]);
    if (r.status !== 0) throw new Error(`ssh-keygen ${type}: ${r.stderr}`);
  }
  return { path, pubPath: `${path}.pub`, pub: readFileSync(`${path}.pub`, 'utf8').trim(), name };
}

/** `ssh-keygen -l -f FILE`: the line sshkit's fingerprint must print exactly. */
export function keygenL(file: string): string {
  const r = openssh('ssh-keygen', ['-l', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen -l -f ${file}: ${r.stderr}`);
  return r.stdout;
}

/** A private HOME whose ~/.ssh/known_hosts pins `hostPub` for 127.0.0.1:port (both spellings). */
export function pinnedHome(dir: string, port: number, hostPub: string): string {
  const home = join(dir, `home-${port}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const key = hostPub.split(' ').slice(0, 2).join(' ');
  writeFileSync(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${key}\n127.0.0.1 ${key}\n`);
  return home;
}

/** 1 MiB of deterministic, incompressible-looking bytes (every byte value, no text structure). */
export function mebibyte(): Buffer {
  const b = Buffer.alloc(1 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** A peer's server process, started by `startDaemon`. */
export interface Daemon {
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a peer server and waits until `ready` matches its output (stdout+stderr); the port comes from
 * the match's first group, or `port` when given. A server that exits or is not ready within STARTUP_MS fails.
 */
export function startDaemon(cmd: string, args: string[], ready: RegExp, o: { port?: number; env?: Record<string, string> } = {}): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    // Its own process group, signalled as a whole: a peer that forks (dropbear, a python wrapper)
    // leaves no child listening after the test.
    const child = spawn(cmd, args, { env: testEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        child.kill(sig); // the group is gone already (or never started)
      }
    };
    let out = '';
    let done = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.once('exit', () => kill('SIGKILL'));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    };
    const timer = setTimeout(() => fail(new Error(`${cmd} did not get ready in ${STARTUP_MS / 1000} s: ${out}`)), STARTUP_MS);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      kill('SIGKILL');
      reject(e);
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ port: o.port ?? Number(m[1]), output: () => out, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (e) => fail(new Error(`${cmd}: ${e.message} (scripts/test-deps.sh installs the interop peers)`)));
    child.once('exit', (code) => fail(new Error(`${cmd} exited (${code}) before it was ready: ${out}`)));
  });
}

/** A TCP port the kernel just handed out on 127.0.0.1 (for servers that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** How long a server (sshkit serve, sshd) may take to start: generous, for a loaded 2-core machine. */
export const STARTUP_MS = 90_000;

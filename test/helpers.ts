/**
 * Shared test helpers: run the built CLI and the real OpenSSH tools, make throw-away folders.
 * Tests run from dist/test/, so the repository root is two levels up.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SSHKIT = join(ROOT, 'bin', 'sshkit');
export const FIXTURES = join(ROOT, 'fixtures');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function result(r: SpawnSyncReturns<string>): RunResult {
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let privateHome: string | undefined;
/**
 * One empty HOME per test process, made on first use and removed when the process exits, so that no
 * child (sshkit, ssh, ssh-keygen) reads or writes the real ~/.ssh of whoever runs the tests.
 */
function testHome(): string {
  if (privateHome === undefined) {
    const home = mkdtempSync(join(tmpdir(), 'sshkit-home-'));
    privateHome = home;
    process.on('exit', () => rmSync(home, { recursive: true, force: true }));
  }
  return privateHome;
}

/** Environment for child processes: no colour, no debug, a private HOME unless given. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: testHome() };
  delete env.SSHKIT_DEBUG;
  delete env.SSH_AUTH_SOCK;
  return Object.assign(env, extra);
}

/** Runs `bin/sshkit ARGS` synchronously. */
export function sshkit(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; cwd?: string } = {}): RunResult {
  return result(
    spawnSync(process.execPath, [SSHKIT, ...args], {
      input: opts.input ?? '',
      env: testEnv(opts.env),
      cwd: opts.cwd,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    }),
  );
}

/** Runs `bin/sshkit ARGS` asynchronously (for large inputs, servers or parallel runs). */
export function sshkitAsync(args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<RunResult> {
  return runAsync(process.execPath, [SSHKIT, ...args], opts);
}

/** Runs any command asynchronously with the test environment; resolves with its status and output. */
export function runAsync(cmd: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: testEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => {}); // a child that exits without reading its stdin is fine
    if (opts.input === undefined) child.stdin.end();
    else child.stdin.end(opts.input);
  });
}

/** Runs a real OpenSSH tool (`ssh-keygen`, `ssh`, …) synchronously. */
export function openssh(tool: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): RunResult {
  return result(spawnSync(tool, args, { input: opts.input ?? '', env: testEnv(opts.env), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }));
}

/** ssh-keygen's arguments for every key type and size the interop tests cover (DSA aside). */
export const KEY_TYPES: Record<string, string[]> = {
  ed25519: ['-t', 'ed25519'],
  ecdsa256: ['-t', 'ecdsa', '-b', '256'],
  ecdsa384: ['-t', 'ecdsa', '-b', '384'],
  ecdsa521: ['-t', 'ecdsa', '-b', '521'],
  rsa2048: ['-t', 'rsa', '-b', '2048'],
  rsa3072: ['-t', 'rsa', '-b', '3072'],
};

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = 'sshkit-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

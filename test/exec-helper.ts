/**
 * Helpers for the `sshkit exec` tests: run the CLI asynchronously with Buffer output (byte-exact
 * comparisons; a server of this test process keeps logging meanwhile), and make client keys with the
 * real ssh-keygen.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSHKIT, openssh, testEnv } from './helpers.js';

export interface ExecRun {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * `bin/sshkit exec ARGS` with HOME set to `home` (no stray ~/.ssh keys or known_hosts). A run that
 * outlives `timeoutMs` (default 120 s) is killed and rejected, so a hung client fails its test instead
 * of stalling the suite.
 */
export function execCli(args: string[], opts: { home: string; input?: string | Buffer; env?: Record<string, string>; agent?: string; timeoutMs?: number }): Promise<ExecRun> {
  return new Promise((resolve, reject) => {
    const env = testEnv({ HOME: opts.home, ...opts.env });
    if (opts.agent) env.SSH_AUTH_SOCK = opts.agent; // testEnv drops the caller's agent; a test may bring its own
    const child = spawn(process.execPath, [SSHKIT, 'exec', ...args], { env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshkit exec ${args.join(' ')}: no exit after ${opts.timeoutMs ?? 120_000} ms (stderr so far: ${stderr.slice(-500)})`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => (clearTimeout(timer), reject(err)));
    child.on('close', (status) => (clearTimeout(timer), resolve({ status, stdout: Buffer.concat(out), stderr })));
    child.stdin.on('error', () => {}); // the command may not read its stdin
    child.stdin.end(opts.input ?? '');
  });
}

/** A key pair made by `ssh-keygen -t TYPE` (optionally with a passphrase); returns the private path and .pub line. */
export function clientKey(dir: string, name: string, type = 'ed25519', passphrase = ''): { path: string; pub: string } {
  const path = join(dir, name);
  const r = openssh('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** The SHA256 fingerprint of a public key line, as `ssh-keygen -l` prints it. */
export function sshFingerprint(pubLine: string): string {
  const r = openssh('ssh-keygen', ['-l', '-f', '-'], { input: pubLine + '\n' });
  if (r.status !== 0) throw new Error(`ssh-keygen -l: ${r.stderr}`);
  return r.stdout.split(' ')[1];
}

/** Asserts exec's own-failure contract: exit 255 and exactly one `sshkit:` line on stderr. */
export function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length !== 1 || !lines[0].startsWith('sshkit: ')) throw new Error(`expected one sshkit: line, got ${JSON.stringify(stderr)}`);
  return lines[0];
}

/**
 * Starts a real `sshkit serve` on a random loopback port (`--port 0`) and waits for its `listening` log
 * line; runs the real OpenSSH client against it. Shared by the serve tests and the `exec` client tests.
 *
 *   const srv = await startServer({ args: ['--authorized', file] });
 *   const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
 *   await srv.stop();   // SIGTERM, resolves with the exit code
 *
 * The listening line on stderr is (text log format):
 *   `<ISO time> listening host=127.0.0.1 port=<N> fingerprint=SHA256:… authorized=… exec=… passwords=…`
 * (with `--log-format json`: `{"time":…,"event":"listening","host":…,"port":N,"fingerprint":"SHA256:…",…}`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSHKIT, testEnv } from './helpers.js';

export interface StartOptions {
  /** Extra `sshkit serve` arguments (e.g. --authorized FILE, --host-key FILE). */
  args?: string[];
  /** Environment additions; XDG_CONFIG_HOME defaults to a fresh temp dir (for the generated host key). */
  env?: Record<string, string>;
  /** How long to wait for the listening line (ms). */
  timeoutMs?: number;
}

export interface StartedServer {
  readonly port: number;
  /** The first host key's SHA256 fingerprint, from the listening line. */
  readonly hostKeyFingerprint: string;
  readonly child: ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  logs(): string;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Resolves when a log line matches `re` (rejects after `timeoutMs`). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGTERM), waits for exit, removes temp dirs; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Starts `sshkit serve --host 127.0.0.1 --port 0 ARGS` and waits until it listens. */
export function startServer(opts: StartOptions = {}): Promise<StartedServer> {
  const cfg = mkdtempSync(join(tmpdir(), 'sshkit-serve-cfg-'));
  const env = testEnv({ XDG_CONFIG_HOME: cfg, ...opts.env });
  const child = spawn(process.execPath, [SSHKIT, 'serve', '--host', '127.0.0.1', '--port', '0', ...(opts.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let err = '';
  let out = '';
  const waiters: Array<() => void> = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of [...waiters]) w();
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      rmSync(cfg, { recursive: true, force: true });
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );
  const waitForLog = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = err.split('\n').find((l) => re.test(l));
        if (line !== undefined) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(t);
          resolve(line);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(t);
          reject(new Error(`server exited (${child.exitCode ?? child.signalCode}) before logging ${re}:\n${err}`));
        }
      };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out waiting for ${re} in server log:\n${err}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return waitForLog(/\blistening\b|"event":"listening"/, opts.timeoutMs ?? 15_000).then(
    (line) => {
      const port = Number(/port[=":]+(\d+)/.exec(line)![1]);
      const hostKeyFingerprint = /(SHA256:[A-Za-z0-9+/]+)/.exec(line)![1];
      return {
        port,
        hostKeyFingerprint,
        child,
        logs: () => err,
        stdout: () => out,
        waitForLog,
        stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      };
    },
    (e) => {
      child.kill('SIGKILL');
      throw e;
    },
  );
}

export interface SshResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface SshOptions {
  key?: string;
  user?: string;
  command?: string;
  input?: string;
  /** Extra ssh options, e.g. ['-o', 'PubkeyAcceptedAlgorithms=rsa-sha2-512'] or ['-tt']. */
  extra?: string[];
  timeoutMs?: number;
  /** Environment additions for ssh (e.g. SSH_ASKPASS for password tests). */
  env?: Record<string, string>;
  /** BatchMode=yes unless false (password auth needs a prompt: use SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force). */
  batch?: boolean;
}

/** The fixed ssh options of every test: batch mode, no known_hosts, no config file. */
export function sshArgs(port: number, o: SshOptions = {}): string[] {
  return [
    '-o', `BatchMode=${o.batch === false ? 'no' : 'yes'}`,
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-F', '/dev/null',
    ...(o.key ? ['-o', 'IdentitiesOnly=yes', '-i', o.key] : []),
    '-p', String(port),
    ...(o.extra ?? []),
    `${o.user ?? 'alice'}@127.0.0.1`,
    ...(o.command !== undefined ? [o.command] : []),
  ];
}

/** Runs the real `ssh` against a test server; resolves with its status and output. */
export function sshRun(port: number, o: SshOptions = {}): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', sshArgs(port, o), { env: testEnv(o.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
    // ssh may exit (e.g. refused) before it reads stdin: that EPIPE is not the test's failure
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

/**
 * Starts a real OpenSSH `sshd` in the foreground (`/usr/sbin/sshd -D -e -f CONFIG`) on a random high
 * loopback port, with its own host key, config and authorized_keys file in a temp folder, so the `exec`
 * client is tested against the server it must interoperate with. The login user is the current user
 * (root here: `PermitRootLogin prohibit-password`). No skip: a missing sshd fails the test with a
 * message saying what to install.
 *
 *   const sshd = await startSshd({ authorizedKeys: [pubLine] });
 *   sshkit(['exec', '-p', String(sshd.port), …]);
 *   await sshd.stop();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** authorized_keys lines for the login user (written to a temp file named by AuthorizedKeysFile). */
  authorizedKeys?: string[];
  /** Host key type generated for this server (default ed25519). Ignored when `hostKeys` is given. */
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Existing private host key files to use instead of a fresh one. */
  hostKeys?: string[];
  /** Extra sshd_config lines (the first value of a keyword wins, so these cannot override the defaults below). */
  config?: string[];
  /** Extra sshd command-line arguments; `-o Keyword=value` here wins over the config file (e.g. StrictModes=yes). */
  args?: string[];
  /** How long to wait for "Server listening" (ms). */
  timeoutMs?: number;
}

export interface StartedSshd {
  readonly port: number;
  /** The (first) host key's public line, `type base64 comment`, as written by ssh-keygen. */
  readonly hostKeyPub: string;
  /** The user sshd lets in (the current user). */
  readonly user: string;
  /** The temp folder holding the config, host key and authorized_keys. */
  readonly dir: string;
  readonly authorizedKeysFile: string;
  /** sshd's log (stderr) so far. */
  logs(): string;
  /** Stops sshd (SIGTERM, then SIGKILL) and removes the temp folder. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(path: string, type: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'sshd-test-host', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen -t ${type} failed: ${r.stderr}`);
}

function launch(configPath: string, port: number, timeoutMs: number, args: string[] = []): Promise<{ child: ChildProcess; log: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SSHD, ['-D', '-e', '-f', configPath, '-p', String(port), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    let log = '';
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        live.delete(child);
        reject(err);
      } else resolve({ child, log: () => log });
    };
    const timer = setTimeout(() => finish(new Error(`sshd did not start within ${timeoutMs} ms: ${log}`)), timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      if (log.length > 1 << 20) log = log.slice(-(1 << 19));
      if (/Server listening on 127\.0\.0\.1 port \d+/.test(log)) finish();
    });
    child.once('error', (err) => finish(err));
    child.once('exit', (code) => {
      live.delete(child);
      finish(new Error(`sshd exited with ${code} before listening: ${log.trim()}`));
    });
  });
}

/** Starts sshd on a random high loopback port; see the file comment. */
export async function startSshd(opts: SshdOptions = {}): Promise<StartedSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install OpenSSH's server (apt-get install -y openssh-server; .ci/run does this)`);
  }
  // sshd refuses to start without its privilege-separation folder (made by the package's service unit).
  if (!existsSync('/run/sshd') && process.getuid?.() === 0) mkdirSync('/run/sshd', { mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'sshkit-sshd-'));
  const user = userInfo().username;
  try {
    const hostKeys = opts.hostKeys ?? [join(dir, `host_${opts.hostKeyType ?? 'ed25519'}`)];
    if (!opts.hostKeys) keygen(hostKeys[0], opts.hostKeyType ?? 'ed25519');
    const hostKeyPub = readFileSync(`${hostKeys[0]}.pub`, 'utf8').trim();
    const authorizedKeysFile = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeysFile, (opts.authorizedKeys ?? []).map((l) => l.trim() + '\n').join(''), { mode: 0o600 });
    const config = [
      'ListenAddress 127.0.0.1',
      ...hostKeys.map((k) => `HostKey ${k}`),
      'PidFile none',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AuthorizedKeysFile ${authorizedKeysFile}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxStartups 200',
      'MaxSessions 100',
      'LogLevel INFO',
      ...(opts.config ?? []),
    ];
    const configPath = join(dir, 'sshd_config');
    writeFileSync(configPath, config.join('\n') + '\n');
    // The port is free when asked; another process may take it before sshd binds, so retry a few times.
    let started: { child: ChildProcess; log: () => string } | undefined;
    let port = 0;
    for (let attempt = 0; !started; attempt++) {
      port = await freePort();
      try {
        started = await launch(configPath, port, opts.timeoutMs ?? 10_000, opts.args);
      } catch (err) {
        if (attempt >= 4 || !/Address already in use|Cannot bind/i.test(String(err))) throw err;
      }
    }
    const { child, log } = started;
    return {
      port,
      hostKeyPub,
      user,
      dir,
      authorizedKeysFile,
      logs: log,
      stop: () =>
        new Promise<void>((resolve) => {
          const done = () => {
            live.delete(child);
            rmSync(dir, { recursive: true, force: true });
            resolve();
          };
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(kill);
            done();
          });
          child.kill('SIGTERM');
        }),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

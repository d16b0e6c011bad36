/**
 * Runs one helper program for `sshkit serve` (--authorized-command) the way sshd's `subprocess()`
 * (misc.c) does — an argument vector, never a shell; stdin /dev/null; a minimal environment (PATH,
 * USER, LOGNAME, HOME, LANG); as another user (setgid, then setuid, supplementary groups dropped) —
 * with what sshd lacks: a timeout and a cap on its output. A command that times out, prints too much,
 * cannot be started, exits non-zero or dies by a signal is a failure with a one-line reason; its
 * process group is killed, so a grandchild holding the pipe cannot keep a login waiting.
 */
import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { unsafePathReason, type Owner } from './safe-path.js';

/** The account a command runs as (getpwnam's pw_name, pw_uid, pw_gid, pw_dir). */
export interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** What one run may take. */
export interface RunLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** A run's outcome: its stdout, or why it counts as failed. */
export type RunResult = { ok: true; stdout: string } | { ok: false; reason: string };

/** `_PATH_STDPATH` of OpenSSH on Linux: the PATH sshd gives AuthorizedKeysCommand. */
const STDPATH = '/usr/bin:/bin:/usr/sbin:/sbin';
/** stderr kept for the log line of a failed run. */
const STDERR_KEPT = 300;

/** getpwnam() through `getent passwd NAME` (so NSS sources — LDAP, sssd — count, as for sshd). */
export function lookupUser(name: string): Promise<RunAs | null> {
  return new Promise((resolve) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._@-]*\$?$/.test(name)) return resolve(null); // never an option to getent
    execFile('getent', ['passwd', name], { timeout: 5000, env: { PATH: STDPATH } }, (err, out) => {
      const f = String(out ?? '').split('\n')[0].split(':');
      if (err || f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return resolve(null);
      resolve({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] });
    });
  });
}

/**
 * sshd's check before running the command (`auth_secure_path(av[0], …, uid 0)`): an absolute path to a
 * regular file that neither it nor any folder above it can be changed by others (owned by root or the
 * server's user, not group/world-writable; safe-path.ts). Null when safe.
 */
export async function unsafeCommandReason(path: string, owner: Owner): Promise<string | null> {
  if (!path.startsWith('/')) return `${path}: path is not absolute`;
  try {
    return await unsafePathReason(path, await stat(path, { bigint: true }), { uid: owner.uid });
  } catch (err) {
    return `could not stat ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

/** Runs `argv` as `as` (or as the server's own user) within `limits`. Never rejects. */
export function runCapped(argv: readonly string[], as: RunAs | undefined, limits: RunLimits): Promise<RunResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { PATH: STDPATH };
    if (as) Object.assign(env, { USER: as.name, LOGNAME: as.name, HOME: as.home });
    if (process.env.LANG !== undefined) env.LANG = process.env.LANG;
    let child;
    try {
      child = spawn(argv[0], argv.slice(1), {
        env,
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group, killed whole on timeout
        ...(as ? { uid: as.uid, gid: as.gid } : {}),
      });
    } catch (err) {
      return resolve({ ok: false, reason: `cannot run: ${(err as Error).message}` });
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let done = false;
    const finish = (r: RunResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!r.ok) kill();
      resolve(r);
    };
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `timed out after ${limits.timeoutMs} ms` }), limits.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > limits.maxBytes) return finish({ ok: false, reason: `printed more than ${limits.maxBytes} bytes` });
      chunks.push(d);
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_KEPT) stderr += d.slice(0, STDERR_KEPT - stderr.length);
    });
    child.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reason: `cannot run ${argv[0]}: ${err.code ?? err.message}` }));
    child.on('close', (code, signal) => {
      const said = stderr.trim() ? ` (stderr: ${stderr.trim().split('\n')[0]})` : '';
      if (signal) return finish({ ok: false, reason: `killed by signal ${signal}${said}` });
      if (code !== 0) return finish({ ok: false, reason: `exited with status ${code}${said}` });
      finish({ ok: true, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

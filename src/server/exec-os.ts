/**
 * `--exec os`: real commands through `/bin/sh -c` as the server's own user (SPEC "Sessions"). stdin,
 * stdout and stderr are forwarded; the exit status, or the signal that ended the command, goes back to
 * the client. With a pty request the command runs under util-linux `script(1)`, which allocates a real
 * pseudo-terminal without a native addon; the window size is applied with `stty` on that terminal at
 * start and on every window-change (the kernel then sends SIGWINCH). Linux only for the pty part.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';

/** Terminal request of a session (from pty-req / window-change). */
export interface PtySize {
  term: string;
  rows: number;
  cols: number;
}

/** What the session layer needs from a running OS command. */
export interface OsProcess {
  readonly child: ChildProcess;
  resize(size: PtySize): void;
  signal(name: string): void;
}

const SIGNALS = new Set(['ABRT', 'ALRM', 'FPE', 'HUP', 'ILL', 'INT', 'KILL', 'PIPE', 'QUIT', 'SEGV', 'TERM', 'USR1', 'USR2']);

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  let user = process.env.USER ?? '';
  try {
    user = userInfo().username;
  } catch {
    /* keep $USER */
  }
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: homedir(),
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/sh',
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    ...extra,
  };
}

/** The pty slave of the process `script` started (its child's stdin), found through /proc. */
function ptsOf(scriptPid: number): string | null {
  try {
    const kids = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/);
    for (const k of kids) {
      const t = readlinkSync(`/proc/${k}/fd/0`);
      if (t.startsWith('/dev/pts/')) return t;
    }
  } catch {
    /* not Linux, or the process is gone */
  }
  return null;
}

const clamp = (n: number, d: number) => (Number.isInteger(n) && n > 0 && n < 10000 ? n : d);

/**
 * Starts `command` (or an interactive shell when `command` is null). `env` adds SSH_* variables;
 * `pty` asks for a terminal of that size.
 */
export function startOsCommand(command: string | null, env: Record<string, string>, pty: PtySize | null): OsProcess {
  let child: ChildProcess;
  if (pty) {
    const rows = clamp(pty.rows, 24);
    const cols = clamp(pty.cols, 80);
    const inner = `stty rows ${rows} cols ${cols} 2>/dev/null; ${command ?? 'exec /bin/sh -i'}`;
    child = spawn('script', ['-q', '-f', '-e', '-c', inner, '/dev/null'], {
      env: baseEnv({ ...env, TERM: pty.term || 'xterm' }),
      cwd: homedir(),
      stdio: 'pipe',
      detached: true,
    });
  } else {
    child = spawn('/bin/sh', command === null ? [] : ['-c', command], { env: baseEnv(env), cwd: homedir(), stdio: 'pipe', detached: true });
  }
  let pts: string | null = null;
  return {
    child,
    resize(size: PtySize) {
      if (!pty || child.pid === undefined) return;
      pts ??= ptsOf(child.pid);
      if (pts) spawnSync('stty', ['-F', pts, 'rows', String(clamp(size.rows, 24)), 'cols', String(clamp(size.cols, 80))], { stdio: 'ignore' });
    },
    signal(name: string) {
      const n = name.replace(/^SIG/, '');
      if (!SIGNALS.has(n) || child.pid === undefined) return;
      try {
        process.kill(-child.pid, `SIG${n}` as NodeJS.Signals); // the whole process group
      } catch {
        /* already gone */
      }
    },
  };
}

/** Kills a command's process group (session end, server shutdown). */
export function killOsCommand(p: OsProcess, sig: NodeJS.Signals = 'SIGHUP'): void {
  if (p.child.pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  try {
    process.kill(-p.child.pid, sig);
  } catch {
    /* gone */
  }
}

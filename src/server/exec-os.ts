/**
 * `--exec os`: real commands through `/bin/sh -c` as the server's own user (SPEC "Sessions"). stdin,
 * stdout and stderr are forwarded; the exit status, or the signal that ended the command, goes back to
 * the client. With a pty request the command runs under util-linux `script(1)`, which allocates a real
 * pseudo-terminal without a native addon; the window size is applied with `stty` on that terminal at
 * start and on window-change (the kernel then sends SIGWINCH). Linux only for the pty part.
 * Nothing here blocks the event loop on a client's request (issue 9 item 3: 400 window-changes, each a
 * synchronous `stty`, froze every session for > 10 s): window changes are coalesced — at most one
 * `stty` runs per session, and when it ends the latest size (only) is applied next.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
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

let self: { user: string; home: string } | null = null;
/** The server's own user and home, looked up once (getpwuid reads /etc/passwd synchronously). */
function serverUser(): { user: string; home: string } {
  if (self) return self;
  let user = process.env.USER ?? '';
  try {
    user = userInfo().username;
  } catch {
    /* keep $USER */
  }
  return (self = { user, home: homedir() });
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { user, home } = serverUser();
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/sh',
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    ...extra,
  };
}

/** The pty slave of the process `script` started (its child's stdin), found through /proc. */
async function ptsOf(scriptPid: number): Promise<string | null> {
  try {
    const kids = (await readFile(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8')).trim().split(/\s+/);
    for (const k of kids) {
      const t = await readlink(`/proc/${k}/fd/0`).catch(() => '');
      if (t.startsWith('/dev/pts/')) return t;
    }
  } catch {
    /* not Linux, or the process is gone */
  }
  return null;
}

const sttyRun = (args: string[]) => new Promise<void>((resolve) => execFile('stty', args, { timeout: 5000 }, () => resolve()));

/**
 * Applies window sizes to the pty of `script` process `pid`, one `stty` at a time: a size asked for
 * while one runs replaces any other waiting one, so a flood of window-changes costs one or two `stty`.
 */
function resizer(pid: number, alive: () => boolean): (rows: number, cols: number) => void {
  let pts: string | null = null;
  let want: [number, number] | null = null;
  let running = false;
  let tries = 0;
  const pump = async () => {
    running = true;
    try {
      while (want && alive()) {
        pts ??= await ptsOf(pid);
        if (!pts) {
          // the shell under `script` is not there yet: look again shortly (bounded)
          if (++tries > 40) return void (want = null);
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const [rows, cols] = want;
        want = null;
        await sttyRun(['-F', pts, 'rows', String(rows), 'cols', String(cols)]);
      }
    } finally {
      running = false;
    }
  };
  return (rows, cols) => {
    want = [rows, cols];
    if (running) return;
    tries = 0;
    void pump();
  };
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
      cwd: serverUser().home,
      stdio: 'pipe',
      detached: true,
    });
  } else {
    child = spawn('/bin/sh', command === null ? [] : ['-c', command], { env: baseEnv(env), cwd: serverUser().home, stdio: 'pipe', detached: true });
  }
  const apply = pty && child.pid !== undefined ? resizer(child.pid, () => child.exitCode === null && child.signalCode === null) : null;
  return {
    child,
    resize(size: PtySize) {
      apply?.(clamp(size.rows, 24), clamp(size.cols, 80));
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

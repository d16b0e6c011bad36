/**
 * Runs one ssh-keygen command line through the real ssh-keygen 9.2 and through `bin/sshkit-keygen`
 * (issue 12) on copies of the same files, so a table-driven test can compare status, stdout, stderr
 * and the files each left behind.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, testEnv, type RunResult } from './helpers.js';

export const SSHKIT_KEYGEN = join(ROOT, 'bin', 'sshkit-keygen');

/** Runs `ssh-keygen ARGS` (`which: 'openssh'`) or `bin/sshkit-keygen ARGS` in `cwd`. */
export function keygenRun(which: 'openssh' | 'sshkit', args: string[], opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {}): RunResult {
  const [cmd, argv] = which === 'openssh' ? ['ssh-keygen', args] : [process.execPath, [SSHKIT_KEYGEN, ...args]];
  const r = spawnSync(cmd, argv, { cwd: opts.cwd, input: opts.input ?? '', env: testEnv(opts.env), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A file left in a folder after a run: its bytes (utf8) and permission bits. */
export interface FileState {
  readonly text: string;
  readonly mode: number;
}

/** Every regular file directly in `dir`, by name. */
export function folderState(dir: string): Map<string, FileState> {
  const out = new Map<string, FileState>();
  for (const name of readdirSync(dir).sort()) {
    const st = statSync(join(dir, name));
    if (st.isFile()) out.set(name, { text: readFileSync(join(dir, name), 'utf8'), mode: st.mode & 0o777 });
  }
  return out;
}

/** Both tools' runs of `args`, each in its own copy of `setupDir` (so files written can be compared). */
export function runBoth(setupDir: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}) {
  const dirs = { openssh: mkdtempSync(join(tmpdir(), 'kg-openssh-')), sshkit: mkdtempSync(join(tmpdir(), 'kg-sshkit-')) };
  cpSync(setupDir, dirs.openssh, { recursive: true, preserveTimestamps: true });
  cpSync(setupDir, dirs.sshkit, { recursive: true, preserveTimestamps: true });
  const openssh = keygenRun('openssh', args, { ...opts, cwd: dirs.openssh });
  const sshkit = keygenRun('sshkit', args, { ...opts, cwd: dirs.sshkit });
  return { openssh, sshkit, dirs };
}

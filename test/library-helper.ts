/**
 * The consumer project of the library tests (issue 15): `npm pack` of this worktree installed into a
 * fresh temp project (offline from the npm cache when it can, else --prefer-offline), a strict
 * tsconfig compiled with this worktree's tsc, and the ssh-keygen-made inputs the consumer reads.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, openssh, testEnv, tempDir } from './helpers.js';

export interface Consumer {
  /** The consumer project (node_modules/sshkit installed from the tarball). */
  dir: string;
  /** ssh-keygen-made inputs. */
  data: string;
  /** The `npm pack` tarball. */
  tarball: string;
  cleanup: () => void;
}

function run(cmd: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(r: { status: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${(r.stdout + r.stderr).slice(-3000)}`);
  return r.stdout;
}

/** Packs the worktree, installs the tarball into a new project and compiles test/library-consumer/*.ts there. */
export function makeConsumer(): Consumer {
  const t = tempDir('sshkit-consumer-');
  const dir = join(t.dir, 'project');
  const data = join(t.dir, 'data');
  mkdirSync(dir);
  mkdirSync(data);
  // dist/ is built by the test run's tsc; --ignore-scripts keeps `prepare` from building it again
  const tgz = must(run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', t.dir], ROOT), 'npm pack').trim().split('\n').pop()!;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'sshkit-consumer', private: true, type: 'module' }));
  const install = (mode: string) => run('npm', ['install', mode, '--ignore-scripts', '--no-audit', '--no-fund', join(t.dir, tgz)], dir);
  let r = install('--offline');
  if (r.status !== 0) r = install('--prefer-offline');
  must(r, 'npm install of the tarball');
  mkdirSync(join(dir, 'src'));
  for (const f of readdirSync(join(ROOT, 'test/library-consumer'))) copyFileSync(join(ROOT, 'test/library-consumer', f), join(dir, 'src', f));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // the package's own .d.ts files are checked too, not skipped
        skipLibCheck: false,
        outDir: 'out',
        rootDir: 'src',
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      include: ['src'],
    }),
  );
  must(run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', '.'], dir), 'tsc of the consumer');
  return { dir, data, tarball: join(t.dir, tgz), cleanup: t.cleanup };
}

/** `npm install -g` of the tarball into `prefix` (offline from the cache when it can); returns the installed bin folder. */
export function installGlobal(tarball: string, prefix: string): string {
  const install = (mode: string) => run('npm', ['install', '-g', '--prefix', prefix, mode, '--ignore-scripts', '--no-audit', '--no-fund', tarball], prefix);
  let r = install('--offline');
  if (r.status !== 0) r = install('--prefer-offline');
  must(r, 'npm install -g of the tarball');
  return join(prefix, 'bin');
}

/** Runs `node ARGS` in the consumer project; resolves with status and output (killed after `timeoutMs`). */
export function nodeIn(dir: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ status: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: testEnv() });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => ((killed = true), child.kill('SIGKILL')), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (status) => (clearTimeout(timer), resolve({ status, stdout, stderr, killed })));
    child.stdin.end(opts.input ?? '');
  });
}

/** ssh-keygen-made inputs: user keys, an encrypted key, a host key, a message and its `ssh-keygen -Y sign` signature. */
export function makeInputs(data: string): void {
  const keygen = (args: string[]) => {
    const r = openssh('ssh-keygen', args);
    if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  };
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@example.com', '-f', join(data, 'id_ed25519')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'denied', '-f', join(data, 'id_denied')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'stranger', '-f', join(data, 'id_stranger')]);
  keygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa', '-f', join(data, 'id_rsa')]);
  keygen(['-q', '-t', 'ecdsa', '-N', 'correct horse', '-C', 'enc', '-f', join(data, 'id_enc')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'host', '-f', join(data, 'host_ed25519')]);
  writeFileSync(join(data, 'msg'), 'the message\n');
  keygen(['-q', '-Y', 'sign', '-n', 'file', '-f', join(data, 'id_ed25519'), join(data, 'msg')]);
  writeFileSync(join(data, 'known_hosts_empty'), '');
}

/**
 * SFTP throughput, sshkit's serveSftp vs OpenSSH's sftp-server under sshd, same machine, same run,
 * same client (OpenSSH `sftp -b`, loopback, default cipher), issue 13 §2's targets:
 *  - `get` and `put` of one big file (BENCH_SFTP_MB, default 1024 MiB): throughput ≥ 0.8× sshd's;
 *  - BENCH_SFTP_FILES small files (default 10,000 of 1 KiB) listed (`ls -l`) and fetched (`get -r`):
 *    ≥ 1.0× sshd's.
 * The sshkit side runs in a child process (this file with `--serve ROOT`: startSshServer with an sftp
 * session handler, as test/sftp-helper.ts; `sshkit serve --sftp` once wired), so the timing parent
 * never shares its event loop. Ratios are throughput ratios (sshd time / sshkit time): ≥ 1 is faster.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { freePort, keygen, median } from './util.js';

const MB = Number(process.env.BENCH_SFTP_MB ?? 1024);
const FILES = Number(process.env.BENCH_SFTP_FILES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_SFTP_ROUNDS ?? 3);
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/** Child mode: serve SFTP on ROOT, print the port, run until killed. */
async function serve(root: string, dir: string): Promise<void> {
  const { startSshServer } = await import('../src/server/server.js');
  const { DEFAULT_LIMITS } = await import('../src/server/limits.js');
  const { serveSftp } = await import('../src/server/sftp/index.js');
  const srv = await startSshServer({
    host: '127.0.0.1', port: 0, authorized: join(dir, 'client.pub'), hostKeys: [join(dir, 'host')], admins: [], exec: 'builtin',
    limits: { ...DEFAULT_LIMITS, maxStartups: { start: 1000, rate: 100, full: 1000 } }, logFormat: 'json', logSink: () => undefined,
    sessionHandler: (session: any, ctx: any) => {
      session.on('sftp', (accept: () => any) => {
        const s = accept();
        if (s) void serveSftp(s, { root, readOnly: false, log: () => undefined }).then(ctx.track(() => s.end()));
      });
    },
  });
  process.stdout.write(`${srv.port}\n`);
}

const children: ChildProcess[] = [];

async function startSshkit(root: string, dir: string): Promise<number> {
  const c = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', root, dir], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    c.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
    c.once('exit', (code) => reject(new Error(`sshkit server exited ${code}`)));
  });
}

async function startSshd(dir: string): Promise<number> {
  const port = await freePort();
  const cfg = join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `AuthorizedKeysFile ${join(dir, 'client.pub')}`, 'PidFile none',
      'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR', 'UseDNS no',
      'PermitRootLogin prohibit-password', 'Subsystem sftp /usr/lib/openssh/sftp-server',
    ].join('\n') + '\n',
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const c = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(c);
  for (let i = 0; i < 100; i++) {
    if (spawnSync('ssh', [...sshOpts(dir, port), '-o', 'ConnectTimeout=2', `${userInfo().username}@127.0.0.1`, 'true']).status === 0) return port;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sshd did not start');
}

function sshOpts(dir: string, port: number): string[] {
  return ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null', '-i', join(dir, 'client'), '-p', String(port)];
}

/** Median wall ms of `sftp -b -` running `script` against port (rounds times), `before` run before each round untimed. */
function timeSftp(dir: string, port: number, script: string, rounds: number, before?: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    before?.();
    const args = [...sshOpts(dir, port).map((a) => (a === '-p' ? '-P' : a)), '-b', '-', `${userInfo().username}@127.0.0.1`];
    const t0 = process.hrtime.bigint();
    const r = spawnSync('sftp', args, { input: script, env, stdio: ['pipe', 'ignore', 'pipe'] });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0) throw new Error(`sftp exited ${r.status}: ${r.stderr}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  return median(times);
}

function row(label: string, ours: number, ref: number, target: number, mb?: number): void {
  const ratio = ref / ours;
  const rate = mb ? `  (${(mb / (ours / 1000)).toFixed(0)} vs ${(mb / (ref / 1000)).toFixed(0)} MiB/s)` : '';
  process.stdout.write(
    `${label.padEnd(34)} sshkit ${ours.toFixed(0).padStart(7)} ms   sshd ${ref.toFixed(0).padStart(7)} ms   throughput ${ratio.toFixed(2)}x (target ≥ ${target.toFixed(1)}x${ratio >= target ? ', met' : ', NOT met'})${rate}\n`,
  );
}

async function main(): Promise<void> {
  if (spawnSync('/usr/sbin/sshd', ['-V']).error) return void process.stdout.write('sshd not installed; skipping\n');
  const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-sftp-'));
  try {
    keygen(join(dir, 'client'));
    keygen(join(dir, 'host'));
    const root = join(dir, 'root');
    const local = join(dir, 'local');
    mkdirSync(join(root, 'small'), { recursive: true });
    mkdirSync(local);
    const fd = openSync(join(local, 'big'), 'w');
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < MB; i++) writeSync(fd, chunk);
    closeSync(fd);
    writeFileSync(join(root, 'big'), readFileSync(join(local, 'big')));
    const kib = randomBytes(1024);
    for (let i = 0; i < FILES; i++) writeFileSync(join(root, 'small', `f${i}`), kib);
    process.stdout.write(`${MB} MiB file, ${FILES} small files, ${ROUNDS} rounds (median); client: OpenSSH sftp -b; sshd runs ${'/usr/lib/openssh/sftp-server'}\n`);
    const ours = await startSshkit(root, dir);
    const ref = await startSshd(dir);
    const clean = () => rmSync(join(local, 'got'), { recursive: true, force: true });
    const bigRounds = Math.max(1, Math.min(ROUNDS, MB >= 512 ? 1 : ROUNDS));
    const get = (port: number) => timeSftp(dir, port, `get ${root}/big ${local}/got\n`, bigRounds, clean);
    const put = (port: number) => timeSftp(dir, port, `put ${local}/big ${root}/up\n`, bigRounds);
    const small = (port: number) => timeSftp(dir, port, `ls -l ${root}/small\nget -r ${root}/small ${local}/got\n`, ROUNDS, clean);
    // the same files: sshd names them by their absolute path, sshkit by their path under its ROOT
    row(`get ${MB} MiB`, timeSftp(dir, ours, `get /big ${local}/got\n`, bigRounds, clean), get(ref), 0.8, MB);
    row(`put ${MB} MiB`, timeSftp(dir, ours, `put ${local}/big /up\n`, bigRounds), put(ref), 0.8, MB);
    row(`${FILES} small files: ls -l + get -r`, timeSftp(dir, ours, `ls -l /small\nget -r /small ${local}/got\n`, ROUNDS, clean), small(ref), 1.0);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') void serve(process.argv[3]!, process.argv[4]!);
else void main();

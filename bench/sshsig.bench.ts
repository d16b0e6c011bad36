/**
 * SSHSIG benchmark, sshkit vs `ssh-keygen -Y` in the same run (medians, ratios):
 *  1. cold start: verify one signature of a small file against allowed_signers;
 *  2. sign and verify a 100 MB file (file read by name for sign, stdin redirected from the file for verify,
 *     as ssh-keygen reads it);
 *  3. peak RSS (GNU time %M) of sign/verify for 10, 100 and 300 MB: flat means streamed.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, row, SSHKIT } from './util.js';

const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-sshsig-'));
const p = (n: string) => join(dir, n);
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;

function run(cmd: string, args: string[], stdinFile?: string): { ms: number; stdout: string } {
  const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env, stdio: [fd, 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, stdout: String(r.stdout) };
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

function timed(rounds: number, cmd: string, args: string[], stdinFile?: string, before?: () => void): number {
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    before?.();
    xs.push(run(cmd, args, stdinFile).ms);
  }
  return median(xs);
}

function makeFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < mb; i++) writeSync(fd, chunk);
  closeSync(fd);
  spawnSync('sync'); // no write-back of the new file while the tools are timed
}

const hasGnuTime = existsSync('/usr/bin/time');
function peakKb(cmd: string, args: string[], stdinFile?: string): number {
  const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, stdio: [fd, 'pipe', 'pipe'] });
    const lines = String(r.stderr).trim().split('\n');
    return Number(lines[lines.length - 1]);
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

try {
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', p('key')]);
  const pub = readFileSync(p('key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(p('allowed'), `bench@example.com ${pub}\n`);
  writeFileSync(p('small'), 'hello\n');
  run('ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('small')]);
  const vArgs = ['-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', p('small.sig')];
  run(process.execPath, [SSHKIT, 'verify-signature', ...vArgs, p('small')]); // warm the page cache
  const coldOurs = timed(15, process.execPath, [SSHKIT, 'verify-signature', ...vArgs], p('small'));
  const coldRef = timed(15, 'ssh-keygen', ['-Y', 'verify', ...vArgs], p('small'));
  row('cold-start verify (small file)', coldOurs, coldRef, 'ssh-keygen');

  makeFile(p('big'), 100);
  const rm = () => rmSync(p('big.sig'), { force: true });
  const signOurs = timed(5, process.execPath, [SSHKIT, 'sign', '-q', '-f', p('key'), '-n', 'file', p('big')], undefined, rm);
  const signRef = timed(5, 'ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('big')], undefined, rm);
  row('sign 100 MB (sha512)', signOurs, signRef, 'ssh-keygen');
  const bArgs = ['-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', p('big.sig')];
  const verOurs = timed(5, process.execPath, [SSHKIT, 'verify-signature', ...bArgs], p('big'));
  const verRef = timed(5, 'ssh-keygen', ['-Y', 'verify', ...bArgs], p('big'));
  row('verify 100 MB (sha512)', verOurs, verRef, 'ssh-keygen');
  row('sign + verify 100 MB', signOurs + verOurs, signRef + verRef, 'ssh-keygen');

  // Where the difference lies: the cost of each further 100 MB (hashing) against the fixed start-up.
  makeFile(p('big3'), 300);
  const rm3 = () => rmSync(p('big3.sig'), { force: true });
  const sign3Ours = timed(3, process.execPath, [SSHKIT, 'sign', '-q', '-f', p('key'), '-n', 'file', p('big3')], undefined, rm3);
  const sign3Ref = timed(3, 'ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('big3')], undefined, rm3);
  const perOurs = (sign3Ours - signOurs) / 2;
  const perRef = (sign3Ref - signRef) / 2;
  row('sign: each further 100 MB (300 vs 100 MB)', perOurs, perRef, 'ssh-keygen');
  process.stdout.write(
    `  fixed part (100 MB time minus one 100 MB step): sshkit ${(signOurs - perOurs).toFixed(0)} ms, ssh-keygen ${(signRef - perRef).toFixed(0)} ms\n`,
  );
  rmSync(p('big3'), { force: true });

  if (hasGnuTime) {
    process.stdout.write('\npeak RSS (MiB)          sshkit sign  sshkit verify   ssh-keygen sign  ssh-keygen verify\n');
    for (const mb of [10, 100, 300]) {
      const f = p(`f${mb}`);
      makeFile(f, mb);
      const s1 = peakKb(process.execPath, [SSHKIT, 'sign', '-q', '--force', '-f', p('key'), '-n', 'file', f]);
      const a = ['-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', `${f}.sig`];
      const v1 = peakKb(process.execPath, [SSHKIT, 'verify-signature', ...a], f);
      rmSync(`${f}.sig`);
      const s2 = peakKb('ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', f]);
      const v2 = peakKb('ssh-keygen', ['-Y', 'verify', ...a], f);
      const mib = (kb: number) => (kb / 1024).toFixed(1).padStart(12);
      process.stdout.write(`${`${mb} MB file`.padEnd(22)}${mib(s1)}${mib(v1)}${mib(s2)}      ${mib(v2)}\n`);
      rmSync(f, { force: true });
      rmSync(`${f}.sig`, { force: true });
    }
  } else {
    process.stdout.write('(no /usr/bin/time: peak RSS not measured)\n');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

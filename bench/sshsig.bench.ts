/**
 * SSHSIG sign/verify of 100 MiB, sshkit vs `ssh-keygen -Y` in one run (issue 14), interleaved rounds,
 * medians, ratios (goal ≤ 1.10×): the file is read by name for sign, from stdin (redirected from the
 * file) for verify, as ssh-keygen reads them. sshkit runs as a program (bin/sshkit: the startup snapshot
 * when built). Beside them the floor: `node -e` hashing as many bytes with Node's SHA-512 and nothing else
 * (on a machine where that is over 1.10× ssh-keygen, no Node program meets the goal). Then memory flat in
 * input size: peak RSS of sign and verify for 10 MiB and 1 GiB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSHKIT } from './util.js';
import { interleaved, load, peakMiB, ratioRow } from './oneshot-util.js';

const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-sshsig-'));
const p = (n: string) => join(dir, n);

/** A Node one-liner: SHA-512 of as many bytes as the file has (1 MiB pieces already in memory: no reading), printing nothing. */
const FLOOR = "const h=require('node:crypto').createHash('sha512'),b=Buffer.alloc(1<<20,1);for(let i=require('node:fs').statSync(process.argv[1]).size>>20;i>0;i--)h.update(b);h.digest()";

function makeFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < mb; i++) writeSync(fd, chunk);
  closeSync(fd);
  spawnSync('sync'); // no write-back of the new file while the tools are timed
}

try {
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', p('key')]);
  const pub = readFileSync(p('key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(p('allowed'), `bench@example.com ${pub}\n`);
  makeFile(p('big'), 100);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  process.stdout.write(`sign/verify 100 MiB (sha512); ${rounds} interleaved rounds, medians; ${load()}\n`);
  const rm = () => rmSync(p('big.sig'), { force: true });
  const vArgs = ['-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', p('big.sig')];
  spawnSync('ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('big')]);
  const m = interleaved(rounds, [
    { name: 'sign', cmd: SSHKIT, args: ['sign', '-q', '-f', p('key'), '-n', 'file', p('big')], before: rm },
    { name: 'sign-ref', cmd: 'ssh-keygen', args: ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('big')], before: rm },
    { name: 'verify', cmd: SSHKIT, args: ['verify-signature', ...vArgs], stdin: p('big') },
    { name: 'verify-ref', cmd: 'ssh-keygen', args: ['-Y', 'verify', ...vArgs], stdin: p('big') },
    { name: 'node', cmd: process.execPath, args: ['-e', '0'] },
    // the floor: Node's own start and its SHA-512 of that many bytes (sshkit reads while it hashes), nothing of sshkit's
    { name: 'floor', cmd: process.execPath, args: ['-e', FLOOR, p('big')] },
  ]);
  ratioRow('sign 100 MiB', m.get('sign')!, m.get('sign-ref')!, 'ssh-keygen', '≤ 1.10x');
  ratioRow('verify 100 MiB', m.get('verify')!, m.get('verify-ref')!, 'ssh-keygen', '≤ 1.10x');
  process.stdout.write(`  (node -e 0 in the same rounds: ${m.get('node')!.toFixed(1)} ms)\n`);
  ratioRow('floor: node -e, sha512 of 100 MiB', m.get('floor')!, m.get('verify-ref')!, 'ssh-keygen', 'none: the least any Node program takes', '  node');
  process.stdout.write(`  (sshkit over the floor: sign ${(m.get('sign')! - m.get('floor')!).toFixed(1)} ms, verify ${(m.get('verify')! - m.get('floor')!).toFixed(1)} ms)\n`);

  process.stdout.write('\npeak RSS (MiB)        sshkit sign  sshkit verify   ssh-keygen sign  ssh-keygen verify\n');
  for (const mb of [10, 1024]) {
    const f = p(`f${mb}`);
    makeFile(f, mb);
    const a = ['-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', `${f}.sig`];
    const s1 = peakMiB(SSHKIT, ['sign', '-q', '--force', '-f', p('key'), '-n', 'file', f]);
    const v1 = peakMiB(SSHKIT, ['verify-signature', ...a], f);
    rmSync(`${f}.sig`);
    const s2 = peakMiB('ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', f]);
    const v2 = peakMiB('ssh-keygen', ['-Y', 'verify', ...a], f);
    const mib = (x: number) => x.toFixed(1).padStart(12);
    process.stdout.write(`${`${mb} MiB file`.padEnd(20)}${mib(s1)}${mib(v1)}${mib(s2)}      ${mib(v2)}\n`);
    rmSync(f, { force: true });
    rmSync(`${f}.sig`, { force: true });
  }
  process.stdout.write(`(${load()} at the end; flat means the 1 GiB row is within a few MiB of the 10 MiB row)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

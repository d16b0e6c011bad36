/**
 * One-shot start-up (issue 14), side by side in one run, interleaved rounds, medians:
 *  - bare Node (`node -e 0`, the floor) and ssh-keygen;
 *  - `sshkit verify-signature` of a 1 KiB file and `sshkit fingerprint one.pub`, each run as a program
 *    (bin/sshkit: the startup snapshot when built, see scripts/build-snapshot.mjs) and on the plain path
 *    (`node bin/sshkit`, what runs without a snapshot);
 *  - `sshkit-keygen -Y verify` of the same (what git runs per signed commit), both paths;
 *  - an empty startup snapshot (its main function does nothing): what any snapshot costs over `node -e 0`,
 *    before a byte of sshkit's heap is read;
 *  - goal: verify-signature of 1 KiB ≤ Node floor + 25 ms.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SSHKIT } from './util.js';

const KEYGEN = join(ROOT, 'bin', 'sshkit-keygen');
import { interleaved, load, ratioRow, snapshotState, type Timed } from './oneshot-util.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 25);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-start-'));
const p = (n: string) => join(dir, n);

try {
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', p('key')]);
  writeFileSync(p('allowed'), `bench@example.com ${readFileSync(p('key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  writeFileSync(p('data'), randomBytes(1024));
  spawnSync('ssh-keygen', ['-Y', 'sign', '-f', p('key'), '-n', 'file', p('data')]);
  const v = ['verify-signature', '-f', p('allowed'), '-I', 'bench@example.com', '-n', 'file', '-s', p('data.sig')];
  const node = process.execPath;
  writeFileSync(p('empty.js'), "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {});\n");
  const empty = spawnSync(node, ['--snapshot-blob', p('empty.blob'), '--build-snapshot', p('empty.js')], { cwd: dir });
  if (empty.status !== 0) throw new Error(`node --build-snapshot of an empty snapshot failed: ${empty.stderr}`);
  const cmds: Timed[] = [
    { name: 'empty', cmd: node, args: ['--snapshot-blob', p('empty.blob')] },
    { name: 'node', cmd: node, args: ['-e', '0'] },
    { name: 'verify', cmd: SSHKIT, args: v, stdin: p('data') },
    { name: 'verify-plain', cmd: node, args: [SSHKIT, ...v], stdin: p('data') },
    { name: 'verify-ref', cmd: 'ssh-keygen', args: ['-Y', 'verify', ...v.slice(1)], stdin: p('data') },
    { name: 'fp', cmd: SSHKIT, args: ['fingerprint', p('key.pub')] },
    { name: 'fp-plain', cmd: node, args: [SSHKIT, 'fingerprint', p('key.pub')] },
    { name: 'fp-ref', cmd: 'ssh-keygen', args: ['-l', '-f', p('key.pub')] },
    { name: 'version', cmd: SSHKIT, args: ['--version'] },
    // what git runs per signed commit it verifies (gpg.ssh.program=sshkit-keygen)
    { name: 'kg-verify', cmd: KEYGEN, args: ['-Y', 'verify', ...v.slice(1)], stdin: p('data') },
    { name: 'kg-verify-plain', cmd: node, args: [KEYGEN, '-Y', 'verify', ...v.slice(1)], stdin: p('data') },
  ];
  process.stdout.write(`startup snapshot: ${snapshotState(ROOT)}; ${ROUNDS} interleaved rounds, medians; ${load()}; NODE_EXTRA_CA_CERTS unset\n`);
  const m = interleaved(ROUNDS, cmds);
  const floor = m.get('node')!;
  const over = (k: string) => `${(m.get(k)! - floor).toFixed(1)} ms over node -e 0`;
  process.stdout.write(`node -e 0 (floor)                        ${floor.toFixed(1)} ms\n`);
  process.stdout.write(`an empty startup snapshot                ${m.get('empty')!.toFixed(1)} ms = ${over('empty')}\n`);
  process.stdout.write(`sshkit --version                         ${m.get('version')!.toFixed(1)} ms = ${over('version')}\n`);
  process.stdout.write(`verify-signature 1 KiB (snapshot)        ${m.get('verify')!.toFixed(1)} ms = ${over('verify')}   (goal ≤ 25 ms over)\n`);
  process.stdout.write(`verify-signature 1 KiB (plain path)      ${m.get('verify-plain')!.toFixed(1)} ms = ${over('verify-plain')}\n`);
  process.stdout.write(`fingerprint one key (snapshot)           ${m.get('fp')!.toFixed(1)} ms = ${over('fp')}\n`);
  process.stdout.write(`fingerprint one key (plain path)         ${m.get('fp-plain')!.toFixed(1)} ms = ${over('fp-plain')}\n`);
  process.stdout.write(`sshkit-keygen -Y verify (snapshot)       ${m.get('kg-verify')!.toFixed(1)} ms = ${over('kg-verify')}\n`);
  process.stdout.write(`sshkit-keygen -Y verify (plain path)     ${m.get('kg-verify-plain')!.toFixed(1)} ms = ${over('kg-verify-plain')}\n`);
  ratioRow('verify-signature 1 KiB vs ssh-keygen', m.get('verify')!, m.get('verify-ref')!, 'ssh-keygen', 'none; Node alone is the floor');
  ratioRow('fingerprint one key vs ssh-keygen', m.get('fp')!, m.get('fp-ref')!, 'ssh-keygen', 'none; Node alone is the floor');
  process.stdout.write(`(${load()} at the end)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

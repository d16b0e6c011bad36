/**
 * `sshkit fingerprint` vs `ssh-keygen -l -f` in one run (issue 14), interleaved rounds, medians:
 *  - an authorized_keys file of 100,000 mixed keys (ed25519, ecdsa p256, rsa 2048 with an option — a
 *    third each); goal ≤ 0.25× ssh-keygen's time;
 *  - memory flat in input size: peak RSS of 10,000 keys vs 1,000,000 (the 100,000 lines ten times).
 * Start-up figures (one key, --version, node -e 0) are in startup.bench.ts.
 */
import { generateKeyPairSync, createECDH, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSHKIT } from './util.js';
import { interleaved, load, peakMiB, ratioRow } from './oneshot-util.js';
import { WireWriter } from '../src/core/wire.js';

const N = Number(process.env.BENCH_KEYS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-fp-'));

function ed25519Line(i: number): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const blob = new WireWriter().string('ssh-ed25519').string(der.subarray(-32)).toBuffer();
  return `ssh-ed25519 ${blob.toString('base64')} ed${i}@bench`;
}

function ecdsaLine(i: number): string {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const blob = new WireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(ecdh.getPublicKey()).toBuffer();
  return `ecdsa-sha2-nistp256 ${blob.toString('base64')} ec${i}@bench`;
}

function rsaLine(i: number): string {
  // ssh-keygen -l parses but does not factor the modulus: a random odd 2048-bit number is a valid key
  const n = randomBytes(256);
  n[0] |= 0x80;
  n[255] |= 1;
  const blob = new WireWriter().string('ssh-rsa').mpint(Buffer.from([1, 0, 1])).mpint(n).toBuffer();
  return `from="10.0.0.0/8" ssh-rsa ${blob.toString('base64')} rsa${i}@bench`;
}

try {
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(i % 3 === 0 ? ed25519Line(i) : i % 3 === 1 ? ecdsaLine(i) : rsaLine(i));
  const big = join(dir, 'authorized_keys');
  writeFileSync(big, lines.join('\n') + '\n');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  process.stdout.write(`keys: ${N} mixed (ed25519, ecdsa-p256, rsa-2048); ${rounds} interleaved rounds, medians; ${load()}\n`);
  const m = interleaved(rounds, [
    { name: 'sshkit', cmd: SSHKIT, args: ['fingerprint', big] },
    { name: 'ssh-keygen', cmd: 'ssh-keygen', args: ['-l', '-f', big] },
  ]);
  const ours = m.get('sshkit')!;
  const ref = m.get('ssh-keygen')!;
  ratioRow(`fingerprint ${N} keys`, ours, ref, 'ssh-keygen', '≤ 0.25x');
  process.stdout.write(`  throughput: sshkit ${Math.round(N / (ours / 1000))} keys/s, ssh-keygen ${Math.round(N / (ref / 1000))} keys/s\n`);

  // memory flat in input size: 10,000 keys against 1,000,000 (the same lines ten times)
  const small = join(dir, 'small');
  writeFileSync(small, lines.slice(0, 10_000).join('\n') + '\n');
  const huge = join(dir, 'huge');
  writeFileSync(huge, '');
  for (let k = 0; k < Math.ceil(1_000_000 / N); k++) appendFileSync(huge, lines.join('\n') + '\n');
  const lo = peakMiB(SSHKIT, ['fingerprint', small]);
  const hi = peakMiB(SSHKIT, ['fingerprint', huge]);
  process.stdout.write(`peak RSS: fingerprint 10,000 keys ${lo.toFixed(1)} MiB, ${Math.ceil(1_000_000 / N) * N} keys ${hi.toFixed(1)} MiB (ratio ${(hi / lo).toFixed(2)}: flat is ≈ 1)\n`);
  process.stdout.write(`(${load()} at the end)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Issue 11 "certify 1,000 keys in one call": `sshkit certify -s CA -I … PUB×1000` next to
 * `ssh-keygen -s CA -I … PUB×1000` on the same public keys (mixed ed25519, ecdsa p256, rsa 2048 subjects;
 * an ed25519 CA and an rsa-sha2-512 CA), each writing 1,000 KEY-cert.pub files. `BENCH_CERT_KEYS`
 * changes the count. Subject keys are made with Node's crypto (their certificates need no private key).
 */
import { spawnSync } from 'node:child_process';
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { row, SSHKIT, timeCommand } from './util.js';
import { WireWriter } from '../src/core/wire.js';

const N = Number(process.env.BENCH_CERT_KEYS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-certify-'));

function subjectLine(i: number): string {
  if (i % 3 === 0) {
    const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    return `ssh-ed25519 ${new WireWriter().string('ssh-ed25519').string(der.subarray(-32)).toBuffer().toString('base64')} ed${i}`;
  }
  if (i % 3 === 1) {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const blob = new WireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(ecdh.getPublicKey()).toBuffer();
    return `ecdsa-sha2-nistp256 ${blob.toString('base64')} ec${i}`;
  }
  const n = randomBytes(256); // a certified RSA key is copied, never factored: any odd 2048-bit modulus does
  n[0] |= 0x80;
  n[255] |= 1;
  return `ssh-rsa ${new WireWriter().string('ssh-rsa').mpint(Buffer.from([1, 0, 1])).mpint(n).toBuffer().toString('base64')} rsa${i}`;
}

/** Removes the -cert.pub files of the last round so the next one writes them afresh. */
function clean(folder: string): void {
  for (const f of readdirSync(folder)) if (f.endsWith('-cert.pub')) unlinkSync(join(folder, f));
}

try {
  const pubs: string[] = [];
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir);
  for (let i = 0; i < N; i++) {
    const p = join(keysDir, `k${i}.pub`);
    writeFileSync(p, subjectLine(i) + '\n');
    pubs.push(p);
  }
  process.stdout.write(`subjects: ${N} public keys (ed25519, ecdsa-p256, rsa-2048 mixed); median of ${ROUNDS}; each round writes ${N} files\n`);
  for (const [label, args] of [
    ['ed25519', ['-t', 'ed25519']],
    ['rsa 3072 (rsa-sha2-512)', ['-t', 'rsa', '-b', '3072']],
  ] as const) {
    const ca = join(dir, `ca_${args[1]}`);
    const g = spawnSync('ssh-keygen', ['-q', ...args, '-N', '', '-f', ca]);
    if (g.status !== 0) throw new Error(`ssh-keygen: ${g.stderr}`);
    const flags = ['-I', 'bench', '-n', 'alice,bob', '-V', '+52w', '-z', '+1'];
    const times = (cmd: string, argv: string[]) => {
      const ts: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        clean(keysDir);
        ts.push(timeCommand(cmd, argv, 1));
      }
      return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
    };
    const ours = times(process.execPath, [SSHKIT, 'certify', '-q', '-s', ca, ...flags, ...pubs]);
    const ref = times('ssh-keygen', ['-q', '-s', ca, ...flags, ...pubs]);
    row(`certify ${N} keys, ${label} CA`, ours, ref, 'ssh-keygen');
    process.stdout.write(`  per key: sshkit ${((ours / N) * 1000).toFixed(0)} µs, ssh-keygen ${((ref / N) * 1000).toFixed(0)} µs\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Foundation benchmarks, side by side with OpenSSH in one run:
 *  - `sshkit fingerprint` vs `ssh-keygen -l -f` over an authorized_keys file of 100,000 mixed keys
 *    (ed25519, ecdsa p256, rsa 2048 — a third each);
 *  - start-up: `sshkit --version` and fingerprinting one key, next to bare `node -e 0` and ssh-keygen.
 */
import { generateKeyPairSync, createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { row, SSHKIT, timeCommand } from './util.js';
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
  const one = join(dir, 'one.pub');
  writeFileSync(one, lines[0] + '\n');

  const node = process.execPath;
  process.stdout.write(`keys: ${N} mixed (ed25519, ecdsa-p256, rsa-2048); medians; NODE_EXTRA_CA_CERTS unset\n`);
  const oursBig = timeCommand(node, [SSHKIT, 'fingerprint', big], 5);
  const refBig = timeCommand('ssh-keygen', ['-l', '-f', big], 5);
  row(`fingerprint ${N} keys`, oursBig, refBig, 'ssh-keygen');
  process.stdout.write(`  throughput: sshkit ${Math.round(N / (oursBig / 1000))} keys/s, ssh-keygen ${Math.round(N / (refBig / 1000))} keys/s\n`);

  const bare = timeCommand(node, ['-e', '0'], 20);
  const version = timeCommand(node, [SSHKIT, '--version'], 20);
  const oursOne = timeCommand(node, [SSHKIT, 'fingerprint', one], 20);
  const refOne = timeCommand('ssh-keygen', ['-l', '-f', one], 20);
  row('sshkit --version vs node -e 0', version, bare, 'node -e 0');
  row('fingerprint one key', oursOne, refOne, 'ssh-keygen');
  process.stdout.write(`  (node -e 0 floor: ${bare.toFixed(1)} ms; fingerprint one key costs ${(oursOne - bare).toFixed(1)} ms above it)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * KRL scale (issue 11), side by side with ssh-keygen in one run:
 *  - write: `sshkit krl` vs `ssh-keygen -k` from one spec of 1,000,000 serials (random, about half of
 *    1..2,000,000, so list/range/bitmap all occur) and 100,000 ed25519 keys; target under 2 s;
 *  - check: the per-key check serve runs at every login (core Krl.isRevoked, after one parse) for
 *    certificates by serial and plain keys, on that KRL and on one 100 times smaller: O(log n) means
 *    the two per-check times stay close (target under 0.1 ms); `ssh-keygen -Q` on one key for scale.
 * BENCH_KRL_SCALE (default 1) divides the sizes for a quick look.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { row, SSHKIT, timeCommand } from './util.js';
import { WireReader, WireWriter } from '../src/core/wire.js';
import { parseKrl } from '../src/core/krl-parse.js';

const scale = Math.max(1, Number(process.env.BENCH_KRL_SCALE ?? '1') || 1);
const SERIALS = Math.floor(1_000_000 / scale);
const KEYS = Math.floor(100_000 / scale);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-krl-'));

function keygen(args: string[]): void {
  const r = spawnSync('ssh-keygen', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
}

function ed25519Blob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  return new WireWriter().string('ssh-ed25519').string(der.subarray(-32)).toBuffer();
}

/** The certificate blob with its serial replaced (the CA signature no longer holds; the check does not verify it). */
function withSerial(cert: Buffer, serial: bigint): Buffer {
  const r = new WireReader(cert);
  r.string(); // type
  r.string(); // nonce
  r.string(); // ed25519 key
  const at = cert.length - r.remaining;
  const out = Buffer.from(cert);
  out.writeBigUInt64BE(serial, at);
  return out;
}

/** Median µs per isRevoked call over `blobs`, after parsing `path` once. */
function perCheck(path: string, blobs: Buffer[]): { us: number; revoked: number } {
  const krl = parseKrl(readFileSync(path));
  let revoked = 0;
  const rounds: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    for (const b of blobs) if (krl.isRevoked(b)) revoked++;
    rounds.push(Number(process.hrtime.bigint() - t0) / 1e3 / blobs.length);
  }
  rounds.sort((a, b) => a - b);
  return { us: rounds[2], revoked: revoked / 5 };
}

try {
  keygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'user')]);
  keygen(['-q', '-s', join(dir, 'ca'), '-I', 'bench', '-z', '1', join(dir, 'user.pub')]);
  const cert = Buffer.from(readFileSync(join(dir, 'user-cert.pub'), 'utf8').split(' ')[1], 'base64');

  const spec = (serials: number, keys: number) => {
    const lines: string[] = [];
    for (let s = 1; lines.length < serials; s++) if (Math.random() < 0.5) lines.push(`serial: ${s}`);
    const blobs: Buffer[] = [];
    for (let i = 0; i < keys; i++) {
      const b = ed25519Blob();
      blobs.push(b);
      lines.push(`ssh-ed25519 ${b.toString('base64')}`);
    }
    return { text: lines.join('\n') + '\n', blobs, top: Number(lines[serials - 1].slice(8)) };
  };
  const big = spec(SERIALS, KEYS);
  const small = spec(Math.floor(SERIALS / 100), Math.floor(KEYS / 100));
  writeFileSync(join(dir, 'big.spec'), big.text);
  writeFileSync(join(dir, 'small.spec'), small.text);
  const ca = join(dir, 'ca.pub');
  process.stdout.write(`KRL: ${SERIALS} serials (random, ≈ half of 1..${big.top}) + ${KEYS} ed25519 keys; medians of 3\n`);

  const node = process.execPath;
  const ours = timeCommand(node, [SSHKIT, 'krl', '-q', '--force', '-f', join(dir, 'big.sshkit.krl'), '-s', ca, join(dir, 'big.spec')], 3);
  const ref = timeCommand('ssh-keygen', ['-q', '-k', '-f', join(dir, 'big.keygen.krl'), '-s', ca, join(dir, 'big.spec')], 3);
  row(`krl write (${SERIALS} serials, ${KEYS} keys)`, ours, ref, 'ssh-keygen -k');
  process.stdout.write(`  target < 2000 ms: ${ours < 2000 ? 'met' : 'NOT met'}\n`);
  timeCommand(node, [SSHKIT, 'krl', '-q', '-f', join(dir, 'small.krl'), '-s', ca, join(dir, 'small.spec')], 1);

  const probes = (top: number, blobs: Buffer[]) => [
    ...Array.from({ length: 5000 }, () => withSerial(cert, BigInt(1 + Math.floor(Math.random() * top)))),
    ...blobs.slice(0, 2500),
    ...Array.from({ length: 2500 }, () => ed25519Blob()),
  ];
  const b = perCheck(join(dir, 'big.sshkit.krl'), probes(big.top, big.blobs));
  const s = perCheck(join(dir, 'small.krl'), probes(small.top, small.blobs));
  process.stdout.write(`per-key check (serve's per-login revocation check), 10,000 probes (half certs by serial, half keys):\n`);
  process.stdout.write(`  big KRL   ${b.us.toFixed(2).padStart(7)} µs/check (${b.revoked} revoked)\n`);
  process.stdout.write(`  small KRL ${s.us.toFixed(2).padStart(7)} µs/check (${s.revoked} revoked); big/small ${(b.us / s.us).toFixed(2)}x for 100x the entries\n`);
  process.stdout.write(`  target < 100 µs: ${b.us < 100 ? 'met' : 'NOT met'}\n`);
  const q = timeCommand('ssh-keygen', ['-Q', '-f', join(dir, 'big.sshkit.krl'), join(dir, 'user.pub')], 3);
  const oq = timeCommand(node, [SSHKIT, 'krl', '--check', '-f', join(dir, 'big.sshkit.krl'), join(dir, 'user.pub')], 3);
  row('krl --check one key (load + check)', oq, q, 'ssh-keygen -Q');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

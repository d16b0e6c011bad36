/**
 * `sshkit audit` over an inventory of 100,000 keys in 1,000 files (issue 16's target: under 2 s):
 * 700 authorized_keys (options on a third of the lines), 200 known_hosts, 100 allowed_signers, each of
 * 100 distinct keys (ed25519, rsa-3072, ecdsa-p256), so the audit walks, parses, checks every key and
 * looks for duplicates but has nothing to report (exit 0). Next to it, `ssh-keygen -l -f` over one of
 * the files, for scale. BENCH_AUDIT_FILES and BENCH_AUDIT_PER_FILE shrink it for a quick check.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SSHKIT, timeCommand } from './util.js';
import { WireWriter } from '../src/core/wire.js';

const FILES = Number(process.env.BENCH_AUDIT_FILES ?? 1000);
const PER_FILE = Number(process.env.BENCH_AUDIT_PER_FILE ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-audit-'));

function ed25519(): string {
  return 'ssh-ed25519 ' + new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer().toString('base64');
}

function rsa3072(): string {
  // a random odd 3072-bit modulus: parsed and sized like a real key (nothing factors it)
  const n = randomBytes(384);
  n[0] |= 0x80;
  n[383] |= 1;
  return 'ssh-rsa ' + new WireWriter().string('ssh-rsa').mpint(Buffer.from([1, 0, 1])).mpint(n).toBuffer().toString('base64');
}

function ecdsa(): string {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const blob = new WireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(ecdh.getPublicKey()).toBuffer();
  return 'ecdsa-sha2-nistp256 ' + blob.toString('base64');
}

function key(i: number): string {
  return i % 3 === 0 ? ed25519() : i % 3 === 1 ? rsa3072() : ecdsa();
}

try {
  let first = '';
  for (let f = 0; f < FILES; f++) {
    const home = join(dir, `host${String(f).padStart(4, '0')}`, '.ssh');
    mkdirSync(home, { recursive: true, mode: 0o755 });
    const lines: string[] = [];
    const kind = f % 10 < 7 ? 'authorized_keys' : f % 10 < 9 ? 'known_hosts' : 'allowed_signers';
    for (let i = 0; i < PER_FILE; i++) {
      const k = key(f * PER_FILE + i);
      if (kind === 'authorized_keys') lines.push(i % 3 === 0 ? `from="10.0.0.0/8",no-pty ${k} u${i}@bench` : `${k} u${i}@bench`);
      else if (kind === 'known_hosts') lines.push(`host${f}-${i}.example.com,10.${f % 256}.${i % 256}.1 ${k}`);
      else lines.push(`u${i}@example.com namespaces="git" ${k}`);
    }
    const file = join(home, kind);
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o644 });
    if (!first) first = file;
  }
  const keys = FILES * PER_FILE;
  process.stdout.write(`inventory: ${keys} keys in ${FILES} files (authorized_keys, known_hosts, allowed_signers); medians of 3\n`);
  const ours = timeCommand(process.execPath, [SSHKIT, 'audit', '--json', dir], 3);
  process.stdout.write(`audit ${keys} keys / ${FILES} files`.padEnd(44) + ` sshkit ${ours.toFixed(1).padStart(8)} ms   target 2000 ms${ours <= 2000 ? '' : ' (MISSED)'}\n`);
  const ref = timeCommand('ssh-keygen', ['-l', '-f', first], 3);
  process.stdout.write(`  for scale: ssh-keygen -l -f over one file of ${PER_FILE} keys: ${ref.toFixed(1)} ms\n`);
  process.stdout.write(`  throughput: ${Math.round(keys / (ours / 1000))} keys/s\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

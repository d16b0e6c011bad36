/**
 * `sshkit exec` vs OpenSSH `ssh` against the same local OpenSSH sshd (test/sshd-helper.ts), in the same
 * run: one `HOST true` at a time (whole process: Node start + ssh2 load + connect + kex + auth + exec),
 * then 50 connections — one `sshkit exec --hosts FILE --parallel P` process against 50 `ssh` processes
 * run P at a time. Prints medians and ratios; the server's cost is in both columns.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, row, SSHKIT, timeCommand } from './util.js';
import { startSshd } from '../test/sshd-helper.js';

const CONNECTIONS = 50;
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.NODE_EXTRA_CA_CERTS;
delete env.SSH_AUTH_SOCK;

/** Runs `jobs` commands, `parallel` at a time; resolves with the wall time in ms. */
async function pool(jobs: [string, string[]][], parallel: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [cmd, args] = jobs[next++];
      await new Promise<void>((resolve, reject) => {
        const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        c.stderr.on('data', (d) => (err += d));
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sshkit-bench-exec-'));
  const key = join(dir, 'id_ed25519');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  const sshd = await startSshd({ authorizedKeys: [readFileSync(`${key}.pub`, 'utf8')] });
  try {
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    const dest = `${sshd.user}@127.0.0.1`;
    const ours: [string, string[]] = [process.execPath, [SSHKIT, 'exec', '-i', key, '-p', String(sshd.port), '--known-hosts', kh, dest, '--', 'true']];
    const sshArgs = ['-F', '/dev/null', '-i', key, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${kh}`, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', dest, 'true'];
    const theirs: [string, string[]] = ['ssh', sshArgs];
    process.stdout.write(`sshd ${sshd.port} (OpenSSH sshd, ed25519 host key), client key ed25519; NODE_EXTRA_CA_CERTS unset\n`);

    // Warm up both (page cache, sshd's first fork).
    timeCommand(...ours, 2);
    timeCommand(...theirs, 2);
    const rounds = 11;
    row(`HOST true, one at a time (median of ${rounds})`, timeCommand(...ours, rounds), timeCommand(...theirs, rounds), 'ssh');

    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, `127.0.0.1:${sshd.port}\n`.repeat(CONNECTIONS));
    for (const parallel of [1, 10]) {
      const many: [string, string[]] = [process.execPath, [SSHKIT, 'exec', '-i', key, '--known-hosts', kh, '--hosts', hosts, '--parallel', String(parallel), '--', 'true']];
      const sshJobs = Array.from({ length: CONNECTIONS }, () => theirs);
      const r = parallel === 1 ? 1 : 3;
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < r; i++) {
        a.push(timeCommand(...many, 1));
        b.push(await pool(sshJobs, parallel));
      }
      row(`${CONNECTIONS} connections, --parallel ${parallel} (${r} round${r > 1 ? 's' : ''})`, median(a), median(b), 'ssh×50');
      process.stdout.write(`${''.padEnd(44)} → sshkit ${((CONNECTIONS * 1000) / median(a)).toFixed(1)} conn/s, ssh ${((CONNECTIONS * 1000) / median(b)).toFixed(1)} conn/s\n`);
    }
  } finally {
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`exec bench failed: ${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
});

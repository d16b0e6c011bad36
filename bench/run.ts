/**
 * `npm run bench`: runs every bench/*.bench.js (compiled) in turn, each comparing sshkit with the
 * OpenSSH tool for the same job in the same run and printing ratios. `npm run bench -- NAME` runs the
 * benchmarks whose file name contains NAME. NODE_EXTRA_CA_CERTS is removed from the children's
 * environment: it adds ≈40 ms to every Node start (../shared/PERF.md) and is not a user's setting.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((n) => f.includes(n)))
  .sort();
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f.replace(/\.bench\.js$/, '')} ===\n`);
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: 'inherit', env });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`(${f} exited ${r.status})\n`);
  }
}
process.exitCode = failed ? 1 : 0;

/**
 * `sshkit audit PATH... [--json | --sarif] [--fail-on error|warning|never] [--revoked FILE]
 * [--expiring-within DAYS]` — a CI gate over SSH key material (issue 16). Exit 0 when nothing is at or
 * above `--fail-on`, 1 when something is, 2 for bad input (a missing PATH, an unreadable --revoked).
 * authorized_keys files are judged by sshd's StrictModes through server/safe-path.ts, the server's own check.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { availableParallelism } from 'node:os';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  paths: string[];
  sarif?: boolean;
  failOn: 'error' | 'warning' | 'never';
  revoked?: string;
  expiringWithin: number;
}

async function run(argv: Args): Promise<void> {
  const { Exit, bad } = await import('../core/errors.js');
  const { Output, requestStatus } = await import('../output.js');
  const { readInput } = await import('../input.js');
  const { runAudit, failsAt, revocationCheck } = await import('../core/audit.js');
  const report = await import('../core/audit-report.js');
  const { unsafePathReason } = await import('../server/safe-path.js');
  if (!Number.isFinite(argv.expiringWithin) || argv.expiringWithin < 0) throw bad('audit: --expiring-within must be a number of days ≥ 0');
  let revoked: { data: Buffer; name: string } | undefined;
  if (argv.revoked !== undefined) {
    revoked = { data: await readInput(argv.revoked), name: argv.revoked };
    revocationCheck(revoked.data, revoked.name); // bad input before any work: exit 2
  }
  // Worker threads pay only with cores to spare: each re-warms the parser's JIT and sends its listings
  // back (measured: +50% CPU with 2 workers), so below 4 cores the audit stays on one thread.
  // SSHKIT_AUDIT_JOBS=N forces N threads (1: none), even for small inventories.
  const forced = Number(process.env.SSHKIT_AUDIT_JOBS);
  const cores = availableParallelism();
  const jobs = Number.isInteger(forced) && forced >= 1 ? forced : cores >= 4 ? Math.min(4, cores) : 1;
  const result = await runAudit(argv.paths, {
    now: Date.now() / 1000,
    expiringWithin: argv.expiringWithin * 86400,
    revoked,
    jobs,
    parallelFrom: Number.isInteger(forced) && forced >= 1 ? 1 : 64,
    // StrictModes trusts root and the account the file belongs to (here: the file's owner), and the
    // walk goes up to / (the owner's home is not looked up: folders above it are judged too)
    pathCheck: (path, st) => unsafePathReason(path, st, { uid: Number(st.uid) }),
  });
  const failed = failsAt(result.findings, argv.failOn);
  const out = new Output(argv);
  if (argv.sarif) {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    out.data(report.sarifReport(result, pkg.version as string));
  } else if (out.json) {
    out.data(report.jsonReport(result, argv.failOn, failed));
  } else {
    const c = await out.colors();
    const painter = c
      ? { severity: (s: string, t: string) => (s === 'error' ? c.red.bold(t) : s === 'warning' ? c.yellow(t) : c.cyan(t)), file: (t: string) => c.bold(t) }
      : undefined;
    out.stdout.write(report.textReport(result, painter));
  }
  if (failed) requestStatus(Exit.NO);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'audit <paths..>',
  describe: 'Audit SSH key material (authorized_keys, known_hosts, allowed_signers, keys, certificates) for CI',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'Files or folders (walked)' })
      .option('sarif', { type: 'boolean', conflicts: 'json', describe: 'SARIF 2.1.0 log on stdout (for code scanning)' })
      .option('fail-on', { type: 'string', choices: ['error', 'warning', 'never'], default: 'error', describe: 'Exit 1 when a finding is at or above this severity' })
      .option('revoked', { type: 'string', requiresArg: true, describe: 'Revoked keys (one public key per line) that must not be trusted' })
      .option('expiring-within', { type: 'number', default: 30, requiresArg: true, describe: 'Warn of expiry within DAYS (0: off)' }) as unknown as Argv<Args>,
  handler: async (argv: ArgumentsCamelCase<Args>) => run(argv),
};
export default command;

/**
 * sshkit's root: yargs (loaded lazily so `--version` costs only Node's own start), one catch that turns
 * every error into one `sshkit: …` line and the exit status of SPEC.md; the only place that exits.
 * Importing it runs nothing (issue 15): bin/sshkit calls {@link main}.
 */
import { readFileSync } from 'node:fs';
import { SshkitError, Exit } from './core/errors.js';
import { requestedStatus } from './output.js';
import type { CommandModule } from 'yargs';

/** Subcommands, each a thin yargs CommandModule in src/commands/<name>.ts (the startup snapshot loads them all). */
export const COMMANDS = [
  'keygen', 'fingerprint', 'sign', 'verify-signature', 'find-principals', 'serve', 'passwd', 'exec',
  'certify', 'inspect', 'krl', 'audit', 'passphrase', 'comment', 'known-hosts', 'export', 'import',
];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return pkg.version as string;
}

/**
 * The exit policy, per command, in one place (SPEC "Exit status"; issue 10 item 9). `exec` exits 255
 * for every failure of its own — usage errors from yargs, bad input, internal errors — as ssh(1)
 * does, so none can pass for the remote command's status; the other commands keep each error's code.
 */
const OWN_FAILURE = new Map<string, number>([['exec', Exit.CONN]]);

/** The subcommand named on the command line: the first word that is not an option (global options take no value). */
function commandOf(args: string[]): string | undefined {
  for (const a of args) {
    if (a === '--') return undefined;
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The status a failure of ours exits with: the command's own-failure status, else `status`. */
function failureStatus(args: string[], status: number): number {
  return OWN_FAILURE.get(commandOf(args) ?? '') ?? status;
}

function report(err: unknown): number {
  if (err instanceof SshkitError) {
    process.stderr.write(`sshkit: ${err.message}\n`);
    if (process.env.SSHKIT_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return err.status;
  }
  const e = err as Error;
  process.stderr.write(`sshkit: internal error: ${e && e.message ? e.message : String(err)}\n`);
  if (process.env.SSHKIT_DEBUG && e && e.stack) process.stderr.write(e.stack + '\n');
  return Exit.BAD;
}

/** yargs 17's `yargs/yargs` factory (its CommonJS build). */
export type YargsFactory = typeof import('yargs').default;

/**
 * yargs 17 lays out the invoked command's whole --help text right after starting its handler
 * (command.ts handleValidationAndGetResult → usage.cacheHelpMessage), only so that a later
 * `showHelp()` could print it: ≈10 ms of every run (cliui, string widths) for text nobody sees, since
 * no handler of ours calls showHelp and our `.fail()` never prints help. --help itself lays the text out
 * afresh (usage.help), so its output does not change (test/startup-snapshot.test.ts compares it).
 */
function skipHelpCache(parser: object): void {
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** A yargs parser configured for sshkit, with `modules`' commands (yargs 17's Argv). */
type Parser = ReturnType<YargsFactory>;

/**
 * sshkit's yargs configuration, for the commands of `modules`; what depends on the run (the terminal's
 * width, certify's -h) is set in {@link run}. The startup snapshot makes one with every command while
 * it is built ({@link prepareParser}), so a run there only parses.
 */
function configure(yargs: YargsFactory, modules: { default: CommandModule }[]): Parser {
  const parser = yargs()
    .scriptName('sshkit')
    .usage('$0 <command> [options]')
    .option('json', { type: 'boolean', describe: 'Machine-readable output (one JSON document on stdout)' })
    .option('color', { type: 'boolean', describe: 'Colour on a TTY (--no-color to disable; NO_COLOR is honoured)' })
    .strict()
    .demandCommand(1, 'a command is required (see --help)')
    .recommendCommands()
    // yargs' own bash/zsh completion script (`sshkit completion >> ~/.bashrc`), issue 15
    .completion('completion', 'Print a bash/zsh completion script for sshkit')
    .version(version())
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are usage errors; anything else is the handler's own error.
      if (err && err.name !== 'YError') throw err;
      throw new SshkitError(Exit.BAD, (msg ?? err?.message ?? 'usage error').replace(/\s*\n\s*/g, ' '));
    });
  // getopt's rule: a repeated single-valued option's last value wins (no arrays of passphrases or paths)
  parser.middleware((argv) => {
    const o = (parser as unknown as { getOptions(): { array: string[]; string: string[]; number: string[] } }).getOptions();
    const arrays = new Set(o.array);
    for (const key of [...o.string, ...o.number]) {
      const value = argv[key];
      if (Array.isArray(value) && !arrays.has(key)) argv[key] = value[value.length - 1];
    }
  }, true);
  skipHelpCache(parser);
  for (const mod of modules) parser.command(mod.default);
  return parser;
}

let prepared: Parser | null = null;

/** The startup snapshot's build: a parser with every command, kept in the heap for the one run it serves. */
export async function prepareParser(yargs: YargsFactory): Promise<void> {
  prepared = configure(yargs, await Promise.all(COMMANDS.map((name) => import(`./commands/${name}.js`))));
}

async function run(args: string[], bundled?: YargsFactory): Promise<number> {
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(version() + '\n');
    return Exit.OK;
  }
  let parser = prepared;
  prepared = null; // a parser serves one parse
  if (!parser) {
    // yargs 17's CommonJS build loads in ≈15 ms; the ESM entry of yargs 18 costs ≈90 ms on Node 20.
    // The startup snapshot (scripts/build-snapshot.mjs) hands in the copy already loaded in it.
    const yargs = bundled ?? ((await import('node:module')).createRequire(import.meta.url)('yargs/yargs') as YargsFactory);
    // Only the invoked command's module is loaded (startup cost); all of them for --help or a typo.
    const wanted = COMMANDS.includes(args[0]) ? [args[0]] : COMMANDS;
    parser = configure(yargs, await Promise.all(wanted.map((name) => import(`./commands/${name}.js`))));
  }
  parser.wrap(Math.min(100, process.stdout.columns || 100));
  // `certify -h` is ssh-keygen -s's host-certificate flag, so there -h is not --help
  if (args.find((a) => !a.startsWith('-')) !== 'certify') parser.alias('help', 'h');
  await parser.parseAsync(args);
  return requestedStatus();
}

/**
 * Runs the command line `args` (without `node sshkit`) and sets `process.exitCode`; the promise
 * resolves to that status. Called by bin/sshkit (plain path) and by the startup snapshot's main
 * function (scripts/snapshot-entry.mjs), which passes its bundled `yargs`; nothing here runs on import.
 */
export async function main(args: string[] = process.argv.slice(2), yargs?: YargsFactory): Promise<number> {
  // A reader that went away (`sshkit fingerprint big | head -1`) ends us quietly, as SIGPIPE ends ssh-keygen.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`sshkit: stdout: ${err.message}\n`);
    process.exit(failureStatus(args, Exit.BAD));
  });
  let status: number;
  try {
    status = await run(args, yargs);
  } catch (err) {
    status = failureStatus(args, report(err));
  }
  process.exitCode = status;
  return status;
}


/**
 * `sshkit exec [-i KEY] [-p PORT] [-l USER] [-o StrictHostKeyChecking=yes|accept-new|no]
 * [--known-hosts FILE] [--host-fingerprint SHA256:…] [--connect-timeout S] [-t] USER@HOST -- COMMAND...`
 * and `sshkit exec --hosts FILE [--parallel N] -- COMMAND...` (SPEC "sshkit exec"). Runs the command,
 * streams stdin/stdout/stderr, exits with the remote status (128+n for signal n); exec's own failures,
 * bad input included, exit 255 with one line, so they never pass for the command's status.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  destination?: string;
  command?: string[];
  identity?: string[];
  port?: number;
  login?: string;
  option?: string[];
  knownHosts?: string[];
  hostFingerprint?: string[];
  revokedHostKeys?: string;
  connectTimeout?: number;
  tty: boolean;
  passphraseFile?: string;
  hosts?: string;
  parallel: number;
}

/** The words after the first `--` exactly as typed (yargs would turn `010` into 10), else the positionals. */
function commandWords(argv: ArgumentsCamelCase<Args>): string[] {
  const raw = process.argv.slice(2);
  const dash = raw.indexOf('--');
  const words = [...(argv.hosts && argv.destination ? [argv.destination] : []), ...(argv.command ?? []).map(String)];
  return dash >= 0 ? [...words, ...raw.slice(dash + 1)] : words;
}

function expandHome(path: string, home: string): string {
  return path === '~' ? home : path.startsWith('~/') ? home + path.slice(1) : path;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { homedir, userInfo } = await import('node:os');
  const { join } = await import('node:path');
  const { readFileSync } = await import('node:fs');
  const { Output, requestStatus } = await import('../output.js');
  const { execError, HostKeyPolicy } = await import('../client/host-keys.js');
  const { loadIdentities } = await import('../client/identities.js');
  const { parseHostsFile, parseSshOptions, parseTarget } = await import('../client/target.js');
  const { execRemote } = await import('../client/exec.js');
  const out = new Output(argv);
  const warn = (line: string) => out.warn(line);
  const home = homedir();

  const words = commandWords(argv);
  if (words.length === 0) throw execError('a command to run is required (sshkit exec USER@HOST -- COMMAND...)');
  const o = parseSshOptions(argv.option ?? []);
  if (argv.connectTimeout !== undefined && !(argv.connectTimeout > 0)) throw execError('--connect-timeout: a positive number of seconds is required');
  if (!(Number.isInteger(argv.parallel) && argv.parallel >= 1)) throw execError('--parallel: a positive integer is required');
  const flags = { user: argv.login ?? o.user, port: argv.port ?? o.port, defaultUser: userInfo().username };
  if (flags.port !== undefined && !(Number.isInteger(flags.port) && flags.port >= 1 && flags.port <= 65535)) throw execError(`-p: bad port ${flags.port}`);

  let targets;
  if (argv.hosts !== undefined) {
    let text: string;
    try {
      text = readFileSync(argv.hosts === '-' ? 0 : argv.hosts, 'utf8');
    } catch (err) {
      throw execError(`${argv.hosts}: cannot read the hosts file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    targets = parseHostsFile(text, argv.hosts, flags);
  } else {
    if (!argv.destination) throw execError('a destination is required (USER@HOST, or --hosts FILE)');
    targets = [parseTarget(argv.destination, flags)];
  }

  const knownHosts = argv.knownHosts?.length
    ? argv.knownHosts
    : o.knownHostsFile
      ? [o.knownHostsFile]
      : [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const policy = HostKeyPolicy.load({
    mode: o.strict ?? 'yes',
    files: knownHosts.map((f) => expandHome(f, home)),
    pins: argv.hostFingerprint,
    revoked: argv.revokedHostKeys === undefined ? undefined : expandHome(argv.revokedHostKeys, home),
    warn,
  });
  const identities = await loadIdentities({
    keys: (argv.identity ?? []).map((f) => expandHome(f, home)),
    passphraseFile: argv.passphraseFile,
    home,
    warn,
  });
  const base = {
    command: words.join(' '),
    policy,
    identities,
    agentSocket: process.env.SSH_AUTH_SOCK || undefined,
    connectTimeout: argv.connectTimeout ?? o.connectTimeout,
  };

  if (argv.hosts === undefined && !out.json) {
    const { single } = await import('../client/single.js');
    requestStatus(await single(targets[0], base, argv.tty, execRemote));
    return;
  }
  const { runMany, summaryTable } = await import('../client/multi.js');
  const results = await runMany(targets, (target, stdout, stderr) => execRemote({ ...base, target, stdin: null, stdout, stderr }), {
    parallel: argv.parallel,
    json: out.json,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  if (out.json) out.data(results);
  else process.stderr.write(summaryTable(results));
  requestStatus(Math.max(0, ...results.map((r) => r.status)));
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'exec [destination] [command..]',
  describe: 'Run a command on an SSH server (or on every host of --hosts) with strict host-key checking',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .usage('$0 exec [options] USER@HOST -- COMMAND...\n$0 exec [options] --hosts FILE -- COMMAND...')
      .positional('destination', { type: 'string', describe: '[user@]host or ssh://[user@]host[:port]' })
      .positional('command', { type: 'string', array: true, describe: 'Command and arguments (after --)' })
      .option('identity', { alias: 'i', type: 'string', array: true, nargs: 1, describe: 'Private key file (repeatable); default ~/.ssh/id_*' })
      .option('port', { alias: 'p', type: 'number', nargs: 1, describe: 'Port (default 22)' })
      .option('login', { alias: 'l', type: 'string', nargs: 1, describe: 'User to log in as (beats user@)' })
      .option('option', { alias: 'o', type: 'string', array: true, nargs: 1, describe: 'StrictHostKeyChecking=yes|accept-new|no, UserKnownHostsFile=, ConnectTimeout=, Port=, User=' })
      .option('known-hosts', { type: 'string', array: true, nargs: 1, describe: 'known_hosts file(s) (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts)' })
      .option('host-fingerprint', { type: 'string', array: true, nargs: 1, describe: 'Accept only a host key with this fingerprint (known_hosts is then not used)' })
      .option('revoked-host-keys', { type: 'string', nargs: 1, describe: 'Refuse host keys revoked by this KRL or key list (ssh RevokedHostKeys)' })
      .option('connect-timeout', { type: 'number', nargs: 1, describe: 'Seconds for the TCP connect and for the handshake' })
      .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'Ask for a pseudo-terminal' })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Passphrase of encrypted keys (first line of the file)' })
      .option('hosts', { type: 'string', nargs: 1, describe: 'Run on every host listed in FILE ([user@]host[:port] per line)' })
      .option('parallel', { type: 'number', default: 10, nargs: 1, describe: 'With --hosts: hosts at a time' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

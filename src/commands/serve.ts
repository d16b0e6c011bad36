/**
 * `sshkit serve [--host 127.0.0.1] [--port 2222] [--authorized PATH] [--host-key FILE]... [--passwords FILE]
 * [--admin USER]... [--exec builtin|os] [--max-auth-tries 6] [--login-grace-time 30]
 * [--max-startups 100|start:rate:full] [--per-source-max-startups N] [--max-sessions 10] [--idle-timeout 0]
 * [--log-format text|json]` (SPEC "sshkit serve"). Binds first: a busy port is one `sshkit: HOST:PORT:
 * address already in use` line and exit 2, with no log line before it. Then prints how to connect on
 * stdout (and, when nobody can log in yet, how to authorize a key: first-login.ts), logs on stderr (the
 * first event after the host keys is `listening` with the real port, so `--port 0` works), and on
 * SIGINT/SIGTERM stops accepting, ends sessions and exits 0.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  host: string;
  port: number;
  authorized?: string;
  revoked?: string;
  hostKey?: string[];
  passwords?: string;
  admin?: string[];
  exec: string;
  maxAuthTries: number;
  loginGraceTime: number;
  maxStartups: string;
  perSourceMaxStartups: number;
  maxSessions: number;
  idleTimeout: number;
  logFormat: string;
  // Issue 13 (file transfer) and issue 17 (fleet): each owned by its own module, wired in server.ts.
  sftp?: string;
  sftpReadOnly: boolean;
  proxyProtocol: boolean;
  proxyFrom?: string;
  authorizedCommand?: string;
  authorizedCommandUser?: string;
  authorizedCommandCache: number;
  trustedUserCaKeys?: string;
  authorizedPrincipals?: string;
  metrics?: string;
}

function count(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${v}`);
  return v;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { bad, SshkitError } = await import('../core/errors.js');
  const { parseStartups } = await import('../server/limits.js');
  const { Output } = await import('../output.js');
  const os = await import('node:os');
  const { join } = await import('node:path');
  const { homeDir } = await import('../home.js');
  const out = new Output(argv);
  let limits;
  try {
    limits = {
      maxAuthTries: count('max-auth-tries', argv.maxAuthTries, 1),
      loginGraceTime: count('login-grace-time', argv.loginGraceTime),
      maxStartups: parseStartups(String(argv.maxStartups)),
      perSourceMaxStartups: count('per-source-max-startups', argv.perSourceMaxStartups),
      maxSessions: count('max-sessions', argv.maxSessions, 1),
      idleTimeout: count('idle-timeout', argv.idleTimeout),
    };
    count('port', argv.port);
    if (argv.authorizedCommand === undefined && argv.authorizedCommandUser !== undefined) throw new Error('--authorized-command-user needs --authorized-command');
    if (argv.port > 65535) throw new Error(`--port: ${argv.port} is not a TCP port`);
    if (argv.proxyFrom !== undefined && !argv.proxyProtocol) throw new Error('--proxy-from: only with --proxy-protocol');
  } catch (err) {
    if (err instanceof SshkitError) throw err;
    throw bad((err as Error).message);
  }
  // Issue 14 (serve peak RSS), for this long-running process only: never in the library (startSshServer runs
  // inside other people's processes). Both flags are read by V8 at each GC, so they work when set here
  // (--max-semi-space-size is read only at Node start):
  //  - a young generation that never grows past its first semi-space (under login load the semi-spaces
  //    grew to 16 MiB each);
  //  - an old generation allowed to grow 20 % between full GCs (V8's default grows it up to 4×).
  // Measured with 100,000 keys, 3,000 logins at c=8 (Go load client): peak RSS 119–133 MiB with V8's
  // defaults, 102–120 with the growth factor alone, 77 with both; server CPU a login 3.4–3.7 → 2.9–3.1 ms.
  // These replace --optimize-for-size (same RSS, 72–77 MiB), whose memory-reducing GCs threw away optimized
  // code (≈ 150 deopts per 800 logins): 3.75 ms a login at c=8, 4.5–4.7 against 3.8–4.4 at c=1.
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=20');
  const { startSshServer } = await import('../server/server.js');
  const { Logger } = await import('../server/log.js');
  const logFormat = argv.logFormat as 'text' | 'json';
  const log = new Logger(logFormat);
  const authorized = argv.authorized ?? join(homeDir(), '.ssh', 'authorized_keys');
  let server;
  try {
    server = await startSshServer({
      host: argv.host,
      port: argv.port,
      authorized,
      hostKeys: argv.hostKey ?? [],
      passwords: argv.passwords,
      revoked: argv.revoked,
      admins: argv.admin ?? [],
      exec: argv.exec as 'builtin' | 'os',
      limits,
      logFormat,
      sftp: argv.sftp === undefined ? undefined : { root: argv.sftp, readOnly: argv.sftpReadOnly },
      proxy: argv.proxyProtocol ? { from: argv.proxyFrom } : undefined,
      authorizedCommand: argv.authorizedCommand === undefined ? undefined : { command: argv.authorizedCommand, user: argv.authorizedCommandUser, cacheSeconds: argv.authorizedCommandCache },
      trustedUserCaKeys: argv.trustedUserCaKeys,
      authorizedPrincipals: argv.authorizedPrincipals,
      metrics: argv.metrics,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') throw bad(`${argv.host}:${argv.port}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`);
    throw err;
  }
  const fps = server.hostKeys.map((k) => k.fingerprint);
  log.event('listening', { host: server.host, port: server.port, fingerprint: fps.join(','), authorized, exec: argv.exec, passwords: argv.passwords ?? 'off' });
  if (!out.json) {
    let user = 'USER';
    try {
      user = os.userInfo().username;
    } catch {
      /* keep USER */
    }
    const hostPart = server.host.includes(':') ? `[${server.host}]` : server.host;
    out.line(`sshkit serve: listening on ${hostPart}:${server.port}`);
    for (const k of server.hostKeys) out.line(`  host key: ${k.fingerprint} (${k.type})`);
    out.line(`  connect:  ssh -p ${server.port} ${user}@${server.host}`);
    const { firstLoginAdvice } = await import('../server/first-login.js');
    const { expandPath } = await import('../server/authorized.js');
    // keys from --authorized-command or a trusted CA cannot be counted ahead: no "nobody can log in" advice then
    const directory = argv.authorizedCommand !== undefined || argv.trustedUserCaKeys !== undefined;
    for (const l of firstLoginAdvice({ keys: directory ? 1 : await server.keysFor(user), passwords: !!argv.passwords, authorizedFile: expandPath(authorized, user), home: homeDir() })) out.line(l);
  } else {
    out.data({ host: server.host, port: server.port, hostKeys: server.hostKeys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, file: k.file })) });
  }
  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      log.event('shutdown', { signal: sig });
      server.stop().then(() => {
        log.event('stopped', {});
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'serve',
  describe: 'Run an SSH server (public-key and password auth, builtin shell, admin REPL)',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', { type: 'number', default: 2222, describe: 'TCP port (0: pick a free one)' })
      .option('revoked', { type: 'string', nargs: 1, describe: 'Revoked keys: a KRL or public keys, one a line (sshd RevokedKeys); unreadable = every key denied' })
      .option('authorized', { type: 'string', describe: 'authorized_keys file; %u = user name (default ~/.ssh/authorized_keys)' })
      .option('host-key', { type: 'string', array: true, describe: 'Host private key file (repeatable; default: generated ~/.config/sshkit/host_ed25519)' })
      .option('passwords', { type: 'string', describe: 'user:scrypt-hash lines (make one with sshkit passwd); enables password auth' })
      .option('admin', { type: 'string', array: true, describe: 'Who may open the admin REPL (repeatable): a key fingerprint SHA256:…, or a user logging in by password or through a per-user (%u) authorized file' })
      .option('exec', { choices: ['builtin', 'os'], default: 'builtin', describe: 'builtin commands, or real commands via /bin/sh -c' })
      .option('max-auth-tries', { type: 'number', default: 6, describe: 'Failed auth attempts before disconnecting' })
      .option('login-grace-time', { type: 'number', default: 30, describe: 'Seconds to authenticate (0: no limit)' })
      .option('max-startups', { type: 'string', default: '100', describe: 'Unauthenticated connections: N, or start:rate:full (random early drop, as sshd MaxStartups)' })
      .option('per-source-max-startups', { type: 'number', default: 0, describe: 'Unauthenticated connections from one address (0: no limit; sshd PerSourceMaxStartups)' })
      .option('max-sessions', { type: 'number', default: 10, describe: 'Session channels open at once per connection (sshd MaxSessions)' })
      .option('idle-timeout', { type: 'number', default: 0, describe: 'Seconds without session traffic before disconnecting (0: never)' })
      .option('sftp', { type: 'string', nargs: 1, describe: 'Serve the SFTP subsystem with ROOT as / (%u = user name); off by default' })
      .option('sftp-read-only', { type: 'boolean', default: false, describe: 'Refuse every SFTP write' })
      .option('proxy-protocol', { type: 'boolean', default: false, describe: 'Expect a PROXY protocol v1/v2 header from the load balancers named by --proxy-from' })
      .option('proxy-from', { type: 'string', nargs: 1, describe: 'CIDR,... of load balancers allowed to send a PROXY header (everyone else refused)' })
      .option('authorized-command', { type: 'string', nargs: 1, describe: 'Command printing authorized_keys lines (sshd AuthorizedKeysCommand; tokens %u %U %f %t %k %h)' })
      .option('authorized-command-user', { type: 'string', nargs: 1, describe: 'Run --authorized-command as this user (sshd AuthorizedKeysCommandUser)' })
      .option('authorized-command-cache', { type: 'number', default: 10, describe: 'Seconds an --authorized-command answer is reused (0: never)' })
      .option('trusted-user-ca-keys', { type: 'string', nargs: 1, describe: 'CA public keys trusted for user certificates (sshd TrustedUserCAKeys)' })
      .option('authorized-principals', { type: 'string', nargs: 1, describe: 'Principals file for certificate logins; %u = user name (sshd AuthorizedPrincipalsFile)' })
      .option('metrics', { type: 'string', nargs: 1, describe: 'Serve Prometheus metrics on HOST:PORT (loopback by default)' })
      .option('log-format', { choices: ['text', 'json'], default: 'text', describe: 'Log lines on stderr' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

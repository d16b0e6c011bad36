/**
 * `sshkit serve` assembled (SPEC "sshkit serve"): a plain TCP listener (limits.ts admits sockets) feeding
 * the SSH engine of adapter.ts (the one file that talks to ssh2; it installs protocol.ts's hardening and
 * the auth queue), typed auth requests through auth-flow.ts (sshd's accounting; core/pubkey-auth.ts and
 * password-source.ts decide), session channels through the pipeline of session.ts (--max-sessions
 * counted here). Every hook runs guarded: an exception ends its own connection, logged, never the
 * process. The port is bound before anything is logged.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { bad } from '../core/errors.js';
import { createSshEngine, type ConnectionHooks, type SessionSetup } from './adapter.js';
import type { AdminApi } from './admin-repl.js';
import { AuthorizedKeys } from './authorized.js';
import { authFlow, type AuthConn, type AuthDecide, type KeyLookup } from './auth-flow.js';
import { withDirectoryKeys } from './directory-keys.js';
import { RevokedFile } from './revoked.js';
import { loadHostKeys, type HostKey } from './host-keys.js';
import { DEFAULT_LIMITS, Gate, type Guard, type Limits } from './limits.js';
import { ConnLog, Logger, type LogFormat, type LogSink } from './log.js';
import { PasswordSource } from './password-source.js';
import type { Handler, RawSessionHandler, RequestPolicy } from './pipeline.js';
import { cliPolicy, cliSessions } from './session.js';
import { acceptSocket, checkProxyOptions, type ProxyOptions } from './proxy.js';
import type { MetricsServer } from './metrics.js';

/** Everything `sshkit serve` takes (SPEC flags). */
export interface ServeOptions {
  host: string;
  port: number;
  /** authorized_keys path pattern (`%u` for per-user files). */
  authorized: string;
  hostKeys: string[];
  passwords?: string;
  /** sshd's RevokedKeys: a KRL or a list of public keys (revoked.ts). */
  revoked?: string;
  admins: string[];
  exec: 'builtin' | 'os';
  limits: Limits;
  logFormat: LogFormat;
  logSink?: LogSink;
  /** Library hooks (src/server/index.ts, issue 15): a key lookup used instead of the `authorized` files, */
  keySource?: KeySource;
  /** a last word on every successful authentication (only `true` lets the login in), */
  decide?: AuthDecide;
  /** and a session pipeline with its request policy used instead of session.ts's (library-session.ts). */
  sessions?: { handler: Handler; policy: RequestPolicy };
  /** Compatibility: a handler of ssh2's accepted Session itself, used instead of any pipeline (bench/, older tests). */
  sessionHandler?: RawSessionHandler;
  /** Issue 13: `--sftp ROOT` (`%u` per user) and `--sftp-read-only`. */
  sftp?: { root: string; readOnly: boolean };
  /** Issue 17: `--proxy-protocol` with `--proxy-from CIDR,...` (absent: no PROXY header expected). */
  proxy?: ProxyOptions;
  /** Issue 17: `--authorized-command CMD` (sshd AuthorizedKeysCommand) with its user and cache seconds. */
  authorizedCommand?: { command: string; user?: string; cacheSeconds: number };
  /** Issue 17: `--trusted-user-ca-keys FILE` (sshd TrustedUserCAKeys). */
  trustedUserCaKeys?: string;
  /** Issue 17: `--authorized-principals PATH` (sshd AuthorizedPrincipalsFile, `%u`). */
  authorizedPrincipals?: string;
  /** Issue 17: `--metrics HOST:PORT` (Prometheus text exposition). */
  metrics?: string;
}

/**
 * Where the publickey check finds a user's keys: authorized.ts's file cache, or a library caller's lookup;
 * `forKey` (directory-keys.ts: --authorized-command, --trusted-user-ca-keys) builds the index for one offered key.
 */
export type KeySource = Pick<AuthorizedKeys, 'perUser' | 'forUser' | 'load' | 'reload' | 'keyCount' | 'cacheStats'> & Pick<KeyLookup, 'forKey'>;

/** A started server. */
export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly hostKeys: HostKey[];
  readonly api: AdminApi;
  /** Keys the authorized file lists for `user` now (0 when missing or unreadable): the banner's "nobody can log in yet". */
  keysFor(user: string): Promise<number>;
  /** Stops accepting, ends sessions, disconnects everyone; resolves when all sockets are closed. */
  stop(): Promise<void>;
}

/**
 * May this login open the admin REPL? `--admin` names a key (`SHA256:…` fingerprint) or a user. A user
 * name counts only where the login proved that user: a password, or a key from a per-user (`%u`)
 * authorized file. With one shared authorized file any listed key may claim any user name, so there a
 * name alone must not grant a JavaScript shell inside the server.
 */
export function isAdmin(admins: readonly string[], c: { user?: string; method?: string; fingerprint?: string }, perUserKeys: boolean): boolean {
  if (c.fingerprint && admins.includes(c.fingerprint)) return true;
  if (!c.user || !admins.includes(c.user)) return false;
  return c.method === 'password' || (c.method === 'publickey' && perUserKeys);
}

interface Conn extends AuthConn {
  guard: Guard;
  port: number;
  since: number;
  /** Session channels open now (--max-sessions). */
  sessions: number;
  ends: Set<() => void>;
}


/** The guard of a socket the gate has not admitted (yet): it does nothing. */
const UNADMITTED: Guard = { authenticated: () => undefined, touch: () => undefined };

/**
 * `--sftp ROOT` checked at start: made absolute (relative to the working folder); without `%u` the folder
 * must exist now (with `%u` each user's folder is looked for at each SFTP request, handlers/sftp.ts).
 */
function sftpRootOption(o: { root: string; readOnly: boolean }): { root: string; readOnly: boolean } {
  const root = isAbsolute(o.root) ? o.root : resolve(o.root);
  if (!/%u/.test(root)) {
    let dir = false;
    try {
      dir = statSync(root).isDirectory();
    } catch {
      /* missing */
    }
    if (!dir) throw bad(`--sftp ${o.root}: not a folder`);
  }
  return { root, readOnly: o.readOnly };
}

/** Lines an unauthenticated connection may log (ConnLog): every attempt allowed by max-auth-tries, and some. */
const preauthLogBudget = (maxAuthTries: number) => 16 + 2 * maxAuthTries;

/** Starts the server and resolves once it listens (the `listening` log line is written by the caller). */
export async function startSshServer(opts: ServeOptions): Promise<RunningServer> {
  // Bind first, log after (issue 10 item 8): lines logged while starting are held until the port is
  // bound, so a busy port prints one error line and nothing before it.
  checkProxyOptions(opts.proxy);
  const sftp = opts.sftp && sftpRootOption(opts.sftp);
  const sink: LogSink = opts.logSink ?? ((line) => process.stderr.write(line + '\n'));
  let held: string[] | null = [];
  const log = new Logger(opts.logFormat, (line) => (held ? held.push(line) : sink(line)));
  // prom-client is loaded only when --metrics is given; its tap sees every event from here on
  const metricsModule = opts.metrics === undefined ? undefined : await import('./metrics.js');
  const metricsTap = metricsModule?.tapMetrics(log);
  const hostKeys = await loadHostKeys(opts.hostKeys, log);
  const files = opts.keySource ? undefined : new AuthorizedKeys(opts.authorized, log);
  const authorized: KeySource = await withDirectoryKeys(opts.keySource ?? files!, opts, log);
  if (!authorized.perUser) void authorized.load(opts.authorized); // parse once at start, log bad lines now
  const revoked = opts.revoked === undefined ? undefined : new RevokedFile(opts.revoked, log);
  void revoked?.load();
  const passwords = opts.passwords ? new PasswordSource(opts.passwords, log) : null;
  const methods = passwords ? ['publickey', 'password'] : ['publickey'];
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const conns = new Map<number, Conn>();
  const bySocket = new WeakMap<Socket, Conn>();
  const stats = { connections: 0, authOk: 0, authFail: 0, sessions: 0, started: Date.now() };
  let nextConn = 1;

  const gate = new Gate(limits, (socket, why) => {
    const c = bySocket.get(socket);
    log.event('cut', { conn: c?.id, address: c?.address ?? socket.remoteAddress, reason: why, user: c?.user });
  });

  const api: AdminApi = {
    sessions: () =>
      [...conns.values()].map((c) => ({ id: c.id, user: c.user ?? null, address: c.address, method: c.method ?? null, key: c.fingerprint ?? null, since: new Date(c.since).toISOString() })),
    kick: (id: number) => {
      const c = conns.get(Number(id));
      if (!c) return false;
      log.event('kick', { conn: c.id, user: c.user });
      for (const end of c.ends) end();
      c.link ? c.link.end() : c.socket.destroy();
      return true;
    },
    reload: () => {
      const n = authorized.reload();
      passwords?.refresh(true);
      return `reloaded ${authorized.perUser ? `${n} per-user files` : opts.authorized}${passwords ? ` and ${opts.passwords}` : ''}`;
    },
    stats: () => ({
      ...stats,
      uptimeSeconds: Math.round((Date.now() - stats.started) / 1000),
      open: conns.size,
      unauthenticated: gate.unauthenticated,
      keys: authorized.keyCount(),
      authorizedCache: authorized.cacheStats(),
      ...gate.counters,
      rssMiB: Math.round(process.memoryUsage().rss / 1048576),
    }),
  };

  /** Drops one connection after an error of its own (never the process): logged, then the socket closed. */
  const drop = (c: Conn, err: unknown) => {
    c.log.event('conn-error', { conn: c.id, reason: String((err as Error)?.message ?? err).slice(0, 200) });
    c.socket.destroy();
  };

  const { onAuth, countFailure, attempt } = authFlow<Conn>({ limits, methods, passwords, authorized, revoked, stats, drop, decide: opts.decide });
  const sessions = opts.sessions ?? { handler: cliSessions(), policy: cliPolicy };

  /** A session channel open on `c`: its context, or null (logged) past --max-sessions. */
  const openSession = (c: Conn): SessionSetup | null => {
    if (c.sessions >= limits.maxSessions) {
      c.log.event('session-refused', { conn: c.id, user: c.user, reason: `max-sessions ${limits.maxSessions}` });
      return null;
    }
    c.sessions++;
    stats.sessions++;
    c.guard.touch();
    return {
      ctx: {
        connId: c.id,
        user: c.user!,
        admin: isAdmin(opts.admins, c, authorized.perUser),
        grant: c.grant!,
        address: c.address,
        port: c.port,
        localPort: c.socket.localPort ?? 0,
        exec: opts.exec,
        log: c.log,
        adminApi: api,
        sftp,
        touch: () => c.guard.touch(),
      },
      policy: sessions.policy,
      handler: sessions.handler,
      track: (end) => (c.ends.add(end), () => c.ends.delete(end)),
      closed: () => c.sessions--,
      raw: opts.sessionHandler,
    };
  };

  /** The hooks of one SSH connection (adapter.ts calls them, guarded: a throw drops only `c`). */
  const connectionHooks = (c: Conn): ConnectionHooks => ({
    client: (version) => c.log.event('client', { conn: c.id, version }),
    methods: () => methods,
    violation: (reason) => c.log.event('protocol-error', { conn: c.id, reason }),
    overflow: () => c.log.event('cut', { conn: c.id, reason: 'too many pipelined auth requests' }),
    unknownMethod: (user, method) => {
      if (!attempt(c, user)) return false;
      c.log.event('auth', { conn: c.id, user, method, result: 'fail', reason: 'unknown method' });
      return !countFailure(c, user);
    },
    auth: (req) => (c.log.authStart(), onAuth(c, req)),
    ready: () => c.guard.authenticated(),
    session: () => openSession(c),
    error: (err) => c.log.event('conn-error', { conn: c.id, reason: err.message.slice(0, 200) }),
    fail: (err) => drop(c, err),
  });

  const ssh = createSshEngine(
    hostKeys.map((k) => k.privateText),
    (socket, link) => {
      const c = bySocket.get(socket);
      if (!c) return null;
      c.link = link;
      return connectionHooks(c);
    },
    (err) => log.event('server-error', { reason: err.message }),
  );

  // --proxy-protocol (proxy.ts): the client address a balancer's PROXY header carries, else the socket's.
  const net: NetServer = createServer(acceptSocket(opts.proxy, log, (socket, peer) => {
    socket.on('error', () => undefined);
    const id = nextConn++;
    const address = peer.address;
    const c: Conn = {
      id,
      socket,
      address,
      port: peer.port,
      since: Date.now(),
      attempts: 0,
      failures: 0,
      sessions: 0,
      log: new ConnLog(log, id, preauthLogBudget(limits.maxAuthTries)),
      ends: new Set(),
      guard: UNADMITTED,
    };
    bySocket.set(socket, c);
    const guard = gate.admit(socket, address);
    if (!guard) return;
    c.guard = guard;
    stats.connections++;
    conns.set(id, c);
    c.log.event('connect', { conn: id, address, port: c.port, via: peer.via?.address });
    socket.once('close', () => {
      conns.delete(id);
      c.log.event('disconnect', { conn: id, user: c.user, authenticated: !!c.user, ms: Date.now() - c.since, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten });
    });
    try {
      ssh.injectSocket(socket); // the per-socket hand-over: one call site (issue 17's PROXY header goes before it)
    } catch (err) {
      drop(c, err);
    }
  }));
  net.maxConnections = 10000;
  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(opts.port, opts.host, () => {
      net.off('error', reject);
      resolve();
    });
  });
  let metrics: MetricsServer | undefined;
  if (opts.metrics !== undefined && metricsModule && metricsTap) metrics = await metricsModule.startMetrics(opts.metrics, log, metricsTap).catch((err) => (net.close(), Promise.reject(err)));
  for (const line of held) sink(line);
  held = null;
  net.on('error', (err) => log.event('server-error', { reason: err.message }));
  const addr = net.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= new Promise<void>((resolve) => {
      net.close();
      void metrics?.close();
      void files?.close(); // issue 14: the descriptors big authorized_keys files are read back from
      for (const c of conns.values()) for (const end of [...c.ends]) end();
      // Give sessions a moment to send exit-status, then disconnect; force-close stragglers after 3 s.
      const polite = setTimeout(() => {
        for (const c of conns.values()) c.link ? c.link.end() : c.socket.destroy();
      }, 200);
      const hard = setTimeout(() => {
        for (const c of conns.values()) c.socket.destroy();
      }, 3000);
      const iv = setInterval(() => {
        if (conns.size > 0) return;
        clearInterval(iv);
        clearTimeout(polite);
        clearTimeout(hard);
        resolve();
      }, 20);
    }));

  return { host: opts.host, port, hostKeys, api, stop, keysFor: (user) => authorized.forUser(user).then((index) => index.size, () => 0) };
}

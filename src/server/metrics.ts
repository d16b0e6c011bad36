/**
 * `--metrics HOST:PORT` (issue 17): Prometheus text exposition (prom-client) on its own HTTP listener,
 * `GET /metrics` only. Every figure is derived from the server's log events (log.ts `Logger.tap`), so
 * the log and the metrics never disagree and no server code counts twice. Label values come from
 * fixed vocabularies (a network-chosen method name or a reason quoting the client's address becomes
 * `other` or its class), so a client cannot grow the number of series.
 * Choice where the issue is silent: HOST is required and may be any address, but `--metrics PORT`
 * alone (or `:PORT`) binds 127.0.0.1; a non-loopback HOST is used only when written out.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { bad } from '../core/errors.js';
import type { LogFields, Logger } from './log.js';

/** Where `--metrics` listens. */
export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT` (the last two: 127.0.0.1). */
export function parseMetricsAddress(spec: string): MetricsAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(spec.trim()) ?? /^()()([0-9]{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw bad(`--metrics: expected HOST:PORT, got ${JSON.stringify(spec)}`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

const METHODS = new Set(['publickey', 'password', 'none', 'keyboard-interactive', 'hostbased', 'gssapi-with-mic']);

/** Reason classes for `auth` failures and cuts: the first pattern that matches names the label. */
const REASONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^key not authorized/, 'not-authorized'],
  [/not permitted by from=/, 'from'],
  [/source-address/, 'source-address'],
  [/expired|expiry-time|not yet valid|validity/, 'expired'],
  [/revoked|revocation/, 'revoked'],
  [/principals/, 'principals'],
  [/CA not trusted/, 'ca-not-trusted'],
  [/signature/, 'signature'],
  [/^algorithm /, 'algorithm'],
  [/password/, 'password'],
  [/unavailable|command/, 'source-error'],
  [/auth callback/, 'callback'],
  [/unknown method/, 'unknown-method'],
  [/none is not/, 'none'],
  [/malformed/, 'malformed'],
  [/^max-auth-tries$/, 'max-auth-tries'],
  [/^more than \d+ auth requests$/, 'max-auth-requests'],
  [/pipelined/, 'pipelined-auth'],
  [/^(max-startups|per-source-max-startups|login-grace-time|idle-timeout)$/, ''],
  [/not a --proxy-from address/, 'proxy-source'],
  [/within \d+ ms/, 'proxy-timeout'],
  [/closed before/, 'proxy-closed'],
  [/^(v1|v2): |^not a PROXY protocol header$/, 'proxy-malformed'],
];

/** The bounded label for a free-text reason. */
export function reasonClass(reason: unknown): string {
  if (typeof reason !== 'string' || reason === '') return 'none';
  for (const [re, label] of REASONS) if (re.test(reason)) return label || reason;
  return 'other';
}

/** The metrics of one server, fed by its log. */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly connections = new Counter({ name: 'sshkit_connections_total', help: 'TCP connections admitted to the SSH protocol', registers: [this.registry] });
  private readonly open = new Gauge({ name: 'sshkit_connections_open', help: 'Connections open now', registers: [this.registry] });
  private readonly refused = new Counter({ name: 'sshkit_connections_refused_total', help: 'Connections refused or cut, by reason', labelNames: ['reason'], registers: [this.registry] });
  private readonly auth = new Counter({ name: 'sshkit_auth_total', help: 'Authentication answers by method, result (ok, fail, pk-ok) and reason class', labelNames: ['method', 'result', 'reason'], registers: [this.registry] });
  private readonly authSeconds = new Histogram({ name: 'sshkit_auth_duration_seconds', help: 'Time the server took to answer one authentication request', labelNames: ['method', 'result'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  private readonly sessions = new Counter({ name: 'sshkit_sessions_total', help: 'Session channels opened', registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'sshkit_bytes_total', help: 'Bytes on client sockets (in: read from clients, out: written), counted at disconnect', labelNames: ['direction'], registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'sshkit_authorized_reloads_total', help: 'Loads of an authorization source (authorized keys, passwords, revoked keys, ...)', labelNames: ['source'], registers: [this.registry] });
  private readonly commandSeconds = new Histogram({ name: 'sshkit_authorized_command_duration_seconds', help: 'Run time of --authorized-command (answers from its cache are not runs)', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  private readonly sourceErrors = new Counter({ name: 'sshkit_authorized_errors_total', help: 'Bad lines in, or failures of, an authorization source', labelNames: ['source'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry }); // process_* and nodejs_*, the names dashboards expect
  }

  /** The tap: one log event → the counters it stands for. */
  readonly observe = (event: string, f: LogFields): void => {
    switch (event) {
      case 'connect':
        this.connections.inc();
        this.open.inc();
        return;
      case 'disconnect':
        this.open.dec();
        if (typeof f.bytesIn === 'number') this.bytes.inc({ direction: 'in' }, f.bytesIn);
        if (typeof f.bytesOut === 'number') this.bytes.inc({ direction: 'out' }, f.bytesOut);
        return;
      case 'cut':
      case 'proxy-refused':
        this.refused.inc({ reason: reasonClass(f.reason) });
        return;
      case 'auth': {
        const method = typeof f.method === 'string' && METHODS.has(f.method) ? f.method : 'other';
        const result = f.result === 'ok' || f.result === 'pk-ok' ? f.result : 'fail';
        this.auth.inc({ method, result, reason: result === 'fail' ? reasonClass(f.reason) : 'none' });
        if (typeof f.ms === 'number') this.authSeconds.observe({ method, result }, f.ms / 1000);
        return;
      }
      case 'session':
        this.sessions.inc();
        return;
    }
    // Authorization sources: a load line per (re)load, with its count of bad lines (`-error` lines repeat
    // those, capped, so they are not counted again); any other `SOURCE-…` line is a failure of the source
    // (missing, refused, unreadable, unusable, a failed --authorized-command run).
    const m = /^(authorized-keys|passwords|revoked-keys|trusted-ca-keys|authorized-principals|authorized-command)(-.+)?$/.exec(event);
    if (!m) return;
    const [, source, suffix] = m;
    const load = source === 'authorized-command' ? suffix === '-ok' : suffix === undefined && source !== 'authorized-principals';
    if (load) {
      this.reloads.inc({ source });
      if (typeof f.errors === 'number' && f.errors > 0) this.sourceErrors.inc({ source }, f.errors);
      if (source === 'authorized-command' && typeof f.ms === 'number') this.commandSeconds.observe(f.ms / 1000);
    } else if (suffix !== undefined && (suffix !== '-error' || source === 'authorized-principals')) this.sourceErrors.inc({ source });
  };
}

/** A running metrics endpoint. */
export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Counts from the log's first event on: the tap goes in before the server loads anything (the first
 * authorized-file parse logs before the port is bound), the HTTP listener later (startMetrics).
 */
export function tapMetrics(log: Logger): ServerMetrics {
  const metrics = new ServerMetrics();
  log.tap(metrics.observe);
  return metrics;
}

/** Serves `/metrics` on `spec` from `metrics` (made by tapMetrics at start); resolves once bound (a busy port rejects). */
export async function startMetrics(spec: string, log: Logger, metrics: ServerMetrics): Promise<MetricsServer> {
  const where = parseMetricsAddress(spec);
  const http: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  http.headersTimeout = 5000;
  http.requestTimeout = 10000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => reject(bad(`--metrics ${where.host}:${where.port}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}`)));
    http.listen(where.port, where.host, () => (http.removeAllListeners('error'), resolve()));
  });
  http.on('error', (err) => log.event('server-error', { reason: `metrics: ${err.message}` }));
  const addr = http.address();
  const port = typeof addr === 'object' && addr ? addr.port : where.port;
  log.event('metrics', { host: where.host, port });
  return { host: where.host, port, close: () => new Promise<void>((resolve) => (http.closeAllConnections(), http.close(() => resolve()))) };
}

/**
 * `serve --metrics` (issue 17): after a good and a bad login by the real OpenSSH `ssh`, the scrape is
 * valid Prometheus text exposition (checked line by line against the format's grammar: HELP/TYPE
 * before samples, every sample of a declared family, label syntax, float values) and its values are
 * the ones the server's own log lines give (connections, auth by method/result/reason, sessions,
 * bytes at disconnect, auth latency count, authorized-keys loads). Loopback by default; bad addresses
 * and busy ports are one-line errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { sshkit } from './helpers.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { makeKeys, tempDir } from './proxy-helper.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)(?: (-?\d+))?$/;

/** Parses text exposition format 0.0.4 strictly; throws on any line that does not fit. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith('\n'), 'ends with a line feed');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const [, kind, name, ...rest] = line.split(' ');
      assert.match(name, NAME, line);
      if (kind === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest[0]), line);
        assert.ok(!types.has(name), `one TYPE per family: ${name}`);
        assert.ok(!samples.some((s) => s.name.startsWith(name)), `TYPE before samples: ${name}`);
        types.set(name, rest[0]);
      }
      continue;
    }
    if (line === '') continue; // "Empty lines are ignored" (exposition format)
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    // Go's strconv.ParseFloat, as Prometheus reads values: NaN and ±Inf in any case
    const value = /^\+?inf$/i.test(m[3]) ? Infinity : /^-inf$/i.test(m[3]) ? -Infinity : Number(m[3]);
    assert.ok(/^nan$/i.test(m[3]) || !Number.isNaN(value), `value: ${line}`);
    const family = [m[1], m[1].replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    assert.ok(family, `sample of an undeclared family: ${m[1]}`);
    if (m[1] !== family) assert.ok(['histogram', 'summary'].includes(types.get(family)!), line);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

function scrape(port: number, path = '/metrics'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  });
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

describe('serve --metrics', () => {
  const tmp = tempDir('sshkit-metrics-');
  const good = makeKeys(tmp.dir);
  const tmp2 = tempDir('sshkit-metrics-other-');
  const other = makeKeys(tmp2.dir);
  let srv: StartedServer;
  let metricsPort = 0;
  const authorized = join(tmp.dir, 'authorized_keys');
  before(async () => {
    writeFileSync(authorized, `${good.pub}\n`);
    srv = await startServer({ args: ['--authorized', authorized, '--host-key', good.hostKey, '--metrics', '0', '--log-format', 'json'] });
    const line = JSON.parse(await srv.waitForLog(/"event":"metrics"/));
    assert.equal(line.host, '127.0.0.1', 'a bare port binds loopback');
    metricsPort = line.port;
  });
  after(async () => {
    await srv.stop();
    tmp.cleanup();
    tmp2.cleanup();
  });

  test('after one good and one bad login, the scrape parses and agrees with the log', async () => {
    const before = parseExposition((await scrape(metricsPort)).body);
    assert.equal(value(before.samples, 'sshkit_connections_total'), 0);
    const ok = await sshRun(srv.port, { key: good.key, command: 'whoami' });
    assert.equal(ok.status, 0, ok.stderr);
    const bad = await sshRun(srv.port, { key: other.key, command: 'whoami', user: 'mallory' });
    assert.equal(bad.status, 255);
    // both connections closed (disconnect lines carry the byte counts)
    for (let i = 0; i < 100 && srv.logs().split('\n').filter((l) => l.includes('"event":"disconnect"')).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const events = srv.logs().trim().split('\n').map((l) => JSON.parse(l));
    const of = (name: string) => events.filter((e) => e.event === name);

    const res = await scrape(metricsPort);
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseExposition(res.body);
    for (const [name, type] of [
      ['sshkit_connections_total', 'counter'],
      ['sshkit_connections_open', 'gauge'],
      ['sshkit_connections_refused_total', 'counter'],
      ['sshkit_auth_total', 'counter'],
      ['sshkit_auth_duration_seconds', 'histogram'],
      ['sshkit_sessions_total', 'counter'],
      ['sshkit_bytes_total', 'counter'],
      ['sshkit_authorized_reloads_total', 'counter'],
      ['sshkit_authorized_errors_total', 'counter'],
    ])
      assert.equal(types.get(name), type, name);

    assert.equal(value(samples, 'sshkit_connections_total'), 2);
    assert.equal(value(samples, 'sshkit_connections_total'), of('connect').length);
    assert.equal(value(samples, 'sshkit_connections_open'), 0);
    const okAuth = of('auth').filter((e) => e.result === 'ok');
    const failAuth = of('auth').filter((e) => e.result === 'fail');
    assert.equal(okAuth.length, 1);
    assert.ok(failAuth.length >= 1 && failAuth.every((e) => e.reason === 'key not authorized'));
    assert.equal(value(samples, 'sshkit_auth_total', { method: 'publickey', result: 'ok' }), 1);
    assert.equal(value(samples, 'sshkit_auth_total', { method: 'publickey', result: 'fail', reason: 'not-authorized' }), failAuth.length);
    assert.equal(value(samples, 'sshkit_auth_total', { result: 'pk-ok' }), of('auth').filter((e) => e.result === 'pk-ok').length);
    const timed = of('auth').filter((e) => typeof e.ms === 'number');
    assert.equal(timed.length, of('auth').length, 'every auth line says how long its answer took');
    assert.equal(value(samples, 'sshkit_auth_duration_seconds_count'), timed.length);
    assert.ok(Math.abs(value(samples, 'sshkit_auth_duration_seconds_sum') - timed.reduce((a, e) => a + e.ms / 1000, 0)) < 1e-6);
    assert.equal(value(samples, 'sshkit_auth_duration_seconds_bucket', { le: '+Inf' }), timed.length);
    assert.equal(value(samples, 'sshkit_sessions_total'), of('session').length);
    assert.equal(value(samples, 'sshkit_sessions_total'), 1);
    const bytesIn = of('disconnect').reduce((a, e) => a + e.bytesIn, 0);
    const bytesOut = of('disconnect').reduce((a, e) => a + e.bytesOut, 0);
    assert.ok(bytesIn > 1000 && bytesOut > 1000, `${bytesIn} ${bytesOut}: key exchanges both ways`);
    assert.equal(value(samples, 'sshkit_bytes_total', { direction: 'in' }), bytesIn);
    assert.equal(value(samples, 'sshkit_bytes_total', { direction: 'out' }), bytesOut);
    assert.equal(value(samples, 'sshkit_authorized_reloads_total', { source: 'authorized-keys' }), of('authorized-keys').length);
    assert.ok(of('authorized-keys').length >= 1);
  });

  test('only GET /metrics is served', async () => {
    assert.equal((await scrape(metricsPort, '/')).status, 404);
    assert.equal((await scrape(metricsPort, '/metrics')).status, 200);
  });

  test('a bad --metrics address and a busy port are one-line errors (exit 2)', () => {
    for (const [spec, why] of [
      ['nonsense', /--metrics: expected HOST:PORT/],
      ['127.0.0.1:99999', /--metrics: expected HOST:PORT/],
      [`127.0.0.1:${metricsPort}`, /--metrics 127\.0\.0\.1:\d+: address already in use/],
    ] as const) {
      const r = sshkit(['serve', '--port', '0', '--authorized', authorized, '--host-key', good.hostKey, '--metrics', spec]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('metrics labels and addresses', () => {
  test('HOST:PORT forms; loopback only when no host is written', async () => {
    const { parseMetricsAddress } = await import('../src/server/metrics.js');
    assert.deepEqual(parseMetricsAddress('9100'), { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(parseMetricsAddress(':9100'), { host: '127.0.0.1', port: 9100 });
    assert.deepEqual(parseMetricsAddress('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
    assert.deepEqual(parseMetricsAddress('[::1]:9100'), { host: '::1', port: 9100 });
    for (const bad of ['', 'host', '::1:9100', '1.2.3.4:', '1.2.3.4:65536', '[::1]9100']) assert.throws(() => parseMetricsAddress(bad), /--metrics: expected HOST:PORT/, bad);
  });

  test('a reason quoting the client (address, algorithm) becomes its class: series stay bounded', async () => {
    const { reasonClass, ServerMetrics } = await import('../src/server/metrics.js');
    assert.equal(reasonClass('address 10.1.2.3 not permitted by from="10.0.0.0/8"'), 'from');
    assert.equal(reasonClass('algorithm x-evil-1 not accepted'), 'algorithm');
    assert.equal(reasonClass('something new'), 'other');
    const m = new ServerMetrics();
    for (let i = 0; i < 50; i++) m.observe('auth', { method: `m${i}`, result: 'fail', reason: `address 10.0.0.${i} not permitted by from="x"` });
    const text = await m.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('sshkit_auth_total{'));
    assert.deepEqual(series, ['sshkit_auth_total{method="other",result="fail",reason="from"} 50']);
    for (const reason of ['not a --proxy-from address', 'v2: header length 60000 over 2048', 'v1: bad port', 'no complete PROXY header within 5000 ms', 'per-source-max-startups'])
      m.observe(reason.startsWith('per-') ? 'cut' : 'proxy-refused', { address: '10.0.0.1', reason });
    const refused = (await m.registry.metrics()).split('\n').filter((l) => l.startsWith('sshkit_connections_refused_total{'));
    assert.deepEqual(refused.sort(), [
      'sshkit_connections_refused_total{reason="per-source-max-startups"} 1',
      'sshkit_connections_refused_total{reason="proxy-malformed"} 2',
      'sshkit_connections_refused_total{reason="proxy-source"} 1',
      'sshkit_connections_refused_total{reason="proxy-timeout"} 1',
    ]);
  });
});

describe('authorization-source metrics from their log lines', () => {
  test('loads, bad lines (counted once) and failures per source', async () => {
    const { ServerMetrics } = await import('../src/server/metrics.js');
    const m = new ServerMetrics();
    m.observe('authorized-keys-error', { file: 'f', line: 2, reason: 'bad' });
    m.observe('authorized-keys', { file: 'f', keys: 3, errors: 1 });
    m.observe('authorized-keys-missing', { file: 'g', reason: 'ENOENT' });
    m.observe('authorized-command', { command: '/bin/x', user: 'nobody', cache: 10 });
    m.observe('authorized-command-ok', { user: 'alice', keys: 1, errors: 0, ms: 12 });
    m.observe('authorized-command-failed', { user: 'alice', reason: 'timed out' });
    m.observe('authorized-principals', { user: 'alice', reason: 'no principal of the certificate is listed' });
    const text = await m.registry.metrics();
    const line = (s: string) => text.split('\n').find((l) => l.startsWith(s + ' '));
    assert.equal(line('sshkit_authorized_reloads_total{source="authorized-keys"}'), 'sshkit_authorized_reloads_total{source="authorized-keys"} 1');
    assert.equal(line('sshkit_authorized_errors_total{source="authorized-keys"}'), 'sshkit_authorized_errors_total{source="authorized-keys"} 2');
    assert.equal(line('sshkit_authorized_reloads_total{source="authorized-command"}'), 'sshkit_authorized_reloads_total{source="authorized-command"} 1');
    assert.equal(line('sshkit_authorized_errors_total{source="authorized-command"}'), 'sshkit_authorized_errors_total{source="authorized-command"} 1');
    assert.equal(line('sshkit_authorized_command_duration_seconds_count'), 'sshkit_authorized_command_duration_seconds_count 1');
    assert.ok(!text.includes('source="authorized-principals"'), 'a refused certificate is an auth result, not a source failure');
  });
});

describe('the log tap', () => {
  test('sees lines ConnLog suppresses past its budget (metrics stay exact under a flood), and auth lines carry ms', async () => {
    const { ConnLog, Logger } = await import('../src/server/log.js');
    const written: string[] = [];
    const base = new Logger('json', (l) => written.push(l));
    const tapped: string[] = [];
    base.tap((event) => tapped.push(event));
    const log = new ConnLog(base, 1, 2);
    log.authStart();
    for (let i = 0; i < 5; i++) log.event('auth', { conn: 1, method: 'publickey', result: 'fail' });
    assert.equal(written.filter((l) => l.includes('"event":"auth"')).length, 2, 'two lines written, the rest suppressed');
    assert.equal(tapped.filter((e) => e === 'auth').length, 5, 'all five seen by the tap');
    assert.equal(JSON.parse(written[0]).ms >= 0, true, 'the answer after authStart() says how long it took');
    assert.equal(JSON.parse(written[1]).ms, undefined, 'only the first line after authStart()');
  });
});

/**
 * `serve --proxy-protocol` under attack (issue 17), each refusal beside a passing control on the same
 * server: a header from an address outside --proxy-from; garbage, oversized and slow headers (the
 * server keeps serving others, and sends no banner before the header is complete); a spoofed PROXY
 * line without --proxy-protocol is SSH garbage; from= and --per-source-max-startups see the carried
 * client address. Logins use the real OpenSSH `ssh` through a ProxyCommand that sends the header.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import { sshkit } from './helpers.js';
import { sshRun, startServer } from './server-helper.js';
import { exchange, makeKeys, proxyCommandScript, SIG, startLocal, tempDir, v1Header, v2Header, type LocalServer } from './proxy-helper.js';

const BALANCER = '127.0.0.3';
const tmp = tempDir('sshkit-proxy-test-');
const keys = makeKeys(tmp.dir);
const viaHeader = proxyCommandScript(tmp.dir);
const authorized = join(tmp.dir, 'authorized_keys');
// The key is accepted only from 10.1.2.3, an address no socket in this test really has.
writeFileSync(authorized, `from="10.1.2.3" ${keys.pub}\n`);
after(() => tmp.cleanup());

const isBanner = (b: Buffer) => b.toString('latin1').startsWith('SSH-2.0-sshkit');

describe('--proxy-protocol: who may send the header, and what a bad header does', () => {
  let srv: LocalServer;
  before(async () => {
    srv = await startLocal({ hostKeys: [keys.hostKey], authorized, proxy: { from: `${BALANCER}/32`, headerTimeoutMs: 400 } });
  });
  after(() => srv.stop());

  test('a valid header from an address outside --proxy-from is refused before any byte; from the balancer it is served', async () => {
    const port = srv.server.port;
    const refused = await exchange(port, [v2Header('10.1.2.3')], { localAddress: '127.0.0.1' });
    assert.equal(refused.closed, true);
    assert.equal(refused.received.length, 0);
    const line = await srv.waitFor((e) => e.event === 'proxy-refused' && e.address === '127.0.0.1');
    assert.equal(line.reason, 'not a --proxy-from address');
    // control: the same bytes from the listed balancer get the SSH banner
    const served = await exchange(port, [v2Header('10.1.2.3')], { localAddress: BALANCER, untilBanner: true });
    assert.ok(isBanner(served.received), served.received.toString('latin1'));
    await srv.waitFor((e) => e.event === 'connect' && e.address === '10.1.2.3' && e.via === BALANCER);
  });

  const bad: Array<[string, Buffer[], RegExp]> = [
    ['an SSH banner instead of a header', [Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')], /not a PROXY protocol header/],
    ['a v1 line of 200 bytes without CRLF', [Buffer.from('PROXY TCP4 ' + '1'.repeat(189))], /no CRLF within 107 bytes/],
    ['a v1 line ended by a bare LF', [Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 1 22\n')], /line feed without carriage return/],
    ['a v1 address with a leading zero', [Buffer.from('PROXY TCP4 10.01.2.3 127.0.0.1 1 22\r\n')], /bad TCP4 address/],
    ['a v2 header claiming 60000 bytes', [Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0xea, 0x60])])], /header length 60000 over 2048/],
    ['a v2 header of version 3', [Buffer.concat([SIG, Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)])], /version 3/],
    ['a v2 TLV longer than the header', [v2Header('10.1.2.3', 1, '127.0.0.1', 22, Buffer.from([0x04, 0x00, 0x09, 1]))], /TLV 0x4 longer/],
    ['a v2 PROXY header for AF_UNIX (the client cannot be named)', [Buffer.concat([SIG, Buffer.from([0x21, 0x31, 0, 216]), Buffer.alloc(216)])], /not TCP over IPv4\/IPv6/],
    ['half a v2 header, then silence', [SIG.subarray(0, 8)], /no complete PROXY header within 400 ms/],
    ['a v1 line trickled past the timeout', [Buffer.from('PROXY '), Buffer.from('TCP4 '), Buffer.from('10.1.2.3 ')], /within 400 ms/],
  ];
  for (const [what, chunks, reason] of bad) {
    test(`refused: ${what} (no banner was sent); the next connection is served`, async () => {
      const port = srv.server.port;
      const seen = srv.lines.length;
      const r = await exchange(port, chunks, { localAddress: BALANCER, gapMs: 250, waitMs: 3000 });
      assert.equal(r.closed, true);
      assert.equal(r.received.length, 0, 'nothing, banner included, is sent before the header is complete');
      const line = await srv.waitFor((e) => srv.lines.indexOf(e) >= seen && e.event === 'proxy-refused');
      assert.match(line.reason, reason);
      const ok = await exchange(port, [v1Header('10.9.9.9')], { localAddress: BALANCER, untilBanner: true });
      assert.ok(isBanner(ok.received));
    });
  }

  test('the banner waits for the header: none before its last byte, at once after (bytes after the header reach SSH)', async () => {
    const h = v2Header('10.1.2.3');
    let before = -1;
    const r = await exchange(srv.server.port, [h.subarray(0, 20), Buffer.concat([h.subarray(20), Buffer.from('SSH-2.0-test\r\n')])], {
      localAddress: BALANCER,
      gapMs: 200,
      untilBanner: true,
      beforeEach: (got) => (before = got.length),
    });
    assert.equal(before, 0);
    assert.ok(isBanner(r.received));
    await srv.waitFor((e) => e.event === 'client' && e.version === 'test');
  });
});

describe('the carried address is the client address (from=, per-source limits, logs)', () => {
  let withProxy: LocalServer;
  let without: LocalServer;
  before(async () => {
    withProxy = await startLocal({ hostKeys: [keys.hostKey], authorized, proxy: { from: BALANCER }, limits: { ...DEFAULT_LIMITS, perSourceMaxStartups: 1 } });
    without = await startLocal({ hostKeys: [keys.hostKey], authorized });
  });
  after(async () => {
    await withProxy.stop();
    await without.stop();
  });
  const login = (port: number, header: Buffer) => sshRun(port, { key: keys.key, command: 'whoami', extra: ['-o', viaHeader(port, header, BALANCER)] });

  test('from="10.1.2.3" lets in a client the header says is 10.1.2.3 (v2 and v1), not one it says is 10.9.9.9', async () => {
    for (const h of [v2Header('10.1.2.3', 51000), v1Header('10.1.2.3', '127.0.0.1', 51001)]) {
      const ok = await login(withProxy.server.port, h);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), 'alice');
    }
    const connect = await withProxy.waitFor((e) => e.event === 'connect' && e.port === 51000);
    assert.deepEqual([connect.address, connect.via], ['10.1.2.3', BALANCER]);
    const no = await login(withProxy.server.port, v2Header('10.9.9.9', 51002));
    assert.equal(no.status, 255);
    const fail = await withProxy.waitFor((e) => e.event === 'auth' && e.result === 'fail' && /10\.9\.9\.9 not permitted by from=/.test(e.reason));
    assert.equal(fail.user, 'alice');
  });

  test('without --proxy-protocol the same spoofed PROXY line is SSH garbage: no login, the address never seen', async () => {
    const r = await login(without.server.port, v2Header('10.1.2.3'));
    assert.notEqual(r.status, 0);
    const r1 = await login(without.server.port, v1Header('10.1.2.3'));
    assert.notEqual(r1.status, 0);
    await without.waitFor((e) => e.event === 'disconnect');
    assert.ok(without.lines.some((e) => e.event === 'connect' && e.address === BALANCER));
    assert.ok(!without.lines.some((e) => JSON.stringify(e).includes('10.1.2.3')), 'the carried address appears nowhere');
    assert.ok(!without.lines.some((e) => e.event === 'auth' && e.result === 'ok'));
  });

  test('--per-source-max-startups 1 counts the carried client, not the balancer', async () => {
    const port = withProxy.server.port;
    const first = exchange(port, [v2Header('10.0.0.1')], { localAddress: BALANCER, waitMs: 1500 });
    await withProxy.waitFor((e) => e.event === 'connect' && e.address === '10.0.0.1');
    // a second unauthenticated connection of 10.0.0.1 is cut; 10.0.0.2 behind the same balancer is not
    const second = await exchange(port, [v2Header('10.0.0.1')], { localAddress: BALANCER, waitMs: 1500 });
    assert.equal(second.closed, true);
    assert.equal(second.received.length, 0);
    const cut = await withProxy.waitFor((e) => e.event === 'cut' && e.reason === 'per-source-max-startups');
    assert.equal(cut.address, '10.0.0.1');
    const other = await exchange(port, [v2Header('10.0.0.2')], { localAddress: BALANCER, untilBanner: true });
    assert.ok(isBanner(other.received));
    assert.ok(isBanner((await first).received));
  });
});

describe('--proxy-protocol start-up checks (exit 2, one line)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no --proxy-from', ['--proxy-protocol'], /--proxy-protocol: needs --proxy-from CIDR/],
    ['--proxy-from alone', ['--proxy-from', '127.0.0.1'], /--proxy-from: only with --proxy-protocol/],
    ['a host name in --proxy-from', ['--proxy-protocol', '--proxy-from', 'lb.example.com'], /--proxy-from: invalid source-address entry "lb.example.com"/],
    ['host bits set', ['--proxy-protocol', '--proxy-from', '10.0.0.1/8'], /--proxy-from: invalid source-address entry "10.0.0.1\/8"/],
    ['an empty entry', ['--proxy-protocol', '--proxy-from', '10.0.0.0/8,'], /--proxy-from: invalid source-address entry ""/],
  ];
  for (const [what, flags, why] of cases) {
    test(`refused: ${what}`, () => {
      const r = sshkit(['serve', '--port', '0', '--authorized', authorized, '--host-key', keys.hostKey, ...flags]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  }
  test('control: a CIDR list of balancers starts', async () => {
    const s = await startServer({ args: ['--authorized', authorized, '--host-key', keys.hostKey, '--proxy-protocol', '--proxy-from', `10.0.0.0/8,${BALANCER},::1`] });
    assert.ok(s.port > 0);
    await s.stop();
  });
});

/**
 * Golden PROXY headers from HAProxy itself (Debian's /usr/sbin/haproxy 2.6, `send-proxy`,
 * `send-proxy-v2`, `proxy-v2-options crc32c`, and the LOCAL header of `check-send-proxy` health checks)
 * captured by a plain TCP listener and fed to core/proxy-protocol.ts: the parsed source must be the
 * client socket's own address and port (the client binds 127.0.0.2 or ::1), the destination HAProxy's
 * frontend, the balancer the address HAProxy's `source` binds (127.0.0.3), and the bytes after the
 * header exactly what the client wrote. Every prefix of each header is `need-more`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseProxyHeader } from '../src/core/proxy-protocol.js';
import { haveHaproxy, startHaproxy } from './haproxy-helper.js';

interface Capture {
  remote: string;
  bytes: Buffer;
}

/** A listener that keeps what each connection sent until it closes (or 2 s). */
function captureServer(): Promise<{ server: Server; port: number; got: Capture[]; next(pred: (c: Capture) => boolean): Promise<Capture> }> {
  const got: Capture[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((s: Socket) => {
    const cap: Capture = { remote: s.remoteAddress ?? '', bytes: Buffer.alloc(0) };
    s.on('data', (d) => {
      cap.bytes = Buffer.concat([cap.bytes, d]);
      if (!got.includes(cap)) got.push(cap);
      for (const w of [...waiters]) w();
    });
    s.on('error', () => undefined);
    setTimeout(() => s.destroy(), 2000).unref();
  });
  const next = (pred: (c: Capture) => boolean) =>
    new Promise<Capture>((resolve, reject) => {
      const check = () => {
        const hit = got.find(pred);
        if (hit) (waiters.delete(check), clearTimeout(t), resolve(hit));
      };
      const t = setTimeout(() => (waiters.delete(check), reject(new Error('nothing captured'))), 5000);
      waiters.add(check);
      check();
    });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, got, next })));
}

/** Connects to HAProxy from `local`, writes a marker, resolves with the client's own port. */
function clientThrough(host: string, port: number, local: string, marker: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, localAddress: local }, () => {
      s.write(marker);
      resolve(s.localPort!);
      setTimeout(() => s.destroy(), 1000);
    });
    s.on('error', reject);
  });
}

describe('PROXY headers sent by HAProxy parse to the real endpoints', { skip: !haveHaproxy && 'no /usr/sbin/haproxy' }, () => {
  let cap: Awaited<ReturnType<typeof captureServer>>;
  before(async () => {
    cap = await captureServer();
  });
  after(() => cap.server.close());

  for (const [name, option] of [
    ['v1 (send-proxy)', 'send-proxy'],
    ['v2 (send-proxy-v2)', 'send-proxy-v2'],
    ['v2 with a CRC32C TLV (proxy-v2-options crc32c)', 'send-proxy-v2 proxy-v2-options crc32c'],
  ] as const) {
    test(name, async () => {
      const hap = await startHaproxy([`server s1 127.0.0.1:${cap.port} ${option} source 127.0.0.3`], [], ['[::1]']);
      try {
        for (const [host, local, family] of [
          ['127.0.0.1', '127.0.0.2', 'TCP4'],
          ['::1', '::1', 'TCP6'],
        ] as const) {
          const marker = `marker-${family}-${Math.random()}`;
          const clientPort = await clientThrough(host, hap.port, local, marker);
          const c = await cap.next((x) => x.bytes.includes(marker));
          const r = parseProxyHeader(c.bytes);
          assert.equal(r.kind, 'header', JSON.stringify(r));
          if (r.kind !== 'header') return;
          const h = r.header;
          assert.deepEqual(
            { version: h.version, command: h.command, family: h.family, src: h.src, srcPort: h.srcPort, dst: h.dst, dstPort: h.dstPort },
            { version: option.includes('v2') ? 2 : 1, command: 'PROXY', family, src: local, srcPort: clientPort, dst: host, dstPort: hap.port },
          );
          assert.equal(c.bytes.subarray(h.headerLength).toString(), marker);
          assert.equal(c.remote, '127.0.0.3');
          if (option.includes('crc32c')) assert.ok(h.headerLength > 16 + (family === 'TCP4' ? 12 : 36), 'the TLV is inside the header');
          for (let i = 0; i < h.headerLength; i++) assert.equal(parseProxyHeader(c.bytes.subarray(0, i)).kind, 'need-more', `prefix ${i}`);
        }
      } finally {
        await hap.stop();
      }
    });
  }

  test('v2 LOCAL from check-send-proxy health checks: accepted, no addresses (the real endpoints are used)', async () => {
    const hap = await startHaproxy([`server s1 127.0.0.1:${cap.port} send-proxy-v2 proxy-v2-options crc32c check inter 200ms check-send-proxy`]);
    try {
      const c = await cap.next((x) => x.bytes[12] === 0x20);
      const r = parseProxyHeader(c.bytes);
      assert.equal(r.kind, 'header');
      if (r.kind !== 'header') return;
      assert.deepEqual([r.header.command, r.header.family, r.header.src, r.header.headerLength], ['LOCAL', 'UNKNOWN', undefined, c.bytes.length]);
    } finally {
      await hap.stop();
    }
  });
});

/**
 * PROXY protocol test tools: headers built as proxy-protocol.txt lays them out, a raw TCP client that
 * binds a chosen loopback source (127.0.0.2, 127.0.0.3 … are all local on Linux) and reports what the
 * server sent back, a `ProxyCommand` script that lets the real OpenSSH `ssh` speak through a PROXY
 * header, and an in-process `startSshServer` with its log captured (for options the CLI does not expose,
 * such as a short header timeout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startSshServer, type RunningServer, type ServeOptions } from '../src/server/server.js';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import { openssh, tempDir } from './helpers.js';

/** `PROXY TCP4|TCP6 src dst sport dport\r\n`. */
export function v1Header(src: string, dst = '127.0.0.1', srcPort = 40000, dstPort = 22): Buffer {
  return Buffer.from(`PROXY ${src.includes(':') ? 'TCP6' : 'TCP4'} ${src} ${dst} ${srcPort} ${dstPort}\r\n`, 'latin1');
}

export const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 PROXY/TCP4 header (`tlvs` appended to the address block). */
export function v2Header(src: string, srcPort = 40000, dst = '127.0.0.1', dstPort = 22, tlvs: Buffer = Buffer.alloc(0), cmd = 0x21): Buffer {
  const ip = (a: string) => Buffer.from(a.split('.').map(Number));
  const body = Buffer.concat([ip(src), ip(dst), Buffer.from([srcPort >> 8, srcPort & 255, dstPort >> 8, dstPort & 255]), tlvs]);
  return Buffer.concat([SIG, Buffer.from([cmd, 0x11, body.length >> 8, body.length & 255]), body]);
}

/** What a raw client got: the bytes the server sent and whether the server closed. */
export interface Exchange {
  readonly received: Buffer;
  readonly closed: boolean;
}

/**
 * Connects from `localAddress`, writes each chunk (waiting `gapMs` between them), then waits up to
 * `waitMs` for the server to close (or for an SSH banner, when `untilBanner`).
 */
export function exchange(port: number, chunks: Buffer[], o: { localAddress?: string; gapMs?: number; waitMs?: number; untilBanner?: boolean; beforeEach?: (got: Buffer) => void } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const s = connect({ host: '127.0.0.1', port, localAddress: o.localAddress });
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(t);
      s.destroy();
      resolve({ received, closed });
    };
    const t = setTimeout(() => finish(false), o.waitMs ?? 3000);
    s.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (o.untilBanner && received.includes('\r\n')) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', async () => {
      for (const [i, c] of chunks.entries()) {
        if (i > 0 && o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
        o.beforeEach?.(received);
        if (!s.destroyed) s.write(c);
      }
    });
  });
}

/** A user key made by ssh-keygen, and a host key file, in a temp folder. */
export function makeKeys(dir: string): { key: string; pub: string; hostKey: string } {
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'host_ed25519');
  for (const f of [key, hostKey]) if (openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', f]).status !== 0) throw new Error('ssh-keygen failed');
  return { key, pub: readFileSync(key + '.pub', 'utf8').trim(), hostKey };
}

/**
 * A `ProxyCommand` for ssh: connects to 127.0.0.1:PORT from LOCAL, sends the base64 HEADER, then relays
 * stdin/stdout — the client side of a balancer, in one small script.
 */
export function proxyCommandScript(dir: string): (port: number, header: Buffer, local: string) => string {
  const file = join(dir, 'pp-connect.mjs');
  writeFileSync(
    file,
    `import net from 'node:net';
const [port, header, local] = process.argv.slice(2);
const s = net.connect({ host: '127.0.0.1', port: Number(port), localAddress: local }, () => {
  s.write(Buffer.from(header, 'base64'));
  process.stdin.pipe(s);
  s.pipe(process.stdout);
});
s.on('close', () => process.exit(0));
s.on('error', () => process.exit(1));
`,
  );
  return (port, header, local) => `ProxyCommand=${process.execPath} ${file} ${port} ${header.toString('base64')} ${local}`;
}

/** An in-process server with its JSON log lines kept. */
export interface LocalServer {
  readonly server: RunningServer;
  readonly lines: Array<Record<string, any>>;
  waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** Starts `startSshServer` on 127.0.0.1:0 with `opts` over test defaults. */
export async function startLocal(opts: Partial<ServeOptions> & { hostKeys: string[]; authorized: string }): Promise<LocalServer> {
  const lines: Array<Record<string, any>> = [];
  const waiters = new Set<() => void>();
  const server = await startSshServer({
    host: '127.0.0.1',
    port: 0,
    admins: [],
    exec: 'builtin',
    limits: DEFAULT_LIMITS,
    logFormat: 'json',
    logSink: (l) => {
      lines.push(JSON.parse(l));
      for (const w of [...waiters]) w();
    },
    ...opts,
  });
  const waitFor = (pred: (e: Record<string, any>) => boolean, timeoutMs = 5000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(pred);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve(hit);
      };
      const t = setTimeout(() => (waiters.delete(check), reject(new Error(`no such log line; got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`))), timeoutMs);
      waiters.add(check);
      check();
    });
  return { server, lines, waitFor, stop: () => server.stop() };
}

export { tempDir };

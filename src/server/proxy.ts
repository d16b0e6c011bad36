/**
 * `--proxy-protocol` (issue 17): every accepted socket must begin with a PROXY protocol v1/v2 header
 * (core/proxy-protocol.ts) from a load balancer named by `--proxy-from CIDR,...`, and the address it
 * carries becomes the connection's client address — the one `from=`, certificate `source-address`,
 * `--per-source-max-startups` and every log line see. Nothing reaches ssh2 (so no SSH banner is sent)
 * before the header is complete: the balancer speaks first. A socket from any other address is
 * refused before a byte is read; a header that is garbage, longer than the spec allows, or not complete
 * within {@link HEADER_TIMEOUT_MS} (the spec: "at least 3 seconds to cover a TCP retransmit") ends that
 * socket only, logged as `proxy-refused`. Without the flag the listener is unchanged, so a PROXY line
 * from a client is just bytes that are not SSH.
 * Choice where the issue is silent: `--proxy-protocol` without `--proxy-from` refuses to start (there
 * is no safe default set of balancers: loopback would let every local user claim any address).
 */
import type { Socket } from 'node:net';
import { canonicalAddress, matchCidrList } from '../core/addr.js';
import { bad } from '../core/errors.js';
import { parseProxyHeader, V1_MAX_LINE, V2_MAX_BODY } from '../core/proxy-protocol.js';
import type { Logger } from './log.js';

/** Milliseconds a balancer has to send the complete header. */
export const HEADER_TIMEOUT_MS = 5000;

/** ServeOptions.proxy: the balancers' CIDR list (required), and a header timeout for tests. */
export interface ProxyOptions {
  readonly from?: string;
  readonly headerTimeoutMs?: number;
}

/** The client as the server should see it; `via` is the balancer when a PROXY header named the client. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly via?: { readonly address: string; readonly port: number };
}

/** What the server does with an admitted socket, positioned at the client's first SSH byte. */
export type OnSocket = (socket: Socket, peer: Peer) => void;

/** Checks `--proxy-from` once at start: required with `--proxy-protocol`, every entry an address or CIDR. */
export function checkProxyOptions(proxy: ProxyOptions | undefined): void {
  if (!proxy) return;
  if (proxy.from === undefined || proxy.from.trim() === '') throw bad('--proxy-protocol: needs --proxy-from CIDR,... naming the load balancers allowed to send the header');
  try {
    matchCidrList(proxy.from, '127.0.0.1');
  } catch (err) {
    throw bad(`--proxy-from: ${(err as Error).message}`);
  }
}

/** The socket's own peer (mapped IPv6 shown as IPv4, as sshd). */
function realPeer(socket: Socket): Peer {
  return { address: canonicalAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
}

/**
 * The `net.createServer` listener: without `proxy`, hands each socket on with its own peer; with it,
 * refuses sockets from outside `proxy.from`, reads and strips the header, and hands the socket on with
 * the carried client (LOCAL and UNKNOWN headers keep the real peer, as the spec says).
 */
export function acceptSocket(proxy: ProxyOptions | undefined, log: Logger, onSocket: OnSocket): (socket: Socket) => void {
  if (!proxy) return (socket) => onSocket(socket, realPeer(socket));
  const from = proxy.from ?? '';
  const timeoutMs = proxy.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
  const cap = Math.max(V1_MAX_LINE, 16 + V2_MAX_BODY);
  return (socket) => {
    socket.on('error', () => undefined);
    const balancer = realPeer(socket);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const refuse = (reason: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      log.event('proxy-refused', { address: balancer.address, port: balancer.port, reason });
      socket.destroy();
    };
    if (!matchCidrList(from, balancer.address)) return refuse('not a --proxy-from address');
    let got: Buffer = Buffer.alloc(0);
    timer = setTimeout(() => refuse(`no complete PROXY header within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      const r = parseProxyHeader(got.length > cap ? got.subarray(0, cap) : got);
      if (r.kind === 'need-more') return;
      socket.off('data', onData);
      if (r.kind === 'error') return refuse(r.reason);
      done = true;
      clearTimeout(timer);
      socket.pause(); // ssh2 attaches its reader and resumes; the bytes after the header wait for it
      const rest = got.subarray(r.header.headerLength);
      if (rest.length > 0) socket.unshift(rest);
      const h = r.header;
      const carried = h.family !== 'UNKNOWN' && h.src !== undefined;
      onSocket(socket, carried ? { address: canonicalAddress(h.src!), port: h.srcPort ?? 0, via: balancer } : balancer);
    };
    socket.on('data', onData);
    socket.once('close', () => refuse('closed before a complete PROXY header'));
  };
}

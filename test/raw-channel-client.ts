/**
 * A hostile client for the channel tests: ssh2's Client, logged in with a real key, with hands on its
 * protocol layer to do what a well-behaved client never does — advertise a 4 GiB window, stop reading the
 * socket, send data past the server's window, send a second exec on one channel, flood window-changes.
 *
 *   const c = await rawConnect(port, key);
 *   const ch = await rawExec(c, 'cat /dev/zero', { window: 0xffffffff });
 *   c.stopReading();
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type * as Ssh2 from 'ssh2';

const { Client } = createRequire(import.meta.url)('ssh2') as typeof Ssh2;

/** A logged-in connection and the internals the attacks need. */
export interface RawConn {
  readonly client: Ssh2.Client;
  /** ssh2's Protocol object (channelData, exec, windowChange, …). */
  readonly proto: any;
  /** Stops reading the TCP socket: the kernel buffers fill and the server's writes queue up. */
  stopReading(): void;
  /** Resolves when the server closes the connection (or it fails). */
  readonly closed: Promise<void>;
  end(): void;
}

/** Connects and logs in as `user` with the OpenSSH private key file `key`. */
export function rawConnect(port: number, key: string, user = 'alice'): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let done: () => void;
    const closed = new Promise<void>((r) => (done = r));
    client.on('error', (err) => reject(err));
    client.on('close', () => done());
    client.on('ready', () => {
      const c = client as any;
      resolve({
        client,
        proto: c._protocol,
        stopReading: () => c._sock.pause(),
        closed,
        end: () => {
          client.end();
          c._sock?.destroy();
        },
      });
    });
    client.connect({ host: '127.0.0.1', port, username: user, privateKey: readFileSync(key), readyTimeout: 20_000 });
  });
}

export interface ExecOptions {
  /** The window this client advertises in CHANNEL_OPEN (ssh2's default 2 MiB). */
  window?: number;
  pty?: { rows: number; cols: number; term?: string };
}

/** Opens a session channel and starts `command` (null: a shell); resolves with ssh2's channel stream. */
export function rawExec(c: RawConn, command: string | null, o: ExecOptions = {}): Promise<Ssh2.ClientChannel> {
  const proto = c.proto;
  const orig = proto.session;
  if (o.window !== undefined) proto.session = (chan: number, _win: number, pkt: number) => orig.call(proto, chan, o.window, pkt);
  const opts = o.pty ? { pty: { rows: o.pty.rows, cols: o.pty.cols, term: o.pty.term ?? 'xterm' } } : {};
  return new Promise<Ssh2.ClientChannel>((resolve, reject) => {
    const cb = (err: Error | undefined, ch: Ssh2.ClientChannel) => (err ? reject(err) : resolve(ch));
    if (command === null) c.client.shell(o.pty ? { rows: o.pty.rows, cols: o.pty.cols, term: o.pty.term ?? 'xterm' } : false, cb);
    else c.client.exec(command, opts, cb);
  }).finally(() => {
    proto.session = orig;
  });
}

/**
 * Sends a channel request of `type` with want-reply on an open channel and resolves with the server's
 * answer (true: SUCCESS, false: FAILURE), 'closed' if the connection ended first, 'no answer' after `ms`.
 */
export function rawRequest(c: RawConn, ch: Ssh2.ClientChannel, send: (proto: any, id: number) => void, ms = 10_000): Promise<boolean | 'closed' | 'no answer'> {
  return new Promise((resolve) => {
    (ch as any)._callbacks.push((failed: boolean) => resolve(!failed));
    c.closed.then(() => resolve('closed'));
    setTimeout(() => resolve('no answer'), ms).unref();
    send(c.proto, (ch as any).outgoing.id);
  });
}

/** Sends `data` as CHANNEL_DATA packets of `packet` bytes, ignoring the server's window. */
export function rawData(c: RawConn, ch: Ssh2.ClientChannel, data: Buffer, packet = 32_000): void {
  const id = (ch as any).outgoing.id;
  for (let i = 0; i < data.length; i += packet) c.proto.channelData(id, data.subarray(i, i + packet));
}

/** The server's RSS in MiB, from /proc/PID/status. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

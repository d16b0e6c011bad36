/**
 * A raw SSH client for attack tests, built on ssh2's protocol layer (`ssh2/lib/protocol/Protocol.js`
 * in client mode): it does the real key exchange and `ssh-userauth` service request, then lets a test
 * send whatever it likes — pipelined USERAUTH requests, unknown methods, raw payloads — without
 * waiting for answers, and records every answer in order.
 *
 *   const c = await rawConnect(port, { ident: 'evil\x1b[31m' });  // kex done, service accepted
 *   c.password('alice', 'wrong'); c.none('alice'); c.pkQuery('alice', pubText);   // pipelined
 *   const replies = await c.until((evs) => evs.filter(isAuthReply).length >= 3);
 *   await c.closed;                                                 // socket closed (by either side)
 *
 * Events (`c.events`, in arrival order): `{ kind: 'failure', methods, partial }`, `{ kind: 'success' }`,
 * `{ kind: 'pk-ok', algorithm }`, `{ kind: 'disconnect', reason, desc }`, `{ kind: 'open-ok', channel }`,
 * `{ kind: 'open-fail', channel, reason }`, `{ kind: 'chan-success' | 'chan-failure', channel }`,
 * `{ kind: 'data', channel, data }`, `{ kind: 'close', channel }`, `{ kind: 'error', message }`.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';

const require = createRequire(import.meta.url);
const Protocol = require('ssh2/lib/protocol/Protocol.js');
const { sendPacket } = require('ssh2/lib/protocol/utils.js');
const { parseKey } = require('ssh2/lib/protocol/keyParser.js');

/** One thing the server sent (or the connection did), in arrival order. */
export type RawEvent =
  | { kind: 'failure'; methods: string[]; partial: boolean }
  | { kind: 'success' }
  | { kind: 'pk-ok'; algorithm: string }
  | { kind: 'disconnect'; reason: number; desc: string }
  | { kind: 'open-ok'; channel: number }
  | { kind: 'open-fail'; channel: number; reason: number }
  | { kind: 'chan-success' | 'chan-failure' | 'close' | 'eof'; channel: number }
  | { kind: 'data'; channel: number; data: Buffer }
  | { kind: 'error'; message: string };

/** Is this event an answer to a USERAUTH_REQUEST? */
export const isAuthReply = (e: RawEvent): boolean => e.kind === 'failure' || e.kind === 'success' || e.kind === 'pk-ok';

export interface RawClient {
  readonly socket: Socket;
  /** ssh2's client-mode Protocol, for anything not wrapped here. */
  readonly proto: any;
  readonly events: RawEvent[];
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>;
  /** Sends one packet whose payload is `payload` (first byte: the message number). */
  send(payload: Buffer): void;
  /** USERAUTH_REQUEST method "none". */
  none(user: string): void;
  password(user: string, password: string): void;
  /** A key-only publickey query (no signature), `pub` as an OpenSSH public key line. */
  pkQuery(user: string, pub: string, algorithm?: string): void;
  /** A signed publickey request with the private key `priv` (OpenSSH text, unencrypted). */
  pkSign(user: string, priv: string, algorithm?: string): void;
  /** A USERAUTH_REQUEST with any method name and raw method-specific bytes. */
  method(user: string, method: string | Buffer, rest?: Buffer): void;
  /** Opens a session channel with local id `channel`. */
  session(channel: number): void;
  /** An exec request on our channel `channel` (recipient is the server's id for it). */
  exec(channel: number, command: string): void;
  /** Resolves once `pred(events)` holds (rejects after `ms`, or when the socket closes first). */
  until(pred: (events: RawEvent[]) => boolean, ms?: number): Promise<RawEvent[]>;
  end(): void;
}

/** The event kinds in order, runs folded (`pk-ok×1000, disconnect`), for failure messages. */
export function summary(events: readonly RawEvent[]): string {
  const out: string[] = [];
  let last = '';
  let n = 0;
  for (const e of [...events.map((x) => x.kind), '']) {
    if (e === last) n++;
    else {
      if (last) out.push(n > 1 ? `${last}×${n}` : last);
      last = e;
      n = 1;
    }
  }
  return out.join(', ');
}

function str(b: Buffer | string): Buffer {
  const v = Buffer.isBuffer(b) ? b : Buffer.from(b, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(v.length);
  return Buffer.concat([len, v]);
}

/** Connects, does the key exchange and the `ssh-userauth` service request; resolves when accepted. */
export function rawConnect(port: number, opts: { host?: string; ident?: string | Buffer } = {}): Promise<RawClient> {
  const socket = connect(port, opts.host ?? '127.0.0.1');
  socket.setNoDelay(true);
  const events: RawEvent[] = [];
  const waiters = new Set<() => void>();
  const push = (e: RawEvent) => {
    events.push(e);
    for (const w of [...waiters]) w();
  };
  const remote = new Map<number, number>(); // our channel id → server's
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      for (const w of [...waiters]) w();
      resolve();
    }),
  );
  socket.on('error', (err) => push({ kind: 'error', message: err.message }));

  return new Promise<RawClient>((resolve, reject) => {
    const proto = new Protocol({
      ident: opts.ident ?? 'sshkit_raw_test',
      onWrite: (d: Buffer) => !socket.destroyed && socket.write(d),
      onError: (err: Error) => {
        push({ kind: 'error', message: err.message });
        socket.destroy();
      },
      onHandshakeComplete: () => proto.service('ssh-userauth'),
      messageHandlers: {
        SERVICE_ACCEPT: () => resolve(client),
        DISCONNECT: (_p: unknown, reason: number, desc: string) => push({ kind: 'disconnect', reason, desc }),
        USERAUTH_FAILURE: (_p: unknown, methods: string[], partial: boolean) => {
          push({ kind: 'failure', methods, partial });
        },
        USERAUTH_SUCCESS: () => {
          push({ kind: 'success' });
        },
        USERAUTH_PK_OK: (_p: unknown, algorithm: string) => {
          push({ kind: 'pk-ok', algorithm });
        },
        CHANNEL_OPEN_CONFIRMATION: (_p: unknown, info: any) => {
          remote.set(info.recipient, info.sender);
          push({ kind: 'open-ok', channel: info.recipient });
        },
        CHANNEL_OPEN_FAILURE: (_p: unknown, channel: number, reason: number) => push({ kind: 'open-fail', channel, reason }),
        CHANNEL_SUCCESS: (_p: unknown, channel: number) => push({ kind: 'chan-success', channel }),
        CHANNEL_FAILURE: (_p: unknown, channel: number) => push({ kind: 'chan-failure', channel }),
        CHANNEL_DATA: (_p: unknown, channel: number, data: Buffer) => push({ kind: 'data', channel, data: Buffer.from(data) }),
        CHANNEL_EXTENDED_DATA: (_p: unknown, channel: number, data: Buffer) => push({ kind: 'data', channel, data: Buffer.from(data) }),
        CHANNEL_EOF: (_p: unknown, channel: number) => push({ kind: 'eof', channel }),
        CHANNEL_CLOSE: (_p: unknown, channel: number) => {
          // Answer with our own CLOSE, as every real client does (RFC 4254 §5.3), so the server can free it.
          const r = remote.get(channel);
          if (r !== undefined && !socket.destroyed) proto.channelClose(r);
          remote.delete(channel);
          push({ kind: 'close', channel });
        },
        CHANNEL_REQUEST: () => undefined,
        CHANNEL_WINDOW_ADJUST: () => undefined,
        GLOBAL_REQUEST: () => undefined,
      },
    });
    const send = (payload: Buffer) => {
      const p = proto._packetRW.write.allocStart;
      const packet = proto._packetRW.write.alloc(payload.length);
      packet.set(payload, p);
      sendPacket(proto, proto._packetRW.write.finalize(packet));
    };
    const method = (user: string, m: string | Buffer, rest: Buffer = Buffer.alloc(0)) => {
      proto._authsQueue.push(String(m));
      send(Buffer.concat([Buffer.from([50]), str(user), str('ssh-connection'), str(m), rest]));
    };
    const client: RawClient = {
      socket,
      proto,
      events,
      closed,
      send,
      none: (user) => proto.authNone(user),
      password: (user, pw) => proto.authPassword(user, pw),
      pkQuery: (user, pub, algorithm) => proto.authPK(user, pub, algorithm),
      pkSign: (user, priv, algorithm) => {
        const key = parseKey(priv);
        if (key instanceof Error) throw key;
        proto.authPK(user, key.getPublicSSH(), algorithm, (data: Buffer, cb: (sig: Buffer) => void) => cb(key.sign(data, algorithm === 'rsa-sha2-512' ? 'sha512' : algorithm === 'rsa-sha2-256' ? 'sha256' : undefined)));
      },
      method,
      session: (channel) => proto.session(channel, 2 * 1024 * 1024, 32768),
      exec: (channel, command) => {
        const r = remote.get(channel);
        if (r === undefined) throw new Error(`channel ${channel} is not open`);
        proto.exec(r, command, true);
      },
      until: (pred, ms = 15_000) =>
        new Promise<RawEvent[]>((res, rej) => {
          const check = () => {
            if (pred(events)) {
              waiters.delete(check);
              clearTimeout(t);
              res(events);
            } else if (isClosed) {
              waiters.delete(check);
              clearTimeout(t);
              rej(new Error(`connection closed; events: ${summary(events)}`));
            }
          };
          const t = setTimeout(() => {
            waiters.delete(check);
            rej(new Error(`timed out; events: ${summary(events)}`));
          }, ms);
          waiters.add(check);
          check();
        }),
      end: () => socket.end(),
    };
    socket.on('data', (d: Buffer) => {
      try {
        proto.parse(d, 0, d.length);
      } catch (err) {
        push({ kind: 'error', message: (err as Error).message });
        socket.destroy();
      }
    });
    socket.once('connect', () => proto.start());
    socket.once('close', () => reject(new Error(`connection closed before the service was accepted: ${JSON.stringify(events)}`)));
  });
}

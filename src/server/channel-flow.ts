/**
 * Channel flow control that ssh2 1.17 leaves out on the server side (RFC 4254 §5.2), in one file: the
 * channel-layer counterpart of protocol.ts, and the only session code that touches ssh2 internals.
 *  - Output: ssh2 hands channel data to the socket as long as the peer's window allows. A peer that
 *    advertises a 4 GiB window and stops reading made the socket's buffer grow without end (+1.5 GB in
 *    8 s of `--exec os cat /dev/zero`). `OutputGate` bounds what waits per channel, counting the
 *    channel's own queue (window closed) and the connection's socket queue (window open, peer not reading).
 *  - Input: ssh2 re-opens the window while 2 MiB wait unread; `limitReadAhead` caps that at 64 KiB.
 *    ssh2 drops CHANNEL_DATA only when our window is exactly 0; a packet that overruns it drives
 *    the window negative and everything after it is queued. `guardIncomingWindow` disconnects such a
 *    peer, as Go's x/crypto/ssh does ("ssh: remote side wrote too much").
 *  - Replies: once a shell or exec has started, ssh2's accept/reject do nothing (and accept returns
 *    undefined, which threw `Cannot read properties of undefined (reading 'on')` and dropped the
 *    connection). `answerLate` sends the CHANNEL_FAILURE itself.
 */

import type { Writable } from 'node:stream';

/** A socket as these fixes use it: its queue, its drain/close events, its bytes read. */
interface SocketLike {
  readonly writableLength: number;
  readonly destroyed: boolean;
  readonly bytesRead?: number;
  on(event: 'drain', fn: () => void): unknown;
  once(event: 'close', fn: () => void): unknown;
  pause(): unknown;
  end(cb?: () => void): unknown;
  destroy(): unknown;
}

/** The parts of ssh2 1.17's server connection these fixes read (not in its public types). */
interface ConnectionInternals {
  _sock?: SocketLike;
  _protocol?: {
    _handlers?: { CHANNEL_DATA?: (p: unknown, recipient: number, data: Buffer) => void };
    channelSuccess(id: number): void;
    channelFailure(id: number): void;
    disconnect(reason: number): void;
  };
  _chanMgr?: { get(id: number): unknown };
}

/** The parts of an ssh2 channel (or Session) these fixes read. */
interface ChannelInternals {
  _client?: ConnectionInternals;
  _readableState?: { highWaterMark: number };
  _channel?: { incoming?: { window?: number } };
  incoming?: { window?: number };
  _chanInfo?: { outgoing?: { id?: number; state?: string } };
}

/** Output allowed to wait unsent per channel before its producer is paused. */
export const OUTPUT_HIGH = 256 * 1024;

/** SSH_DISCONNECT_PROTOCOL_ERROR (RFC 4250 §4.2.2). */
const DISCONNECT_PROTOCOL_ERROR = 2;

const socketWaiters = new WeakMap<object, Array<() => void>>();
/**
 * Runs `fn` once at the socket's next 'drain' or 'close'. One listener pair per socket, however many
 * channels wait on it (a listener per channel would pass Node's 10-listener warning).
 */
function onSocketProgress(sock: SocketLike, fn: () => void): void {
  let list = socketWaiters.get(sock);
  if (!list) {
    const waiting: Array<() => void> = [];
    socketWaiters.set(sock, (list = waiting));
    const run = () => {
      for (const f of waiting.splice(0)) f();
    };
    sock.on('drain', run);
    sock.once('close', run);
  }
  list.push(fn);
}

/** The ssh2 server-side connection a channel belongs to. */
function connectionOf(channel: object | null | undefined): ConnectionInternals | undefined {
  return (channel as ChannelInternals | null | undefined)?._client;
}

/** The TCP socket under a channel's connection (OutputGate counts its queue); undefined off ssh2. */
export function socketOfChannel(channel: object): SocketLike | undefined {
  return connectionOf(channel)?._sock;
}

/**
 * Producer-side backpressure for one session channel: `write` says whether the producer may go on;
 * when it may not, `whenReady` runs its callback once the backlog is below OUTPUT_HIGH again (or the
 * channel closed). Writes are never refused: a paused producer stops after at most one more chunk.
 */
export class OutputGate {
  private readonly waiters: Array<() => void> = [];
  private armed = false;
  private closed = false;

  /** `out`/`err`: the channel and its stderr; `sock`: the connection's socket (absent off ssh2, e.g. in tests). */
  constructor(
    private readonly out: Writable,
    private readonly err: Writable,
    private readonly sock?: SocketLike,
  ) {
    out.once('close', () => {
      this.closed = true;
      this.release();
    });
  }

  /** Bytes queued for this channel's peer: in the channel (window closed) and in the connection's socket. */
  backlog(): number {
    return (this.out.writableLength ?? 0) + (this.err.writableLength ?? 0) + (this.sock?.writableLength ?? 0);
  }

  /** Writes `data` to `stream` (the channel or its stderr) unless gone; false: stop producing, call `whenReady`. */
  write(stream: Writable, data: string | Buffer): boolean {
    if (this.closed || !stream?.writable) return true;
    try {
      stream.write(data, () => this.check());
    } catch {
      return true; // closed under us
    }
    return this.backlog() < OUTPUT_HIGH;
  }

  /** Runs `fn` once the backlog has gone below OUTPUT_HIGH (at once if it already has). */
  whenReady(fn: () => void): void {
    this.waiters.push(fn);
    this.check();
  }

  private check(): void {
    if (this.waiters.length === 0) return;
    if (this.closed || this.backlog() < OUTPUT_HIGH) return this.release();
    // Still full. Progress comes from a write callback (the peer's window opened) or from the socket's
    // 'drain': when the socket holds ≥ its high-water mark, one of its writes returned false, so 'drain' comes.
    const sock = this.sock;
    if (sock && !this.armed) {
      this.armed = true;
      onSocketProgress(sock, () => {
        this.armed = false;
        if (sock.destroyed) this.closed = true;
        this.check();
      });
    }
  }

  private release(): void {
    for (const fn of this.waiters.splice(0)) fn();
  }
}

/** Input read ahead of its consumer per channel (ssh2: 2 MiB, on top of the 2 MiB window). */
export const INPUT_HIGH = 64 * 1024;

/**
 * ssh2 grants more window whenever its read buffer is under its 2 MiB high-water mark, so a stalled
 * consumer could hold 2 MiB read ahead plus a fresh 2 MiB window. With a 64 KiB mark a channel holds at
 * most its window (2 MiB, what ssh2 grants at open) plus 64 KiB, whatever the peer does.
 */
export function limitReadAhead(channel: object): void {
  const state = (channel as ChannelInternals)._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = Math.min(state.highWaterMark, INPUT_HIGH);
}

const guarded = new WeakSet<object>();

/**
 * Disconnects a peer that sends channel data past the window we granted (RFC 4254 §5.2: "the
 * recipient MAY ignore" it; ssh2 instead queues it once the window is not exactly 0). Installed once
 * per connection; `onOverrun` is told before the connection ends.
 */
export function guardIncomingWindow(channel: object, onOverrun: (info: { window: number; got: number; received?: number }) => void): void {
  const client = connectionOf(channel);
  const proto = client?._protocol;
  if (!client || !proto?._handlers?.CHANNEL_DATA || guarded.has(client)) return;
  guarded.add(client);
  const handlers = proto._handlers;
  const orig = handlers.CHANNEL_DATA!;
  let cut = false;
  handlers.CHANNEL_DATA = (p: unknown, recipient: number, data: Buffer) => {
    if (cut) return;
    let ch = client._chanMgr?.get(recipient) as ChannelInternals | undefined;
    if (ch && typeof ch === 'object' && '_chanInfo' in ch) ch = ch._channel; // a Session: its started channel
    const window = ch?.incoming?.window;
    if (typeof window === 'number' && data.length > window) {
      cut = true;
      onOverrun({ window, got: data.length, received: client._sock?.bytesRead });
      proto.disconnect(DISCONNECT_PROTOCOL_ERROR);
      // read nothing more from it (what it sent is not wanted); close once the DISCONNECT is out
      const sock = client._sock;
      sock?.pause();
      sock?.end(() => sock.destroy());
      setTimeout(() => sock?.destroy(), 2000).unref(); // a peer that does not read the DISCONNECT either
      return;
    }
    orig(p, recipient, data);
  };
}

/**
 * Answers a channel request that arrives after shell/exec started, when ssh2's own accept/reject are
 * no-ops: CHANNEL_FAILURE (or SUCCESS if `ok`). `wantsReply` is one of ssh2's callbacks, which it passes
 * only when the client asked for a reply; without one nothing is sent (RFC 4254 §5.4).
 */
export function answerLate(connection: object, session: object, wantsReply: unknown, ok = false): void {
  if (typeof wantsReply !== 'function') return;
  const client = connection as ConnectionInternals;
  const out = (session as ChannelInternals)._chanInfo?.outgoing;
  if (!client?._protocol || typeof out?.id !== 'number' || out.state !== 'open') return;
  try {
    if (ok) client._protocol.channelSuccess(out.id);
    else client._protocol.channelFailure(out.id);
  } catch {
    /* connection gone */
  }
}

/**
 * Writes unless the stream is gone; false when the stream's buffer is full (wait for 'drain').
 * `done` runs once the data has been handed on (or at once if the stream is gone).
 */
export function safeWrite(stream: Writable, data: string | Buffer, done?: () => void): boolean {
  try {
    if (stream.writable) return stream.write(data, done ? () => done() : undefined) !== false;
  } catch {
    /* closed */
  }
  done?.();
  return true;
}

/**
 * What ssh2 1.17's server-side SFTP leaves out, closed in one file (the only sftp code touching ssh2
 * internals; see lib/protocol/SFTP.js):
 *  - its VERSION reply is a fixed 9-byte packet with no extensions, so OpenSSH's client never uses
 *    statvfs@openssh.com (`df` said "Server does not support"), posix-rename, hardlink, fsync or
 *    limits. `announceExtensions` swaps in a VERSION naming ours (PROTOCOL §4.x, as sftp-server.c).
 *  - it has no SSH_FXP_EXTENDED_REPLY writer: `sendRaw` queues a packet exactly as its own
 *    sendOrBuffer()/tryWritePayload() do (window, packet size, its `_buffer` drained in order).
 *  - its server methods return nothing, so output backpressure is read off its queue and the socket
 *    (`backlog`), and input is held by returning false from push(), which stops ssh2 re-opening the
 *    window (server.js CHANNEL_DATA); `resumeInput` re-opens it.
 */
import { createRequire } from 'node:module';
import { WireWriter } from '../../core/wire.js';

const require = createRequire(import.meta.url);
const { windowAdjust } = require('ssh2/lib/Channel.js') as { windowAdjust: (ch: unknown) => void };

/** SSH_FXP_VERSION (draft-02 §4) and SSH_FXP_EXTENDED_REPLY (§8). */
const FXP_VERSION = 2;
const FXP_EXTENDED_REPLY = 201;

/** An SFTP packet: uint32 length, byte type, then `body`. */
function packet(type: number, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = type;
  body.copy(b, 5);
  return b;
}

/** One write through the channel, as ssh2's tryWritePayload(): what the window does not take is returned. */
function tryWrite(sftp: any, payload: Buffer): Buffer | undefined {
  const out = sftp.outgoing;
  if (out.state !== 'open') return undefined;
  let p = 0;
  while (payload.length - p > 0 && out.window > 0) {
    const n = Math.min(payload.length - p, out.window, out.packetSize);
    out.window -= n;
    sftp._protocol.channelData(out.id, p === 0 && n === payload.length ? payload : payload.subarray(p, p + n));
    p += n;
  }
  return p < payload.length ? payload.subarray(p) : undefined;
}

function drain(this: any): void {
  this._chunkcb = undefined;
  const buf: Buffer[] = this._buffer;
  let i = 0;
  for (; i < buf.length; i++) {
    const rest = tryWrite(this, buf[i]!);
    if (rest !== undefined) {
      buf[i] = rest;
      this._buffer = buf.slice(i);
      if (this.outgoing.window === 0) {
        this._waitWindow = true;
        this._chunkcb = drain;
      }
      return;
    }
  }
  this._buffer = [];
}

/** Sends a raw SFTP packet after whatever ssh2 has queued (order kept). */
export function sendRaw(sftp: any, payload: Buffer): void {
  if (sftp._buffer.length === 0) {
    const rest = tryWrite(sftp, payload);
    if (rest === undefined) return;
    payload = rest;
  }
  sftp._buffer.push(payload);
  if (sftp.outgoing.window === 0 && !sftp._chunkcb) {
    sftp._waitWindow = true;
    sftp._chunkcb = drain;
  }
}

/** SSH_FXP_EXTENDED_REPLY with `body` (statvfs@openssh.com, limits@openssh.com). */
export function extendedReply(sftp: any, reqid: number, body: Buffer): void {
  sendRaw(sftp, packet(FXP_EXTENDED_REPLY, new WireWriter().u32(reqid).raw(body).toBuffer()));
}

/**
 * Makes ssh2's VERSION reply carry `extensions` (name → version data). Installed before the client's
 * INIT arrives; ssh2's INIT handler writes its 9-byte VERSION through `_protocol.channelData`, which
 * is shadowed for that one packet (and the window charged for the longer one).
 */
export function announceExtensions(sftp: any, extensions: ReadonlyArray<[string, string]>): void {
  const proto = sftp._protocol;
  const w = new WireWriter().u32(3);
  for (const [n, v] of extensions) w.string(n).string(v);
  const ours = packet(FXP_VERSION, w.toBuffer());
  const wrapper = new Proxy(proto, {
    get(target, key) {
      if (key === 'channelData')
        return (id: number, data: Buffer) => {
          if (data.length === 9 && data[4] === FXP_VERSION) {
            sftp._protocol = proto;
            sftp.outgoing.window -= ours.length - data.length;
            return proto.channelData(id, ours);
          }
          return proto.channelData(id, data);
        };
      const v = Reflect.get(target, key);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  sftp._protocol = wrapper;
  sftp.once('ready', () => (sftp._protocol = proto));
}

/** Bytes waiting for this peer: ssh2's SFTP queue (window closed) plus the connection's socket queue. */
export function backlog(sftp: any): number {
  let n = 0;
  for (const b of sftp._buffer as Buffer[]) n += b.length;
  return n + (sftp._client?._sock?.writableLength ?? 0);
}

/**
 * Holds incoming channel data while `full()` says so: push() returns false, so ssh2 stops re-opening
 * the window and a client can send at most one window (2 MiB) more. Returns `resume`, which the
 * consumer calls when it has caught up: it replays what was held, then re-opens the window. While
 * anything is held or the window is kept shut, a 5 ms timer calls it too: the backlog may drain with no
 * request left to run (a client that stopped reading and resumed), and nothing else would wake us.
 */
export function gateInput(sftp: any, full: () => boolean): () => void {
  const orig = sftp.push.bind(sftp);
  const held: Array<Buffer | null> = [];
  let shut = false; // we returned false: ssh2 will not re-open the window by itself
  let timer: NodeJS.Timeout | null = null;
  let replaying = false;
  const later = (): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (sftp.outgoing?.state !== 'open') return void (held.length = 0); // closed: nothing to resume
      resume();
    }, 5);
  };
  const resume = (): void => {
    // never re-entered: a request parsed from a held chunk may run the consumer, which calls this,
    // and a nested push() would feed ssh2's parser a new chunk in the middle of the current one
    if (replaying) return;
    replaying = true;
    try {
      while (held.length > 0 && !full()) orig(held.shift()!);
    } finally {
      replaying = false;
    }
    if (held.length > 0 || full()) return later();
    if (shut) {
      shut = false;
      if (sftp.incoming.window < 1024 * 1024) windowAdjust(sftp);
    }
  };
  sftp.push = (data: Buffer | null): boolean | undefined => {
    if (held.length > 0 || (data !== null && full())) {
      held.push(data === null ? null : Buffer.from(data));
      shut = true;
      later();
      return false;
    }
    orig(data);
    if (data === null || !full()) return undefined;
    shut = true;
    later();
    return false;
  };
  return resume;
}

/**
 * Ends the channel as sshd does when sftp-server exits 0: exit-status 0, EOF, CLOSE (RFC 4254 §6.10).
 * OpenSSH's scp takes a session without an exit status as failed ("Exit status -1", scp exits 1).
 */
export function endWithStatus(sftp: any, status: number): void {
  const out = sftp.outgoing;
  if (out?.state === 'open') {
    sftp._protocol.exitStatus(out.id, status);
    sftp._protocol.channelEOF(out.id);
  }
  sftp.end();
}

/** Clients that send SSH_FXP_SYMLINK in the draft's (link, target) order to a server not named OpenSSH. */
const DRAFT_ORDER_CLIENTS = /^SSH-2\.0-(?:ssh2js|AsyncSSH)/;

/**
 * SSH_FXP_SYMLINK's argument order: OpenSSH's sftp-server reads (target, link), the reverse of
 * draft-02 §6.10, and OpenSSH, Paramiko, PuTTY and Go's pkg/sftp always send that order. ssh2 and
 * AsyncSSH send it only to a server whose version names OpenSSH, which ours does not, so for them the
 * draft order is read: AsyncSSH's own server makes the same choice by the client's version
 * (sftp.py `_nonstandard_symlink_impls`). ssh2 swaps its SYMLINK event's arguments when `_isOpenSSH`.
 */
export function symlinkOrderByClient(sftp: any): void {
  const ident = String(sftp._client?._protocol?._remoteIdentRaw ?? '');
  sftp._isOpenSSH = !DRAFT_ORDER_CLIENTS.test(ident);
}

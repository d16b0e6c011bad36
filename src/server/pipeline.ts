/**
 * The session model of `sshkit serve` (issue 13 §1): a session channel's start request (RFC 4254 §6.5
 * shell / exec / subsystem) becomes one typed {@link Session}, run by a {@link Handler} wrapped in
 * {@link Middleware}s, one concern per file (middleware/*.ts), in the model of charmbracelet/wish —
 * without its ordering gotcha: wish applies `WithMiddleware(a, b, c)` so that `c` runs first; here
 * {@link compose} runs the list in the order it is written, the first one outermost.
 * Nothing here knows ssh2: adapter.ts builds Sessions from ssh2's objects, test/session-harness.ts
 * builds them from plain streams.
 */
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Grant } from '../core/pubkey-auth.js';
import type { AdminApi } from './admin-repl.js';
import type { Logger } from './log.js';
import type { PtySize } from './exec-os.js';

/** How a session ended: an exit status, a signal (sent as exit-signal), or refused before it started (CHANNEL_FAILURE). */
export type ExitStatus = number | { readonly signal: string } | { readonly refused: string };

/** What the client asked this channel to run (RFC 4254 §6.5). */
export type SessionRequest =
  | { readonly kind: 'shell' }
  | { readonly kind: 'exec'; readonly command: string }
  | { readonly kind: 'subsystem'; readonly name: string };

/** Who is on the connection and what the server allows: the same for every channel of one login. */
export interface SessionContext {
  readonly connId: number;
  readonly user: string;
  readonly admin: boolean;
  readonly grant: Grant;
  readonly address: string;
  readonly port: number;
  readonly localPort: number;
  readonly exec: 'builtin' | 'os';
  readonly log: Logger;
  readonly adminApi: AdminApi;
  /** `--sftp ROOT` (still holding `%u`) and `--sftp-read-only`; absent when SFTP is off. */
  readonly sftp?: { readonly root: string; readonly readOnly: boolean };
  /** Marks connection activity (--idle-timeout). */
  touch(): void;
}

/**
 * Producer-side backpressure on the channel's output (channel-flow.ts OutputGate): `write` says whether
 * the producer may go on; when it may not, `whenReady` calls back once the backlog is low again.
 */
export interface OutputFlow {
  write(stream: Writable, data: string | Buffer): boolean;
  whenReady(fn: () => void): void;
}

/** An opened channel: the client's input, our stdout and stderr (extended data), and the flow gate. */
export interface SessionChannel {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly flow: OutputFlow;
  /** Runs `fn` once when the channel is closed (by either side). */
  onClose(fn: () => void): void;
  /** Closes the channel (CHANNEL_CLOSE) without an exit status: for a handler that must stop now. */
  close(): void;
}

/**
 * The SFTP stream ssh2 hands over for the `sftp` subsystem (server mode), opaque here: handlers/sftp.ts
 * passes it to sftp/index.ts's serveSftp and may only end it.
 */
export interface SftpStream {
  end(): unknown;
}

/** One session channel's start request, as handlers see it. */
export interface Session {
  /** Server-wide session number (log lines). */
  readonly id: number;
  readonly ctx: SessionContext;
  /** What runs: after middleware/permissions.ts, a forced command replaces what the client asked for. */
  readonly request: SessionRequest;
  /** What the client asked for, when a forced command replaced it (sshd's SSH_ORIGINAL_COMMAND). */
  readonly originalCommand?: string;
  /** The terminal asked for with pty-req (null: none); window-changes update it. */
  readonly pty: PtySize | null;
  /** Variables the client sent that were accepted (middleware/env.ts), plus what middlewares add. */
  readonly env: ReadonlyMap<string, string>;
  /** Aborted when the server shuts down: the handler should end its session. */
  readonly stopping: AbortSignal;
  /** The channel (a shell/exec/plain subsystem is accepted as it arrives, see adapter.ts); callable once. */
  open(): SessionChannel | null;
  /** Accepts an `sftp` subsystem request as ssh2's SFTP stream; null if the client already closed it. */
  openSftp(): SftpStream | null;
  /** Calls `fn` on each window-change (after `pty` was updated); returns the unsubscribe. */
  onResize(fn: (size: PtySize) => void): () => void;
  /** Calls `fn` with each signal name the client sends (RFC 4254 §6.9). */
  onSignal(fn: (name: string) => void): () => void;
  /** Marks activity on this session (middleware/idle.ts binds it to --idle-timeout). */
  touch(): void;
}

/** Which channel requests a session may make before its start (answered at once, RFC 4254 §6.2–6.4). */
export interface RequestPolicy {
  /** null allows a pty-req; a string refuses it (the reason is logged). */
  pty(ctx: SessionContext): string | null;
  /** Accept this env request? `count` variables are accepted already. */
  env(name: string, value: string, count: number): boolean;
  /** May this start request reach the handler (else CHANNEL_FAILURE, as sshd for an unknown subsystem)? */
  starts(req: SessionRequest, ctx: SessionContext): boolean;
  /** Are signal requests delivered? */
  readonly signals: boolean;
  /**
   * Does an `sftp` subsystem request get ssh2's SFTP stream? Decided per channel before any request:
   * ssh2 builds the SFTP object in `accept()` when a listener exists, and a plain channel otherwise
   * (which a forced command needs: it runs instead of the subsystem, as sshd).
   */
  sftp(ctx: SessionContext): boolean;
}

/** The pre-pipeline session hook, kept for callers of startSshServer that handle ssh2's Session (given as an EventEmitter) themselves. */
export type RawSessionHandler = (session: EventEmitter, ctx: SessionContext & { track(end: () => void): () => void }) => void;

/** Runs one session to its end. */
export type Handler = (s: Session) => Promise<ExitStatus>;
/** Wraps a handler with one concern. */
export type Middleware = (next: Handler) => Handler;

/**
 * Composes middlewares around `handler` so that they run in the order listed: `compose([a, b], h)`
 * is `a(b(h))` — `a` sees the session first and the result last.
 */
export function compose(middlewares: readonly Middleware[], handler: Handler): Handler {
  return middlewares.reduceRight<Handler>((next, mw) => mw(next), handler);
}

/**
 * A session with some fields replaced, the rest (getters such as `pty` included) still read from
 * `s`: how a middleware hands its change on without copying live state.
 */
export function derive(s: Session, patch: Partial<Pick<Session, 'request' | 'originalCommand' | 'env' | 'touch'>>): Session {
  const d = Object.create(s) as Session;
  for (const [k, v] of Object.entries(patch)) Object.defineProperty(d, k, { value: v, enumerable: true });
  return d;
}

/** The status as a log field: the number, the signal name, or `refused`. */
export function statusField(st: ExitStatus): number | string {
  return typeof st === 'number' ? st : 'signal' in st ? st.signal : 'refused';
}

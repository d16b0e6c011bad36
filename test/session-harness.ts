/**
 * In-process session harness (issue 13 §1): builds a typed Session (src/server/pipeline.ts) on plain
 * PassThrough streams — no ssh, no ssh2, no socket — so handlers and middlewares are unit-tested at the
 * cost of a function call. What adapter.ts does with ssh2's objects the harness does with streams:
 * `open()` returns the channel, `openSftp()` a stand-in object, window-changes and signals are
 * triggered by the test, and the server's shutdown aborts `stopping`. Log lines are kept as parsed JSON.
 */
import { PassThrough } from 'node:stream';
import type { Grant } from '../src/core/pubkey-auth.js';
import type { AdminApi } from '../src/server/admin-repl.js';
import { OutputGate } from '../src/server/channel-flow.js';
import type { PtySize } from '../src/server/exec-os.js';
import { Logger } from '../src/server/log.js';
import type { ExitStatus, Handler, Session, SessionChannel, SessionContext, SessionRequest } from '../src/server/pipeline.js';

/** What a harness session is made of (everything optional: an `alice` shell without a pty). */
export interface HarnessOptions {
  request?: SessionRequest;
  user?: string;
  admin?: boolean;
  grant?: Partial<Grant>;
  pty?: PtySize | null;
  env?: Record<string, string>;
  exec?: 'builtin' | 'os';
  sftp?: { root: string; readOnly: boolean };
}

/** One parsed log line. */
export type LogLine = { event: string } & Record<string, unknown>;

const noAdmin: AdminApi = { sessions: () => [], kick: () => false, reload: () => 'reloaded nothing', stats: () => ({}) };

/** A Session on streams, with the test's handles on both ends. */
export class SessionHarness {
  readonly session: Session;
  readonly log: LogLine[] = [];
  readonly stdin = new PassThrough();
  readonly stdoutStream = new PassThrough();
  readonly stderrStream = new PassThrough();
  /** What the handler opened: the channel, the SFTP stand-in, or nothing (the request was refused). */
  opened: 'channel' | 'sftp' | null = null;
  /** The object `openSftp()` returned (what serveSftp receives). */
  readonly sftpStream = { harnessSftp: true, ended: false, end(): void {
    this.ended = true;
  } };
  /** ctx.touch() calls (the connection's idle timer). */
  touches = 0;
  private out = '';
  private err = '';
  private readonly resizers = new Set<(size: PtySize) => void>();
  private readonly signals = new Set<(name: string) => void>();
  private readonly stop = new AbortController();
  private pty: PtySize | null;

  constructor(opts: HarnessOptions = {}) {
    this.pty = opts.pty ?? null;
    this.stdoutStream.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    this.stderrStream.on('data', (d: Buffer) => (this.err += d.toString('utf8')));
    const logger = new Logger('json', (line) => this.log.push(JSON.parse(line) as LogLine));
    const ctx: SessionContext = {
      connId: 1,
      user: opts.user ?? 'alice',
      admin: opts.admin ?? false,
      grant: { pty: true, line: 1, ignored: [], ...opts.grant },
      address: '192.0.2.7',
      port: 50000,
      localPort: 2222,
      exec: opts.exec ?? 'builtin',
      log: logger,
      adminApi: noAdmin,
      sftp: opts.sftp,
      touch: () => void this.touches++,
    };
    const channel: SessionChannel = {
      stdin: this.stdin,
      stdout: this.stdoutStream,
      stderr: this.stderrStream,
      flow: new OutputGate(this.stdoutStream, this.stderrStream),
      onClose: (fn) => void this.stdoutStream.once('close', fn),
      close: () => this.closeChannel(),
    };
    const harness = this;
    this.session = {
      id: 1,
      ctx,
      request: opts.request ?? { kind: 'shell' },
      get pty() {
        return harness.pty;
      },
      env: new Map(Object.entries(opts.env ?? {})),
      stopping: this.stop.signal,
      open: () => {
        if (this.opened) throw new Error('opened twice');
        this.opened = 'channel';
        return channel;
      },
      openSftp: () => {
        if (this.opened) throw new Error('opened twice');
        this.opened = 'sftp';
        return this.sftpStream;
      },
      onResize: (fn) => (this.resizers.add(fn), () => this.resizers.delete(fn)),
      onSignal: (fn) => (this.signals.add(fn), () => this.signals.delete(fn)),
      touch: () => undefined,
    };
  }

  /** What the handler wrote to stdout / stderr so far. */
  stdout(): string {
    return this.out;
  }
  stderr(): string {
    return this.err;
  }
  /** Sends input; `end` sends EOF after it. */
  type(text: string, end = false): void {
    this.stdin.write(text);
    if (end) this.stdin.end();
  }
  /** A window-change from the client. */
  resize(rows: number, cols: number): void {
    if (!this.pty) return;
    this.pty = { ...this.pty, rows, cols };
    for (const fn of this.resizers) fn(this.pty);
  }
  /** A signal request from the client. */
  signal(name: string): void {
    for (const fn of this.signals) fn(name);
  }
  /** The server shuts down. */
  shutdown(): void {
    this.stop.abort();
  }
  /** The client closes the channel. */
  closeChannel(): void {
    this.stdin.destroy();
    this.stdoutStream.destroy();
    this.stderrStream.destroy();
  }
  /** Resolves once stdout matches `re` (rejects after `ms`). */
  async waitFor(re: RegExp, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!re.test(this.out)) {
      if (Date.now() > until) throw new Error(`stdout never matched ${re}: ${JSON.stringify(this.out)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  /** Log lines of one event. */
  events(event: string): LogLine[] {
    return this.log.filter((l) => l.event === event);
  }
}

/** Runs `handler` on a harness session; `input` (then EOF) is typed first. */
export async function runHandler(handler: Handler, opts: HarnessOptions & { input?: string } = {}): Promise<{ status: ExitStatus; h: SessionHarness }> {
  const h = new SessionHarness(opts);
  if (opts.input !== undefined) h.type(opts.input, true);
  const status = await handler(h.session);
  await new Promise((r) => setImmediate(r)); // let the last writes reach the collectors
  return { status, h };
}

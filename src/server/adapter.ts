/**
 * The one file that talks to ssh2's server objects (issue 13 §1; the model is Go x/crypto/ssh, where
 * auth policy is a callback): a Connection's events become typed {@link AuthRequest}s and session
 * opens, and a session channel's requests (RFC 4254 §6) become one typed {@link Session} run by the
 * pipeline (pipeline.ts). The runtime fixes of ssh2 stay where they were: protocol.ts / protocol-kex.ts
 * (transport and auth), auth-queue.ts (auth order), channel-flow.ts and conn-guard.ts (channels);
 * this file installs them. Every callback into sshkit runs guarded: a throw ends that connection
 * (hooks.fail), never the process.
 */
import type { Socket } from 'node:net';
import type { AuthContext, AuthenticationType, Connection, Session as Ssh2Session, ServerChannel } from 'ssh2';
import type { PtySize } from './exec-os.js';
import { serializeAuth } from './auth-queue.js';
import { requireSsh2 } from './ssh2-load.js';
import { answerLate, guardIncomingWindow, limitReadAhead, OutputGate, socketOfChannel } from './channel-flow.js';
import { guardSession } from './conn-guard.js';
import { KNOWN_METHODS, algorithmPolicy, disconnectNoMoreAuth, hardenConnection, rawPublicKey, socketOf } from './protocol.js';
import type { ExitStatus, Handler, RawSessionHandler, RequestPolicy, Session, SessionChannel, SessionContext, SessionRequest, SftpStream } from './pipeline.js';

export type { RawSessionHandler, RequestPolicy };

/** A publickey request as bytes (protocol.ts kept the raw packet: ssh2 drops the algorithm name). */
export interface PublicKeyBytes {
  readonly algorithm: string;
  readonly blob: Buffer;
  readonly signature?: Buffer;
  readonly signedData?: Buffer;
}

/** One USERAUTH_REQUEST (RFC 4252 §5), answered exactly once with `accept` or `reject`. */
export interface AuthRequest {
  readonly user: string;
  readonly method: string;
  /** publickey only: the request's bytes, or `malformed` (trailing bytes, bad framing). */
  readonly publicKey?: PublicKeyBytes | 'malformed';
  /** password only. */
  readonly password?: string;
  /** USERAUTH_SUCCESS, or PK_OK for a key-only query. */
  accept(): void;
  /** USERAUTH_FAILURE listing `methods`. */
  reject(methods: string[]): void;
}

/** What sshkit may do to a connection: end it politely, or disconnect with NO_MORE_AUTH_METHODS. */
export interface ConnectionLink {
  end(): void;
  noMoreAuth(): void;
}

/** A session channel the server accepted: who it is for, its rules and its pipeline. */
export interface SessionSetup {
  readonly ctx: SessionContext;
  readonly policy: RequestPolicy;
  readonly handler: Handler;
  /** Registers a way to end the session at shutdown; returns the unregister function. */
  track(end: () => void): () => void;
  /** The channel closed (--max-sessions counts it out). */
  closed(): void;
  /** Compatibility (ServeOptions.sessionHandler): ssh2's Session handed over as is, no pipeline. */
  readonly raw?: RawSessionHandler;
}

/** Per-connection callbacks, from server.ts. */
export interface ConnectionHooks {
  client(software: string): void;
  methods(): string[];
  violation(reason: string): void;
  /** The client pipelined too many auth requests: log it (the adapter then cuts). */
  overflow(): void;
  /** A method name ssh2 does not know: true answers FAILURE, false means the hook cut the connection. */
  unknownMethod(user: string, method: string): boolean;
  auth(req: AuthRequest): void;
  ready(): void;
  /** A session channel open: its setup, or null to refuse (the hook logs why). */
  session(): SessionSetup | null;
  error(err: Error): void;
  /** An exception in a callback: ends this connection (logged). */
  fail(err: unknown): void;
}

/** The ssh2 Server behind a TCP listener that hands it sockets. */
export interface SshEngine {
  injectSocket(socket: Socket): void;
}

/**
 * Creates ssh2's Server with sshkit's algorithm policy. `connect` maps each connection (by its
 * socket) to its hooks; null ends it.
 */
export function createSshEngine(hostKeys: string[], connect: (socket: Socket, link: ConnectionLink) => ConnectionHooks | null, onError: (err: Error) => void): SshEngine {
  // lib/server.js, not the package index: the index also loads the client and its HTTP(S) agents (http, https, tls: ≈ 1.5 MiB)
  const Server = requireSsh2<typeof import('ssh2').Server>('ssh2/lib/server.js');
  const ssh = new Server({ hostKeys, algorithms: algorithmPolicy(), ident: 'sshkit' });
  ssh.on('connection', (client, info) => {
    const link: ConnectionLink = { end: () => client.end(), noMoreAuth: () => disconnectNoMoreAuth(client) };
    const hooks = connect(socketOf(client) as Socket, link);
    if (!hooks) return client.end();
    wireConnection(client, String(info?.header?.versions?.software ?? ''), hooks);
  });
  ssh.on('error', onError);
  return { injectSocket: (socket) => ssh.injectSocket(socket) };
}

function wireConnection(client: Connection, software: string, hooks: ConnectionHooks): void {
  const guarded =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      try {
        fn(...a);
      } catch (err) {
        hooks.fail(err);
      }
    };
  hooks.client(software);
  // Order matters: the queue wraps ssh2's handler first, so protocol.ts captures each raw request
  // synchronously and the queue then holds it until the request before it has been answered.
  const queue = serializeAuth(client, () => {
    hooks.overflow();
    disconnectNoMoreAuth(client);
    (socketOf(client) as Socket).destroy();
  });
  hardenConnection(client, { methods: hooks.methods, onViolation: hooks.violation });
  queue.front(KNOWN_METHODS, hooks.methods, hooks.unknownMethod);
  client.on('error', hooks.error);
  client.on('authentication', guarded((ctx: AuthContext) => hooks.auth(authRequest(ctx))));
  client.on('ready', guarded(hooks.ready));
  client.on(
    'session',
    guarded((accept, reject) => {
      const setup = hooks.session();
      if (!setup) return reject();
      const session = accept();
      if (!session) return;
      let open = true;
      session.once('close', () => open && ((open = false), setup.closed()));
      guardSession(client, session, (what) =>
        setup.ctx.log.event('request-refused', { conn: setup.ctx.connId, user: setup.ctx.user, request: what, reason: 'the channel already runs a command' }),
      );
      if (setup.raw) return setup.raw(session, { ...setup.ctx, track: setup.track });
      runSession(client, session, setup, hooks.fail);
    }),
  );
}

/** ssh2's auth context as an {@link AuthRequest}. */
function authRequest(ctx: AuthContext): AuthRequest {
  const base = { user: ctx.username, method: ctx.method as string, accept: () => ctx.accept(), reject: (m: string[]) => ctx.reject(m as AuthenticationType[]) };
  if (ctx.method === 'publickey') {
    const raw = rawPublicKey(ctx.key.data);
    if (!raw || raw.malformed) return { ...base, publicKey: 'malformed' };
    return { ...base, publicKey: { algorithm: raw.algorithm, blob: ctx.key.data, signature: raw.signature, signedData: raw.signature ? ctx.blob : undefined } };
  }
  if (ctx.method === 'password') return { ...base, password: typeof ctx.password === 'string' ? ctx.password : '' };
  return base;
}

let nextSession = 1;
type Reply = (() => void) | undefined;

/** One session channel: requests answered per policy, the start request run through the pipeline. */
function runSession(client: Connection, session: Ssh2Session, setup: SessionSetup, fail: (err: unknown) => void): void {
  const { ctx, policy } = setup;
  const id = nextSession++;
  let pty: PtySize | null = null;
  const env = new Map<string, string>();
  const resizers = new Set<(size: PtySize) => void>();
  const signals = new Set<(name: string) => void>();
  let started = false;
  const late = (reply: Reply, ok = false) => answerLate(client, session, reply, ok);
  const guarded = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
    try {
      fn(...a);
    } catch (err) {
      fail(err);
    }
  };

  session.on('pty', guarded((accept: Reply, reject: Reply, info) => {
    if (started) return late(reject); // too late: the command runs
    const refusal = policy.pty(ctx);
    if (refusal) {
      ctx.log.event('pty-refused', { conn: ctx.connId, session: id, user: ctx.user, reason: refusal });
      return reject?.();
    }
    pty = { term: String(info.term ?? 'xterm'), rows: info.rows, cols: info.cols };
    accept?.();
  }));
  session.on('window-change', guarded((accept: Reply, _reject: Reply, info) => {
    if (pty) {
      pty = { ...pty, rows: info.rows, cols: info.cols };
      for (const fn of resizers) fn(pty);
    }
    if (started) return late(accept, true); // ssh2's accept is a no-op now
    accept?.();
  }));
  session.on('env', guarded((accept: Reply, reject: Reply, info) => {
    if (started) return late(reject);
    const name = String(info.key);
    const value = String(info.val);
    if (policy.env(name, value, env.size)) {
      env.set(name, value);
      accept?.();
    } else reject?.();
  }));
  session.on('signal', guarded((accept: Reply, reject: Reply, info) => {
    if (!policy.signals) return started ? late(reject) : reject?.();
    for (const fn of signals) fn(String(info.name));
    if (started) return late(accept, true);
    accept?.();
  }));
  for (const name of ['x11', 'auth-agent'] as const) session.on(name, (_a: Reply, reject: Reply) => (started ? late(reject) : reject?.()));

  const begin = (request: SessionRequest, accept: () => ServerChannel | undefined, openSftp: (() => SftpStream | undefined) | null, reject: Reply) => {
    if (started || !policy.starts(request, ctx)) return started ? late(reject) : reject?.();
    started = true;
    const stop = new AbortController();
    const untrack = setup.track(() => stop.abort());
    // Accepted now, in ssh2's event (the policy above already decided): a CHANNEL_EOF that arrives before
    // accept() marks the Session ending and makes a later accept() a no-op, and CHANNEL_DATA that arrives
    // before it is dropped — OpenSSH's sftp sends SSH_FXP_INIT right behind its subsystem request.
    let channel: ServerChannel | null = null;
    let opened = false;
    let wrapped: SessionChannel | null = null;
    const sftpStream = openSftp ? (openSftp() ?? null) : null;
    if (openSftp && !sftpStream) return untrack();
    const releaseSftp = sftpStream ? holdInput(sftpStream) : () => undefined;
    if (!openSftp) {
      channel = accept() ?? null;
      if (!channel) return untrack(); // the client already closed the channel
      const ch = channel;
      ch.on('error', () => undefined);
      limitReadAhead(ch);
      guardIncomingWindow(ch, (info) => ctx.log.event('protocol-error', { conn: ctx.connId, session: id, user: ctx.user, reason: 'channel data past our window', ...info }));
      wrapped = { stdin: ch, stdout: ch, stderr: ch.stderr, flow: new OutputGate(ch, ch.stderr, socketOfChannel(ch)), onClose: (fn) => void ch.once('close', fn), close: () => void ch.close() };
    }
    const open = (): SessionChannel | null => {
      if (opened || openSftp) throw new Error(openSftp ? 'an sftp request opens as an SFTP stream' : 'session opened twice');
      opened = true;
      return wrapped;
    };
    const s: Session = {
      id,
      ctx,
      request,
      get pty() {
        return pty;
      },
      env,
      stopping: stop.signal,
      open,
      openSftp: () => {
        if (opened || !openSftp) throw new Error(openSftp ? 'session opened twice' : 'not an sftp subsystem request');
        opened = true;
        setImmediate(releaseSftp); // the handler hands the stream on in this same tick
        return sftpStream;
      },
      onResize: (fn) => (resizers.add(fn), () => resizers.delete(fn)),
      onSignal: (fn) => (signals.add(fn), () => signals.delete(fn)),
      touch: () => undefined,
    };
    const end = (st: ExitStatus) => {
      untrack();
      if (sftpStream && !opened) sftpStream.end(); // accepted, but its handler never took it
      if (!channel) return;
      const ch: ServerChannel = channel;
      try {
        if (typeof st === 'number') ch.exit(st);
        else if ('signal' in st) ch.exit(st.signal, false, '');
        else ch.exit(1);
        ch.end();
      } catch {
        /* channel already closed by the client */
      }
    };
    Promise.resolve()
      .then(() => setup.handler(s))
      .then(end, (err) => {
        ctx.log.event('session-error', { conn: ctx.connId, session: id, user: ctx.user, reason: String((err as Error)?.message ?? err).slice(0, 200) });
        end(1);
      })
      .catch(fail);
  };
  session.on('shell', guarded((accept, reject: Reply) => begin({ kind: 'shell' }, accept, null, reject)));
  session.on('exec', guarded((accept, reject: Reply, info) => begin({ kind: 'exec', command: String(info.command) }, accept, null, reject)));
  session.on('subsystem', guarded((accept, reject: Reply, info) => begin({ kind: 'subsystem', name: String(info.name) }, accept, null, reject)));
  if (policy.sftp(ctx)) session.on('sftp', guarded((accept, reject: Reply) => begin({ kind: 'subsystem', name: 'sftp' }, () => undefined, accept, reject)));
}

/**
 * Holds what the client sends on an accepted SFTP stream until its handler has attached: ssh2's SFTP
 * object parses each CHANNEL_DATA in `push()` and emits the requests at once, so requests arriving
 * before serveSftp listens (SSH_FXP_INIT comes right behind the subsystem request) would be lost.
 * Returns the release, which replays the held data through whatever `push` is installed by then.
 */
function holdInput(stream: SftpStream): () => void {
  const s = stream as SftpStream & { push(d: Buffer | null): unknown };
  const orig = s.push.bind(s);
  const held: Array<Buffer | null> = [];
  let holding = true;
  s.push = (d) => {
    if (!holding) return orig(d);
    held.push(d === null ? null : Buffer.from(d)); // ssh2 hands a view of its packet buffer
    return true;
  };
  return () => {
    holding = false;
    for (const d of held.splice(0)) s.push(d);
  };
}

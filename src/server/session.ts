/**
 * One SSH session channel (RFC 4254 §6): pty-req, window-change, env, signal, then shell or exec.
 * authorized_keys options are applied here: `command=` (and a certificate's force-command) replaces
 * whatever the client asked to run, with the original in SSH_ORIGINAL_COMMAND; `no-pty`/`restrict`
 * refuse pty-req (the client then says "PTY allocation request failed"). Builtin commands or `--exec os`
 * run the command; the exit status (or signal) is sent before the channel closes. One shell or exec per
 * channel (RFC 4254 §6.5): a second one gets CHANNEL_FAILURE. What waits for a slow peer is bounded by
 * channel-flow.ts, whatever window it advertises; a peer that overruns our window is disconnected.
 */
import type { Grant } from '../core/pubkey-auth.js';
import type { AdminApi } from './admin-repl.js';
import type { Logger } from './log.js';
import { runBuiltin, safeWrite } from './session-builtin.js';
import { killOsCommand, startOsCommand, type OsProcess, type PtySize } from './exec-os.js';
import { answerLate, guardIncomingWindow, limitReadAhead, OutputGate } from './channel-flow.js';

/** Who is in this session and what the server allows. */
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
  /** Marks activity (for --idle-timeout). */
  touch(): void;
  /** Registers a way to end this session at shutdown; returns the unregister function. */
  track(end: () => void): () => void;
}

let nextSession = 1;

/** Handles an accepted ssh2 session (`accept()` already called). */
export function handleSession(session: any, ctx: SessionContext): void {
  const id = nextSession++;
  let pty: PtySize | null = null;
  let osProc: OsProcess | null = null;
  /** The started shell/exec channel (null before). */
  let channel: any = null;
  const env: Record<string, string> = Object.create(null);

  session.on('pty', (accept: () => void, reject: () => void, info: any) => {
    if (channel) return answerLate(channel, session, reject); // too late: the command runs
    if (!ctx.grant.pty) {
      ctx.log.event('pty-refused', { conn: ctx.connId, session: id, user: ctx.user, reason: 'no-pty/restrict' });
      return reject?.();
    }
    pty = { term: String(info.term ?? 'xterm'), rows: info.rows, cols: info.cols };
    accept?.();
  });
  session.on('window-change', (accept: () => void, _reject: () => void, info: any) => {
    if (pty) {
      pty = { ...pty, rows: info.rows, cols: info.cols };
      osProc?.resize(pty); // coalesced, off the event loop (exec-os.ts)
    }
    if (channel) return answerLate(channel, session, accept, true); // ssh2's accept is a no-op now
    accept?.();
  });
  session.on('env', (accept: () => void, reject: () => void, info: any) => {
    if (channel) return answerLate(channel, session, reject);
    // As sshd's default AcceptEnv: only the locale passes.
    if (Object.keys(env).length < 64 && /^(LANG|LC_[A-Z_]+)$/.test(String(info.key))) {
      env[info.key] = String(info.val);
      accept?.();
    } else reject?.();
  });
  session.on('signal', (accept: () => void, _reject: () => void, info: any) => {
    osProc?.signal(String(info.name));
    if (channel) return answerLate(channel, session, accept, true);
    accept?.();
  });
  session.on('subsystem', (_a: unknown, reject: () => void) => (channel ? answerLate(channel, session, reject) : reject?.()));
  session.on('sftp', (_a: unknown, reject: () => void) => (channel ? answerLate(channel, session, reject) : reject?.()));

  const start = (requested: string | null) => {
    const started = Date.now();
    const gate = new OutputGate(channel);
    limitReadAhead(channel);
    guardIncomingWindow(channel, (info) =>
      ctx.log.event('protocol-error', { conn: ctx.connId, session: id, user: ctx.user, reason: 'channel data past our window', ...info }),
    );
    const command = ctx.grant.command ?? requested;
    const kind = requested === null ? 'shell' : 'exec';
    const tty = pty !== null;
    ctx.log.event('session', {
      conn: ctx.connId,
      session: id,
      user: ctx.user,
      kind,
      command: command ?? undefined,
      forced: ctx.grant.command !== undefined || undefined,
      pty: tty,
    });
    let finished = false;
    const untrack = ctx.track(() => {
      if (osProc) killOsCommand(osProc, 'SIGHUP');
      else {
        safeWrite(channel.stderr, `${tty ? '\r\n' : ''}sshkit: server shutting down${tty ? '\r\n' : '\n'}`);
        finish('TERM');
      }
    });
    const finish = (status: number | string) => {
      if (finished) return;
      finished = true;
      untrack();
      try {
        if (typeof status === 'number') channel.exit(status);
        else channel.exit(status, false, '');
        channel.end();
      } catch {
        /* channel already closed by the client */
      }
      ctx.log.event('session-end', { conn: ctx.connId, session: id, user: ctx.user, status, ms: Date.now() - started });
    };
    channel.on('error', () => undefined);

    if (ctx.exec === 'os') {
      const extra: Record<string, string> = {
        ...env,
        SSH_CONNECTION: `${ctx.address} ${ctx.port} 127.0.0.1 ${ctx.localPort}`,
        SSH_CLIENT: `${ctx.address} ${ctx.port} ${ctx.localPort}`,
        SSHKIT_USER: ctx.user,
      };
      if (ctx.grant.command !== undefined && requested !== null) extra.SSH_ORIGINAL_COMMAND = requested;
      osProc = startOsCommand(command, extra, pty);
      const child = osProc.child;
      for (const [from, to] of [[child.stdout!, channel], [child.stderr!, channel.stderr]] as const) {
        from.on('data', (d: Buffer) => {
          ctx.touch();
          if (gate.write(to, d)) return;
          from.pause(); // resumed once the backlog is low; after a close the rest drains into nowhere
          gate.whenReady(() => from.resume());
        });
      }
      child.stdin!.on('error', () => undefined);
      channel.on('data', () => ctx.touch());
      channel.pipe(child.stdin!);
      child.on('error', (err) => {
        safeWrite(channel.stderr, `sshkit: cannot run command: ${err.message}\n`);
        finish(127);
      });
      child.on('close', (code, sig) => finish(sig ? sig.replace(/^SIG/, '') : (code ?? 0)));
      channel.on('close', () => osProc && killOsCommand(osProc, 'SIGHUP'));
      return;
    }

    runBuiltin({ channel, gate, tty, command, finish, sessionId: id, ctx });
  };

  // A second shell/exec on this channel: ssh2's accept() would return nothing (which threw and dropped
  // the connection) and its reject() stays silent, so the refusal is sent here; the first one runs on.
  const begin = (accept: () => any, reject: unknown, requested: string | null) => {
    if (channel) return answerLate(channel, session, reject);
    channel = accept();
    if (!channel) return; // the client already closed the channel
    start(requested);
  };
  session.on('shell', (accept: () => any, reject: unknown) => begin(accept, reject, null));
  session.on('exec', (accept: () => any, reject: unknown, info: any) => begin(accept, reject, String(info.command)));
}

/**
 * The auth adapter of `sshkit serve`: ssh2's auth contexts in, core decisions (core/pubkey-auth.ts, password-source.ts)
 * out, with sshd's accounting (auth2.c `input_userauth_request` / `userauth_finish`):
 *  - every request is an attempt; a failure counts against --max-auth-tries, except the first request
 *    when it is `none` ("Allow initial try of "none" auth without failure penalty") and a key-only
 *    query answered PK_OK (sshd marks it postponed);
 *  - the request that reaches the limit gets no USERAUTH_FAILURE but a disconnect;
 *  - an answer that throws (in the password check's promise too) ends that connection, never the process.
 * Requests arrive one at a time (auth-queue.ts), so each answer goes to the request it decides.
 */
import type { Socket } from 'node:net';
import type { KeyIndex } from '../core/authorized-keys.js';
import { authorizePublicKey, type Grant } from '../core/pubkey-auth.js';
import type { Limits } from './limits.js';
import type { ConnLog } from './log.js';
import type { PasswordSource } from './password-source.js';
import type { RevokedFile } from './revoked.js';
import { disconnectNoMoreAuth, rawPublicKey } from './protocol.js';

/** What the auth adapter reads and writes on a connection. */
export interface AuthConn {
  id: number;
  socket: Socket;
  address: string;
  user?: string;
  method?: string;
  fingerprint?: string;
  /** What the successful auth allows (forced command, pty). */
  grant?: Grant;
  /** USERAUTH requests seen (sshd's authctxt->attempt) and failures counted against --max-auth-tries. */
  attempts: number;
  failures: number;
  client?: any;
  log: ConnLog;
}

/** A login the checks passed, as the library's auth-decision callback sees it. */
export interface AuthAttempt {
  user: string;
  method: 'publickey' | 'password';
  address: string;
  /** For publickey: the key's type and SHA256 fingerprint. */
  keyType?: string;
  fingerprint?: string;
}

/** The auth-decision callback: fail-closed (a throw, a rejection or anything but `true` refuses). */
export type AuthDecide = (attempt: AuthAttempt) => boolean | Promise<boolean>;

/**
 * Where the checker finds the keys for a request: the user's index, or — when `forKey` is there
 * (directory-keys.ts) — an index built for the offered key (%f %t %k of --authorized-command, a trusted CA).
 */
export interface KeyLookup {
  forUser(user: string): Promise<KeyIndex>;
  forKey?(user: string, keyBlob: Buffer, algorithm: string): Promise<KeyIndex>;
}

/** What the adapter needs from the server. */
export interface AuthDeps {
  limits: Limits;
  methods: string[];
  passwords: PasswordSource | null;
  authorized: KeyLookup;
  /** `--revoked` (sshd RevokedKeys), checked before any authorized key; absent when not given. */
  revoked?: RevokedFile;
  /** A library caller's last word on a login the checks passed (issue 15); only `true` admits. */
  decide?: AuthDecide;
  stats: { authOk: number; authFail: number };
  /** Ends one connection after an error of its own. */
  drop(c: AuthConn, err: unknown): void;
}

/**
 * Requests one connection may make, whatever they are (key-only queries for a listed key included):
 * sshd auth2.c `input_userauth_request` disconnects ("Too many authentication failures") at the
 * 1025th; measured against sshd 9.2 with the raw client.
 */
export const MAX_AUTH_REQUESTS = 1024;

/** Builds the `authentication` handler and the failure counter (also used for unknown method names). */
export function authFlow<C extends AuthConn>({ limits, methods, passwords, authorized, revoked, stats, drop, decide }: AuthDeps) {
  /** Counts a failure (sshd auth2.c userauth_finish); true when --max-auth-tries is reached and c was cut. */
  const countFailure = (c: C, user: string): boolean => {
    stats.authFail++;
    c.failures++;
    if (c.failures < limits.maxAuthTries) return false;
    c.log.event('cut', { conn: c.id, user, reason: 'max-auth-tries' });
    disconnectNoMoreAuth(c.client);
    c.socket.end();
    return true;
  };

  /** Counts one request (sshd's authctxt->attempt); false when it is one too many and c was cut. */
  const attempt = (c: C, user: string): boolean => {
    if (c.attempts >= MAX_AUTH_REQUESTS) {
      c.log.event('cut', { conn: c.id, user, reason: `more than ${MAX_AUTH_REQUESTS} auth requests` });
      disconnectNoMoreAuth(c.client);
      c.socket.end();
      return false;
    }
    c.attempts++;
    return true;
  };

  const fail = (c: C, ctx: any, fields: Record<string, unknown>) => {
    c.log.event('auth', { conn: c.id, user: ctx.username, ...fields, result: 'fail' } as any);
    if (countFailure(c, ctx.username)) return;
    ctx.reject(methods);
  };

  const succeed = (c: C, ctx: any, grant: Grant, fields: Record<string, unknown>) => {
    if (!decide) return admit(c, ctx, grant, fields);
    const attempt: AuthAttempt = { user: ctx.username, method: ctx.method, address: c.address, keyType: fields.key as string | undefined, fingerprint: fields.fingerprint as string | undefined };
    Promise.resolve()
      .then(() => decide(attempt))
      .then(
        (ok) => !c.socket.destroyed && (ok === true ? admit(c, ctx, grant, fields) : fail(c, ctx, { ...fields, reason: 'refused by the auth callback' })),
        () => !c.socket.destroyed && fail(c, ctx, { ...fields, reason: 'auth callback failed' }),
      )
      .catch((err) => drop(c, err));
  };

  const admit = (c: C, ctx: any, grant: Grant, fields: Record<string, unknown>) => {
    stats.authOk++;
    c.user = ctx.username;
    c.method = ctx.method;
    c.fingerprint = fields.fingerprint as string | undefined;
    c.grant = grant;
    c.log.event('auth', { conn: c.id, user: ctx.username, ...fields, result: 'ok', ignored: grant.ignored.join(',') || undefined } as any);
    c.log.authenticated();
    ctx.accept();
  };

  const onAuth = (c: C, ctx: any) => {
    if (!attempt(c, ctx.username)) return;
    if (ctx.method === 'none') {
      // sshd: "Allow initial try of "none" auth without failure penalty"; every later `none` counts.
      if (c.attempts === 1) return ctx.reject(methods);
      return fail(c, ctx, { method: 'none', reason: 'none is not a way in' });
    }
    if (ctx.method === 'publickey') {
      const raw = rawPublicKey(ctx.key.data);
      if (!raw || raw.malformed) return fail(c, ctx, { method: 'publickey', reason: 'malformed request' });
      // authorized.ts reads the file asynchronously (safe-read.ts); the auth queue holds the next request
      // until this one is answered, so answers stay in order.
      const keys = authorized.forKey ? authorized.forKey(ctx.username, ctx.key.data, raw.algorithm) : authorized.forUser(ctx.username);
      Promise.all([keys, revoked?.load()])
        .then(
          ([index, revocation]) => {
            if (c.socket.destroyed) return;
            const why = revocation?.(ctx.key.data); // sshd checks RevokedKeys before any authorized key
            if (why) return fail(c, ctx, { method: 'publickey', reason: why });
            const d = authorizePublicKey(index, {
              user: ctx.username,
              algorithm: raw.algorithm,
              keyBlob: ctx.key.data,
              signature: raw.signature,
              signedData: raw.signature ? ctx.blob : undefined,
              address: c.address,
            });
            const fields = { method: 'publickey', key: d.keyType, fingerprint: d.fingerprint, algorithm: raw.algorithm };
            if (d.result === 'fail') return fail(c, ctx, { ...fields, reason: d.reason });
            if (d.result === 'query-ok') {
              // Not an attempt that can fail: sshd marks it postponed and counts nothing (auth2.c).
              c.log.event('auth', { conn: c.id, user: ctx.username, ...fields, result: 'pk-ok' });
              return ctx.accept(); // ssh2 answers PK_OK for a request without signature
            }
            return succeed(c, ctx, d.grant, { ...fields, line: d.grant.line, cert: d.grant.certKeyId });
          },
          () => !c.socket.destroyed && fail(c, ctx, { method: 'publickey', reason: 'authorized keys unavailable' }),
        )
        .catch((err) => drop(c, err)); // an answer that throws ends this connection, not the process
      return;
    }
    if (ctx.method === 'password') {
      if (!passwords) return fail(c, ctx, { method: 'password', reason: 'password auth disabled' });
      const pw = typeof ctx.password === 'string' ? ctx.password : '';
      passwords
        .check(ctx.username, pw)
        .then(
          (ok) => {
            if (c.socket.destroyed) return;
            if (ok) succeed(c, ctx, { pty: true, line: 0, ignored: [] }, { method: 'password' });
            else fail(c, ctx, { method: 'password', reason: 'wrong user or password' });
          },
          () => !c.socket.destroyed && fail(c, ctx, { method: 'password', reason: 'password check failed' }),
        )
        .catch((err) => drop(c, err)); // an answer that throws ends this connection, not the process
      return;
    }
    return fail(c, ctx, { method: ctx.method, reason: 'method not offered' });
  };

  return { onAuth, countFailure, attempt };
}

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
import type { AuthRequest, ConnectionLink } from './adapter.js';

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
  /** The ssh2 connection's controls (adapter.ts), once its handshake began. */
  link?: ConnectionLink;
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

/** The fields of an `auth` log line. */
interface AuthFields {
  method: string;
  key?: string;
  fingerprint?: string;
  algorithm?: string;
  line?: number;
  cert?: string;
  reason?: string;
}

/** Builds the `authentication` handler and the failure counter (also used for unknown method names). */
export function authFlow<C extends AuthConn>({ limits, methods, passwords, authorized, revoked, stats, drop, decide }: AuthDeps) {
  /** Counts a failure (sshd auth2.c userauth_finish); true when --max-auth-tries is reached and c was cut. */
  const countFailure = (c: C, user: string): boolean => {
    stats.authFail++;
    c.failures++;
    if (c.failures < limits.maxAuthTries) return false;
    c.log.event('cut', { conn: c.id, user, reason: 'max-auth-tries' });
    c.link?.noMoreAuth();
    c.socket.end();
    return true;
  };

  /** Counts one request (sshd's authctxt->attempt); false when it is one too many and c was cut. */
  const attempt = (c: C, user: string): boolean => {
    if (c.attempts >= MAX_AUTH_REQUESTS) {
      c.log.event('cut', { conn: c.id, user, reason: `more than ${MAX_AUTH_REQUESTS} auth requests` });
      c.link?.noMoreAuth();
      c.socket.end();
      return false;
    }
    c.attempts++;
    return true;
  };

  const fail = (c: C, req: AuthRequest, fields: AuthFields) => {
    c.log.event('auth', { conn: c.id, user: req.user, ...fields, result: 'fail' });
    if (countFailure(c, req.user)) return;
    req.reject(methods);
  };

  const succeed = (c: C, req: AuthRequest, grant: Grant, fields: AuthFields) => {
    if (!decide) return admit(c, req, grant, fields);
    const method = req.method === 'password' ? 'password' : 'publickey';
    const attempt: AuthAttempt = { user: req.user, method, address: c.address, keyType: fields.key, fingerprint: fields.fingerprint };
    Promise.resolve()
      .then(() => decide(attempt))
      .then(
        (ok) => !c.socket.destroyed && (ok === true ? admit(c, req, grant, fields) : fail(c, req, { ...fields, reason: 'refused by the auth callback' })),
        () => !c.socket.destroyed && fail(c, req, { ...fields, reason: 'auth callback failed' }),
      )
      .catch((err) => drop(c, err));
  };

  const admit = (c: C, req: AuthRequest, grant: Grant, fields: AuthFields) => {
    stats.authOk++;
    c.user = req.user;
    c.method = req.method;
    c.fingerprint = fields.fingerprint;
    c.grant = grant;
    c.log.event('auth', { conn: c.id, user: req.user, ...fields, result: 'ok', ignored: grant.ignored.join(',') || undefined });
    c.log.authenticated();
    req.accept();
  };

  /**
   * The key lookup: the one call site where the user's authorized keys (and the revocation list) are read;
   * with `forKey` (directory-keys.ts) the index is built for the offered key.
   */
  const lookupKeys = (user: string, pk: { blob: Buffer; algorithm: string }) =>
    Promise.all([authorized.forKey ? authorized.forKey(user, pk.blob, pk.algorithm) : authorized.forUser(user), revoked?.load()]);

  const onAuth = (c: C, req: AuthRequest) => {
    if (!attempt(c, req.user)) return;
    if (req.method === 'none') {
      // sshd: "Allow initial try of "none" auth without failure penalty"; every later `none` counts.
      if (c.attempts === 1) return req.reject(methods);
      return fail(c, req, { method: 'none', reason: 'none is not a way in' });
    }
    if (req.method === 'publickey') {
      const pk = req.publicKey;
      if (!pk || pk === 'malformed') return fail(c, req, { method: 'publickey', reason: 'malformed request' });
      // authorized.ts reads the file asynchronously (safe-read.ts); the auth queue holds the next request
      // until this one is answered, so answers stay in order.
      lookupKeys(req.user, pk)
        .then(
          ([index, revocation]) => {
            if (c.socket.destroyed) return;
            const why = revocation?.(pk.blob); // sshd checks RevokedKeys before any authorized key
            if (why) return fail(c, req, { method: 'publickey', reason: why });
            const d = authorizePublicKey(index, {
              user: req.user,
              algorithm: pk.algorithm,
              keyBlob: pk.blob,
              signature: pk.signature,
              signedData: pk.signedData,
              address: c.address,
            });
            const fields = { method: 'publickey', key: d.keyType, fingerprint: d.fingerprint, algorithm: pk.algorithm };
            if (d.result === 'fail') return fail(c, req, { ...fields, reason: d.reason });
            if (d.result === 'query-ok') {
              // Not an attempt that can fail: sshd marks it postponed and counts nothing (auth2.c).
              c.log.event('auth', { conn: c.id, user: req.user, ...fields, result: 'pk-ok' });
              return req.accept(); // ssh2 answers PK_OK for a request without signature
            }
            return succeed(c, req, d.grant, { ...fields, line: d.grant.line, cert: d.grant.certKeyId });
          },
          () => !c.socket.destroyed && fail(c, req, { method: 'publickey', reason: 'authorized keys unavailable' }),
        )
        .catch((err) => drop(c, err)); // an answer that throws ends this connection, not the process
      return;
    }
    if (req.method === 'password') {
      if (!passwords) return fail(c, req, { method: 'password', reason: 'password auth disabled' });
      passwords
        .check(req.user, req.password ?? '')
        .then(
          (ok) => {
            if (c.socket.destroyed) return;
            if (ok) succeed(c, req, { pty: true, line: 0, ignored: [] }, { method: 'password' });
            else fail(c, req, { method: 'password', reason: 'wrong user or password' });
          },
          () => !c.socket.destroyed && fail(c, req, { method: 'password', reason: 'password check failed' }),
        )
        .catch((err) => drop(c, err)); // an answer that throws ends this connection, not the process
      return;
    }
    return fail(c, req, { method: req.method, reason: 'method not offered' });
  };

  return { onAuth, countFailure, attempt };
}

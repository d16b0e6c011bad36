/**
 * One USERAUTH_REQUEST at a time, answered in the order received (RFC 4252 §5: "the server MUST respond
 * to each request in order"; sshd reads the next request only after answering the last).
 *
 * Why this exists: ssh2 1.17 keeps requests that arrive while one is pending in `pendingAuths` and pops
 * them LIFO (server.js `onAuthDecide`), while its reply queue (`Protocol._authsQueue`) is FIFO. A client
 * that pipelines a wrong password (checked asynchronously), then `none`, then a publickey query got the
 * query's PK_OK computed against the `none` slot: `authPKOK` threw '"publickey" auth not in progress' from
 * inside a promise callback and ended the whole process (issue 9 item 1). ssh2 also never releases
 * `pendingAuths` after a PK_OK. Here the requests wait in sshkit's own bounded queue and reach ssh2 only
 * once the previous one has been answered (an answer = USERAUTH_FAILURE, _SUCCESS or _PK_OK leaving
 * through the protocol object), so ssh2 always sees exactly one request in flight.
 */

/** Requests a client may have waiting behind the one being decided (ssh2's own MAX_PENDING_AUTHS). */
export const MAX_QUEUED_AUTHS = 10;

/** The per-connection auth queue installed by {@link serializeAuth}. */
export interface AuthQueue {
  /**
   * Arms the queue's release (each USERAUTH_FAILURE/_SUCCESS/_PK_OK sent frees the next request) and
   * takes over method names ssh2 does not know (it would disconnect; RFC 4252 §5 wants a FAILURE). Call
   * after protocol.ts's `hardenConnection`, so this sees each request first. In its turn, `unknown(user,
   * method)` decides: `true` answers USERAUTH_FAILURE listing `methods()`, `false` means it cut the
   * connection. Counting happens before the answer, so the request that reaches --max-auth-tries gets
   * a disconnect and no FAILURE, as sshd (auth2.c userauth_finish).
   */
  front(known: ReadonlySet<string>, methods: () => string[], unknown: (user: string, method: string) => boolean): void;
  /** Requests waiting (not counting the one being decided). */
  readonly waiting: number;
}

/**
 * Puts ssh2's USERAUTH_REQUEST handler behind a FIFO queue. Install before protocol.ts's
 * `hardenConnection` (which captures the raw packet synchronously and then calls the handler found
 * here). `overflow` is called when a client queues more than {@link MAX_QUEUED_AUTHS} requests
 * (sshkit then drops the connection, as ssh2 did with a protocol-error disconnect).
 */
export function serializeAuth(client: any, overflow: () => void): AuthQueue {
  const proto = client._protocol;
  const handlers = proto._handlers;
  const deliver = handlers.USERAUTH_REQUEST as (...args: unknown[]) => void;
  const waiting: Array<() => void> = [];
  let busy = false;
  let draining = false;
  let dead = false;

  const drain = () => {
    if (draining) return; // the loop below picks up whatever a synchronous answer released
    draining = true;
    try {
      while (!busy && !dead && waiting.length > 0) {
        if (client._sock?.destroyed) {
          waiting.length = 0;
          break;
        }
        busy = true;
        waiting.shift()!();
      }
    } finally {
      draining = false;
    }
  };

  const enqueue = (job: () => void) => {
    if (dead) return;
    if (waiting.length >= MAX_QUEUED_AUTHS) {
      dead = true;
      waiting.length = 0;
      overflow();
      return;
    }
    waiting.push(job);
    drain();
  };
  handlers.USERAUTH_REQUEST = (...args: unknown[]) => enqueue(() => deliver(...args));

  const release = () => {
    busy = false;
    drain();
  };
  return {
    front(known, methods, unknown) {
      // Every answer, whoever sends it (ssh2's auth contexts, protocol.ts, sshkit), goes out through one
      // of these three; each releases the next queued request once its packet is on its way. Wrapped
      // here, after hardenConnection, so a replacement installed there is wrapped too, not lost.
      for (const name of ['authFailure', 'authSuccess', 'authPKOK'] as const) {
        const send = proto[name].bind(proto);
        proto[name] = (...a: unknown[]) => {
          try {
            return send(...a);
          } finally {
            release();
          }
        };
      }

      let serviceAccepted = false;
      const nextService = handlers.SERVICE_REQUEST;
      handlers.SERVICE_REQUEST = (p: unknown, service: string) => {
        nextService(p, service);
        if (service === 'ssh-userauth') serviceAccepted = true;
      };
      const next = handlers.USERAUTH_REQUEST;
      handlers.USERAUTH_REQUEST = (p: unknown, user: string, service: string, method: string, data: unknown) => {
        if (!serviceAccepted || known.has(method) || client.authenticated) return next(p, user, service, method, data);
        enqueue(() => {
          if (!unknown(user, method)) return; // cut: nothing more is answered on this connection
          proto.authFailure(methods()); // releases the next request
        });
      };
    },
    get waiting() {
      return waiting.length;
    },
  };
}

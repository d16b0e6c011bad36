/**
 * Guards that keep one hostile connection's packets from reaching code in a state it cannot handle
 * (fuzz findings net--server-exception-1/-2). Both sit in sshkit's server layer; neither patches ssh2's
 * files.
 *
 *  - {@link guardPackets}: ssh2 1.17 stops parsing a chunk when a packet handler returns `Infinity`
 *    (what `doFatalError` returns after it disconnects and destructs the protocol instance). A wrapper
 *    around a handler that drops that return value (protocol.ts's USERAUTH_REQUEST capture did) lets the
 *    decipher loop hand the next packet of the same TCP chunk to the destructed instance; its second
 *    fatal error then calls `protocol._destruct()`, already `undefined`: "protocol._destruct is not a
 *    function". The guard makes every handler return `Infinity` once its protocol is destructed.
 *  - {@link guardSession}: a second `exec`/`shell`/`subsystem` on one session channel makes ssh2's
 *    `accept()` return undefined (the channel already runs something), and the session handler then
 *    read `.on` of undefined: "Cannot read properties of undefined (reading 'on')", which dropped the
 *    whole connection. sshd answers such a request with CHANNEL_FAILURE (session.c
 *    `session_input_channel_req`: "already has a command"); so does this guard, before the handler sees it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const GUARD = Symbol.for('sshkit.packetGuard');

/** Makes every ssh2 packet handler stop the parse loop once its protocol instance is destructed. */
export function guardPackets(_client: unknown): void {
  const table = require('ssh2/lib/protocol/handlers.js') as Array<((self: any, payload: Buffer) => unknown) | undefined>;
  for (let i = 0; i < table.length; i++) {
    const h = table[i];
    if (typeof h !== 'function' || (h as any)[GUARD]) continue; // re-checked per connection: outermost wins
    const guarded = (self: any, payload: Buffer) => {
      if (self._destruct === undefined) return Infinity;
      const r = h(self, payload);
      return self._destruct === undefined ? Infinity : r;
    };
    (guarded as any)[GUARD] = true;
    table[i] = guarded;
  }
}

/** Requests that start something on a session channel; only one may succeed per channel (RFC 4254 §6.5). */
const STARTERS = new Set(['exec', 'shell', 'subsystem', 'sftp']);

/**
 * Refuses (CHANNEL_FAILURE) a start request on a session channel that already runs something or is
 * closing, instead of handing the session handler an `accept` that yields nothing.
 */
export function guardSession(client: any, session: any, onRefused: (request: string) => void): void {
  const emit = session.emit.bind(session);
  session.emit = (event: string | symbol, ...args: any[]) => {
    if (typeof event === 'string' && STARTERS.has(event) && (session._channel || session._ending)) {
      // ssh2's own reject() is a no-op once the channel exists, which would leave the client waiting.
      if (typeof args[1] === 'function') client._protocol.channelFailure(session._chanInfo.outgoing.id);
      onRefused(event);
      return true;
    }
    return emit(event, ...args);
  };
}

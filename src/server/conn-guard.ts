/**
 * A guard that keeps one hostile connection's requests from reaching code in a state it cannot handle
 * (fuzz finding net--server-exception-2; -1 was a wrapper in protocol.ts dropping ssh2's Infinity
 * "stop parsing" result, fixed there). It sits in sshkit's server layer and patches no ssh2 file.
 *
 * {@link guardSession}: a second `exec`/`shell`/`subsystem` on one session channel makes ssh2's
 *    `accept()` return undefined (the channel already runs something), and the session handler then
 *    read `.on` of undefined: "Cannot read properties of undefined (reading 'on')", which dropped the
 *    whole connection. sshd answers such a request with CHANNEL_FAILURE (session.c
 *    `session_input_channel_req`: "already has a command"); so does this guard, before the handler sees it.
 */
import type { EventEmitter } from 'node:events';

/** The parts of an ssh2 1.17 server Session read here (not in its public types). */
interface SessionInternals {
  _channel?: object;
  _ending?: boolean;
  _chanInfo: { outgoing: { id: number } };
}

/** Requests that start something on a session channel; only one may succeed per channel (RFC 4254 §6.5). */
const STARTERS = new Set(['exec', 'shell', 'subsystem', 'sftp']);

/**
 * Refuses (CHANNEL_FAILURE) a start request on a session channel that already runs something or is
 * closing, instead of handing the session handler an `accept` that yields nothing.
 */
export function guardSession(client: object, session: EventEmitter, onRefused: (request: string) => void): void {
  const s = session as EventEmitter & SessionInternals;
  const proto = (client as { _protocol: { channelFailure(id: number): void } })._protocol;
  const emit = s.emit.bind(s);
  s.emit = (event: string | symbol, ...args: unknown[]) => {
    if (typeof event === 'string' && STARTERS.has(event) && (s._channel || s._ending)) {
      // ssh2's own reject() is a no-op once the channel exists, which would leave the client waiting.
      if (typeof args[1] === 'function') proto.channelFailure(s._chanInfo.outgoing.id);
      onRefused(event);
      return true;
    }
    return emit(event, ...args);
  };
}

/**
 * What sshkit changes in ssh2 1.17's server protocol (the only file that touches ssh2 internals).
 * Each item is a pitfall seen on a stock ssh2 server; see README "sshkit serve: hardening":
 *  - algorithm policy: modern kex, AEAD/ETM only, compression `none`/`zlib@openssh.com` (plain `zlib`
 *    inflates before auth: a 195 KB packet became 200 MB), host-key algorithms without SHA-1 `ssh-rsa`;
 *  - EXT_INFO: ssh2's `server-sig-algs` lacks a comma (`…nistp521rsa-sha2-512…`), so a client limited
 *    to rsa-sha2-512 fails; sshkit sends its own list (the algorithms core/pubkey-auth.ts accepts) instead;
 *  - USERAUTH_REQUEST before SERVICE_REQUEST/ACCEPT: disconnect (protocol error), as RFC 4252 §4 expects
 *    the service to be accepted first;
 *  - an unknown auth method: ssh2 disconnects; RFC 4252 §5 wants USERAUTH_FAILURE, which sshkit sends
 *    (and counts as a failed attempt, as sshd does);
 *  - the raw publickey request: ssh2 strips the signature blob's algorithm name and re-encodes ECDSA
 *    signatures as ASN.1, so the exact bytes (algorithm as sent, SSH signature blob) are captured here
 *    and handed to core signature.ts — the same verify path as `verify-signature`;
 *  - PK_OK: ssh2 answers a key-only query with the key's type (`ssh-rsa`), RFC 4252 §7 wants the
 *    algorithm name of the request echoed (RFC 8332 §3: `rsa-sha2-256/512`); AsyncSSH then failed with
 *    `Key mismatch`, Go with `no supported methods remain`, dbclient fell back to SHA-1 and was refused;
 *  - key exchange (protocol-kex.ts): a right first-KEX guess kept (dbclient hung), `ssh-rsa` dropped.
 */
import { requireSsh2 } from './ssh2-load.js';
import { WireReader, WireWriter } from '../core/wire.js';
import { hardenKex } from './protocol-kex.js';

/** Algorithms offered (README lists them). Filtered against what this ssh2 build supports. */
export function algorithmPolicy(): Record<string, string[]> {
  const c = requireSsh2('ssh2/lib/protocol/constants.js');
  const only = (want: string[], have: string[]) => want.filter((a) => have.includes(a));
  return {
    kex: only(['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521'], c.SUPPORTED_KEX),
    cipher: only(['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'], c.SUPPORTED_CIPHER),
    // Encrypt-then-MAC first; the plain SHA-2 MACs after them, as OpenSSH 9.2's defaults (Twisted Conch 22.4
    // has only these; Dropbear with a CTR cipher needs hmac-sha2-256). No SHA-1 MAC.
    hmac: only(['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'], c.SUPPORTED_MAC),
    compress: ['none', 'zlib@openssh.com'],
    serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'],
  };
}

/** Host-key algorithms a KEXINIT may list: the policy's (ssh2 adds SHA-1 `ssh-rsa` for an RSA key). */
const HOST_KEY_ALGORITHMS: readonly string[] = algorithmPolicy().serverHostKey;

/** Signature algorithms announced in server-sig-algs (RFC 8308): those core/pubkey-auth.ts accepts. */
export const SERVER_SIG_ALGS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256'];

const MSG_EXT_INFO = 7;
const MSG_USERAUTH_REQUEST = 50;
const DISCONNECT_PROTOCOL_ERROR = 2;
/** The auth method names ssh2 itself parses; any other name is answered (and counted) by auth-queue.ts. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set(['none', 'password', 'publickey', 'hostbased', 'keyboard-interactive']);

/** The exact publickey request bytes, keyed by ssh2's per-request key Buffer (`ctx.key.data`). */
export interface RawPublicKey {
  readonly algorithm: string;
  readonly signature?: Buffer;
  /** Set when the request had bytes after its fields (a strict parser refuses it). */
  readonly malformed?: boolean;
}
const rawRequests = new WeakMap<Buffer, RawPublicKey>();

/** The raw request behind an ssh2 publickey auth context (undefined if it was not captured). */
export function rawPublicKey(keyData: Buffer): RawPublicKey | undefined {
  return rawRequests.get(keyData);
}

let patched = false;
/** Makes ssh2's USERAUTH_REQUEST parser leave the packet's payload where the per-connection hook can read it. */
function patchTable(): void {
  if (patched) return;
  patched = true;
  const table = requireSsh2('ssh2/lib/protocol/handlers.js') as Array<(self: any, payload: Buffer) => unknown>;
  const orig = table[MSG_USERAUTH_REQUEST];
  // The handler's result is passed on: after a fatal error ssh2 returns Infinity to stop parsing the
  // chunk; dropping it handed the next packet to a destructed protocol (net--server-exception-1).
  table[MSG_USERAUTH_REQUEST] = (self, payload) => {
    self.__sshkitPayload = payload;
    try {
      return orig(self, payload);
    } finally {
      self.__sshkitPayload = undefined;
    }
  };
}

function parsePublicKeyPayload(payload: Buffer): RawPublicKey {
  const r = new WireReader(payload, 'userauth request');
  r.u8();
  r.string(); // user
  r.string(); // service
  r.string(); // method
  const hasSig = r.bool();
  const algorithm = r.text();
  r.string(); // key blob
  const signature = hasSig ? Buffer.from(r.string()) : undefined;
  return { algorithm, signature, malformed: r.remaining !== 0 };
}

/** Hooks the server calls back into. */
export interface ProtocolHooks {
  /** The methods to list in a USERAUTH_FAILURE. */
  methods(): string[];
  /** A protocol violation closed the connection. */
  onViolation(reason: string): void;
}

/** ssh2's packet sender and the EXT_INFO payload, made once: a `require` per connection cost ≈ 0.1 ms of CPU (module resolution, issue 14). */
let extInfo: { sendPacket(proto: unknown, packet: Buffer): void; body: Buffer } | undefined;

function sendExtInfo(proto: any): void {
  extInfo ??= {
    sendPacket: requireSsh2('ssh2/lib/protocol/utils.js').sendPacket,
    body: new WireWriter().u8(MSG_EXT_INFO).u32(1).string('server-sig-algs').string(SERVER_SIG_ALGS.join(',')).toBuffer(),
  };
  const { sendPacket, body } = extInfo;
  const p = proto._packetRW.write.allocStart;
  const packet = proto._packetRW.write.alloc(body.length);
  packet.set(body, p);
  sendPacket(proto, proto._packetRW.write.finalize(packet));
}

/**
 * One write(2) per burst of packets: ssh2 writes each packet on its own, so the replies to one inbound
 * segment (exec: CHANNEL_SUCCESS, DATA, EOF, exit-status, CLOSE) each cost a syscall and often a TCP
 * segment. The socket is corked on the first write and uncorked in the check phase of the same
 * event-loop turn (setImmediate: after this turn's I/O callbacks and every promise they started, before
 * the loop waits for I/O again); Node then sends the lot with one writev. With process.nextTick the
 * exec reply went out in two writes (CHANNEL_SUCCESS, sent in ssh2's event, flushed before the
 * session pipeline's promises wrote the output, EOF, exit-status and CLOSE). A login (connect, kex,
 * publickey, exec, close) took 12 write syscalls, then 10, now 9 (issue 14).
 */
function coalesceWrites(sock: any): void {
  if (!sock || typeof sock.cork !== 'function' || typeof sock.write !== 'function') return;
  const write = sock.write;
  let corked = false;
  const flush = (): void => {
    corked = false;
    sock.uncork();
  };
  sock.write = function (this: unknown, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      sock.cork();
      setImmediate(flush);
    }
    return write.apply(this, args);
  };
}

/**
 * Installs the per-connection fixes on an ssh2 server-side client. Call from the server's
 * 'connection' event (before the key exchange completes).
 */
export function hardenConnection(client: any, hooks: ProtocolHooks): void {
  patchTable();
  const proto = client._protocol;
  const handlers = proto._handlers;
  hardenKex(client, HOST_KEY_ALGORITHMS);
  coalesceWrites(client._sock);

  // PK_OK echoes the algorithm as the client named it (ssh2 passes the key type; the raw request has it).
  const origPkOk = proto.authPKOK;
  proto.authPKOK = (keyAlgo: string, key: Buffer) => {
    const raw = rawRequests.get(key);
    return origPkOk.call(proto, raw && !raw.malformed ? raw.algorithm : keyAlgo, key);
  };

  // EXT_INFO with a correct server-sig-algs, sent where ssh2 would send its own (after the first NEWKEYS).
  const origDone = proto._onHandshakeComplete;
  let first = true;
  proto._onHandshakeComplete = (...args: unknown[]) => {
    const ext = first && proto._kex && proto._kex.remoteExtInfoEnabled;
    if (ext) proto._kex.remoteExtInfoEnabled = false;
    first = false;
    if (ext) sendExtInfo(proto);
    return origDone(...args);
  };

  let serviceAccepted = false;
  const origService = handlers.SERVICE_REQUEST;
  handlers.SERVICE_REQUEST = (p: unknown, service: string) => {
    origService(p, service);
    if (service === 'ssh-userauth') serviceAccepted = true;
  };

  const origAuth = handlers.USERAUTH_REQUEST;
  handlers.USERAUTH_REQUEST = (p: any, user: string, service: string, method: string, data: any) => {
    if (!serviceAccepted) {
      hooks.onViolation('USERAUTH_REQUEST before ssh-userauth service was accepted');
      proto.disconnect(DISCONNECT_PROTOCOL_ERROR);
      client._sock?.destroy();
      return;
    }
    if (!KNOWN_METHODS.has(method)) {
      // Before authentication auth-queue.ts answers unknown methods in their turn; one reaching here
      // comes after it (ssh2 would disconnect without a reason).
      hooks.onViolation(`auth method ${method} after authentication`);
      proto.disconnect(DISCONNECT_PROTOCOL_ERROR);
      client._sock?.destroy();
      return;
    }
    if (method === 'publickey' && data && data.key && p.__sshkitPayload) {
      try {
        rawRequests.set(data.key, parsePublicKeyPayload(p.__sshkitPayload));
      } catch {
        rawRequests.set(data.key, { algorithm: '', malformed: true });
      }
    }
    origAuth(p, user, service, method, data);
  };
}

/** SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE (RFC 4250 §4.2.2), sent when --max-auth-tries is reached. */
const DISCONNECT_NO_MORE_AUTH_METHODS = 14;

/** Ends a connection with a DISCONNECT saying no more auth methods are available (ssh2 has no public call). */
export function disconnectNoMoreAuth(client: any): void {
  client._protocol.disconnect(DISCONNECT_NO_MORE_AUTH_METHODS);
}

/** The TCP socket under an ssh2 server-side client (to find the connection sshkit accepted). */
export function socketOf(client: any): unknown {
  return client._sock;
}

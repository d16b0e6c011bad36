/**
 * Key-exchange fixes for ssh2 1.17's server, applied per connection (so `createServer` library users get
 * them too, with no patched copy of ssh2 on disk). Installed by `hardenConnection` in protocol.ts, from
 * the server's 'connection' event, which ssh2 emits after the client's version line and before it sends
 * its own KEXINIT.
 *  - first_kex_packet_follows (RFC 4253 §7.1): ssh2's handleKexInit overwrites the parsed client list
 *    `remote.kex` with the negotiated name before comparing, so `remote.kex[0]` is its first *letter* and
 *    every guess counts as wrong: Dropbear's dbclient (which always guesses) had its right guess dropped
 *    and both sides waited forever. It also never looks at the host-key algorithm. sshkit decides as
 *    OpenSSH's kex.c `proposals_match`: right only when both sides' first kex and first host-key
 *    algorithms are the same; a wrong guess is skipped.
 *  - EXT_INFO right after the server's NEWKEYS (RFC 8308 §2.4): ssh2's server switches to the new
 *    outbound keys only once the client's NEWKEYS has arrived, so EXT_INFO left one round trip after
 *    NEWKEYS. libssh 0.10 picks its RSA signature algorithm as soon as it has NEWKEYS: without
 *    server-sig-algs yet it chose `ssh-rsa` and refused its own key ("not allowed by
 *    PUBLICKEY_ACCEPTED_TYPES"), in one run of three or more. As OpenSSH's sshd, sshkit now switches
 *    outbound keys when it sends NEWKEYS (RFC 4253 §7.3 asks exactly that) and keeps the old inbound
 *    keys until the client's NEWKEYS, then writes the reply, NEWKEYS and EXT_INFO in one segment;
 *  - SHA-1 host-key signatures: ssh2's Server adds `ssh-rsa` after rsa-sha2-* for an RSA host key even
 *    when the configured list leaves it out; sshkit's KEXINIT lists only the algorithms of its policy.
 */
import { requireSsh2 } from './ssh2-load.js';
import { WireReader } from '../core/wire.js';
import { fastHostKeySigning } from './host-key-sign.js';
import { fastCurve25519 } from './kex-curve25519.js';

const MSG_KEXINIT = 20;
/** SSH_MSG_KEXDH_INIT / SSH_MSG_KEX_ECDH_INIT (RFC 4253 §8, RFC 5656 §7.1): the server's reply follows. */
const MSG_KEX_ECDH_INIT = 30;

/** The parts of a KEXINIT (RFC 4253 §7.1) that decide whether a guessed first packet is used. */
export interface KexGuess {
  readonly follows: boolean;
  /** The sender's first (preferred) kex algorithm. */
  readonly kex: string;
  /** The sender's first (preferred) host-key algorithm. */
  readonly hostKey: string;
}

/** Reads a KEXINIT payload strictly (all ten name-lists, the flag and the reserved uint32). */
export function parseKexInit(payload: Buffer): KexGuess {
  const r = new WireReader(payload, 'KEXINIT');
  if (r.u8() !== MSG_KEXINIT) throw new Error('not a KEXINIT');
  r.raw(16); // cookie
  const kex = r.text().split(',')[0];
  const hostKey = r.text().split(',')[0];
  for (let i = 0; i < 8; i++) r.string(); // ciphers, MACs, compression, languages (both ways)
  const follows = r.bool();
  r.u32(); // reserved
  return { follows, kex, hostKey };
}

/**
 * Is a peer's guessed first KEX packet to be used? RFC 4253 §7.1: the guess is wrong when "the kex
 * algorithm and/or the host key algorithm is guessed wrong (server and client have different preferred
 * algorithm)"; OpenSSH kex.c `proposals_match` compares exactly the first entry of each of the two lists.
 */
export function guessIsRight(local: { kex: readonly string[]; hostKey: readonly string[] }, remote: KexGuess): boolean {
  return remote.kex === local.kex[0] && remote.hostKey === local.hostKey[0];
}

/**
 * Server, first key exchange: when ssh2's kex has sent the reply and NEWKEYS, derive the keys at once,
 * switch the outbound cipher (completing ssh2's handshake: EXT_INFO goes out now) and hold the new
 * inbound decipher back until the client's NEWKEYS, which ssh2 then routes to `kex.finish`.
 */
let nullDecipher: (new () => unknown) | undefined;
function earlyOutboundKeys(proto: any): void {
  const kex = proto._kex;
  const NullDecipher = (nullDecipher ??= requireSsh2('ssh2/lib/protocol/crypto.js').NullDecipher as new () => unknown); // once: a require per connection cost ≈ 0.1 ms
  if (!kex || !(proto._decipher instanceof NullDecipher) || typeof kex.finish !== 'function') return;
  const first = kex.finish;
  const wrapper = function (this: any, ...args: unknown[]) {
    const ret = first.apply(kex, args); // KEX_ECDH_REPLY + NEWKEYS; ssh2 sets kex.finish = completeHandshake
    const complete = kex.finish;
    const oldDecipher = proto._decipher;
    if (complete === wrapper || !kex._sentNEWKEYS || !(oldDecipher instanceof NullDecipher)) return ret;
    complete.call(kex, true); // derives keys, installs the new decipher, does not switch outbound (partial)
    const newDecipher = proto._decipher;
    proto._decipher = oldDecipher; // the client's NEWKEYS still comes under the old (null) keys
    complete.call(kex); // outbound switches now; ssh2's handshake completes (EXT_INFO is sent)
    kex.finish = () => {
      newDecipher.inSeqno = proto._decipher.inSeqno; // after NEWKEYS (0 again in strict kex)
      proto._decipher = newDecipher;
      return false; // ssh2 goes on parsing the rest of the data with the new decipher
    };
    return ret;
  };
  kex.finish = wrapper;
}

/** After ssh2 handled a KEXINIT: set its "skip the next packet" flag from the RFC rule, not its own. */
function fixGuess(proto: any, payload: Buffer): void {
  if (!proto._kex || proto._destruct === undefined) return; // ssh2 refused the KEXINIT (or the socket is gone)
  let remote: KexGuess;
  try {
    remote = parseKexInit(payload);
  } catch {
    return; // ssh2 accepted what our strict reader does not: leave its decision
  }
  if (!remote.follows) return;
  const lists = proto._offer.lists;
  proto._skipNextInboundPacket = !guessIsRight({ kex: lists.kex.array, hostKey: lists.serverHostKey.array }, remote);
}

let tablePatched = false;
/** Rekeys: a later KEXINIT goes through ssh2's message table. */
function patchRekey(): void {
  if (tablePatched) return;
  tablePatched = true;
  const table = requireSsh2('ssh2/lib/protocol/handlers.js') as Array<(self: any, payload: Buffer) => unknown>;
  const orig = table[MSG_KEXINIT];
  table[MSG_KEXINIT] = (self, payload) => {
    const r = orig(self, payload);
    if (self._server && r !== Infinity) {
      fixGuess(self, payload);
      fastCurve25519(self._kex);
    }
    return r; // Infinity (a fatal error) must stop ssh2's parse loop
  };
}

const offers = new WeakMap<object, object>();
/** ssh2's KEXINIT offer with the host-key list cut to `allowed` (one new offer per Server, cached). */
function filteredOffer(offer: any, allowed: readonly string[]): any {
  let out = offers.get(offer);
  if (!out) {
    const { KexInit } = requireSsh2('ssh2/lib/protocol/kex.js');
    const l = offer.lists;
    const names = (e: { array: string[] }) => e.array.slice();
    out = new KexInit({
      kex: names(l.kex),
      serverHostKey: l.serverHostKey.array.filter((a: string) => allowed.includes(a)),
      cs: { cipher: names(l.cs.cipher), mac: names(l.cs.mac), compress: names(l.cs.compress), lang: names(l.cs.lang) },
      sc: { cipher: names(l.sc.cipher), mac: names(l.sc.mac), compress: names(l.sc.compress), lang: names(l.sc.lang) },
    });
    offers.set(offer, out!);
  }
  return out;
}

/**
 * Installs the KEX fixes on one ssh2 server-side connection: must run before ssh2 sends its KEXINIT
 * (the 'connection' event). `hostKeyAlgorithms` is the policy's list; anything else ssh2 added is dropped.
 */
export function hardenKex(client: any, hostKeyAlgorithms: readonly string[]): void {
  patchRekey();
  const proto = client._protocol;
  fastHostKeySigning(proto._hostKeys); // once per key: ssh2 re-parses the PEM on every signature
  proto._offer = filteredOffer(proto._offer, hostKeyAlgorithms);
  // The first KEXINIT is handled inside ssh2's handshake decipher, not through the message table.
  const decipher = proto._decipher;
  const orig = decipher._onPayload;
  let seen = false;
  const sock = client._sock;
  decipher._onPayload = (payload: Buffer) => {
    const first = !seen && payload.length > 0 && payload[0] === MSG_KEXINIT && !proto._skipNextInboundPacket;
    // ssh2 answers KEX_ECDH_INIT synchronously: reply, NEWKEYS and EXT_INFO leave in one write.
    const reply = payload.length > 0 && payload[0] === MSG_KEX_ECDH_INIT && !proto._skipNextInboundPacket && typeof sock?.cork === 'function';
    if (reply) sock.cork();
    try {
      return orig(payload);
    } finally {
      if (reply) sock.uncork();
      if (first) {
        seen = true;
        fixGuess(proto, payload);
        if (proto._server) {
          fastCurve25519(proto._kex); // the exchange ssh2 just made for the negotiated kex
          earlyOutboundKeys(proto);
        }
      }
    }
  };
}

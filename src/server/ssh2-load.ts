/**
 * How sshkit's server code loads ssh2's modules (issue 14: server CPU per login). ssh2 1.17 fills the
 * random padding of every packet it sends (RFC 4253 §6: 4–255 bytes of random padding) and the KEXINIT
 * cookie with one `crypto.randomFillSync` call each, 15 calls a login; each call goes through OpenSSL
 * 3's DRBG (a lock, a fork check: one getpid(2) a call) and cost ≈ 16 µs measured inside a loaded
 * server (0.24 ms a login). OpenSSH takes the same bytes from a buffered stream (arc4random_buf over a
 * ChaCha20 keystream refilled from the kernel). Here ssh2's modules are loaded with a `randomFillSync`
 * that hands out small requests from a 4 KiB pool filled by Node's own randomFillSync (the same
 * CSPRNG; each byte is handed out once); anything else goes to Node's function unchanged. ssh2 reads
 * `randomFillSync` once, when its module loads (`const { randomFillSync } = require('crypto')`), so the
 * pooled function is in place only while those modules load, then `crypto.randomFillSync` is Node's
 * again: nothing else in the process sees it. When ssh2 was loaded before (by the program embedding the
 * library), it keeps Node's function.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Largest request served from the pool (ssh2 asks for ≤ 255 padding bytes or a 16-byte cookie). */
export const POOLED_MAX = 256;
const POOL_SIZE = 4096;

/**
 * The ssh2 modules of the server that take `randomFillSync` at load: packet padding, KEXINIT cookie
 * (lib/client.js, loaded only by the package index, takes it for X11 cookies and keeps Node's).
 */
const USERS = ['ssh2/lib/protocol/crypto.js', 'ssh2/lib/protocol/kex.js'];

/**
 * A `randomFillSync(buf, offset, size)` that serves requests of ≤ {@link POOLED_MAX} bytes from a pool
 * refilled through `fill` (Node's randomFillSync); other calls go to `fill` as they are.
 */
export function pooledRandomFill(fill: (buf: Uint8Array, offset?: number, size?: number) => Uint8Array): (buf: Uint8Array, offset?: number, size?: number) => Uint8Array {
  let pool: Uint8Array = new Uint8Array(0);
  let at = 0;
  return function randomFillSync(this: unknown, buf: Uint8Array, offset?: number, size?: number): Uint8Array {
    if (
      arguments.length === 3 &&
      buf instanceof Uint8Array &&
      Number.isInteger(offset) &&
      Number.isInteger(size) &&
      offset! >= 0 &&
      size! >= 0 &&
      size! <= POOLED_MAX &&
      offset! + size! <= buf.length
    ) {
      if (at + size! > pool.length) {
        pool = fill(new Uint8Array(POOL_SIZE));
        at = 0;
      }
      buf.set(pool.subarray(at, at + size!), offset);
      pool.fill(0, at, at + size!); // a handed-out byte is never kept
      at += size!;
      return buf;
    }
    return fill.apply(this, arguments as unknown as [Uint8Array, number?, number?]);
  };
}

let loaded = false;

/** Loads ssh2's modules once (the pooled randomFillSync in place while they load), then `require(id)`. */
export function requireSsh2<T = any>(id: string): T {
  if (!loaded) {
    loaded = true;
    const crypto = require('node:crypto') as { randomFillSync: (buf: Uint8Array, offset?: number, size?: number) => Uint8Array };
    const fresh = USERS.every((m) => require.cache[require.resolve(m)] === undefined);
    if (fresh) {
      const node = crypto.randomFillSync;
      crypto.randomFillSync = pooledRandomFill(node);
      try {
        for (const m of USERS) require(m);
      } finally {
        crypto.randomFillSync = node;
      }
    }
  }
  return require(id) as T;
}

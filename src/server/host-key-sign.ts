/**
 * Host-key signatures at the cost of the signature (issue 14: "where the ≈ 1 ms per login above Conch
 * goes"). ssh2 1.17's parsed keys sign with `crypto.sign(algo, data, pem)` (keyParser.js BaseKey.sign),
 * so Node parses the PEM text again for every signature: ≈ 820 µs of CPU for an ed25519 host key
 * against ≈ 45 µs with a KeyObject made once (measured on the CI-like machine; one signature per login,
 * RFC 4253 §8's exchange-hash signature). Each host key of a server gets its own `sign` that uses a
 * KeyObject made on its first use: same algorithm choice, same bytes (ed25519 is deterministic; the
 * test compares with ssh2's own signature), same error-as-value contract as ssh2's method.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

/** The hash ssh2 signs with when kex.js passes none (its SYM_HASH_ALGO per key type; RFC 8332 / 5656). */
const DEFAULT_HASH: ReadonlyMap<string, string | null> = new Map([
  ['ssh-ed25519', null],
  ['ssh-rsa', 'sha1'],
  ['ecdsa-sha2-nistp256', 'sha256'],
  ['ecdsa-sha2-nistp384', 'sha384'],
  ['ecdsa-sha2-nistp521', 'sha512'],
]);

/** The parts of ssh2's ParsedKey this needs. */
interface Ssh2PrivateKey {
  readonly type: string;
  getPrivatePEM(): string;
  sign(data: Buffer, algo?: string): Buffer | Error;
}

const done = new WeakSet<object>();

/**
 * Gives each key of ssh2's host-key table (Protocol `_hostKeys`: type → parsed key, shared by the
 * server's connections) a `sign` over a cached KeyObject. Idempotent; keys of other types are left to ssh2.
 */
export function fastHostKeySigning(keys: Record<string, Ssh2PrivateKey> | undefined): void {
  if (!keys) return;
  for (const key of Object.values(keys)) {
    if (!key || done.has(key) || !DEFAULT_HASH.has(key.type) || typeof key.getPrivatePEM !== 'function') continue;
    done.add(key);
    const fallback = DEFAULT_HASH.get(key.type) ?? null;
    let keyObject: KeyObject | undefined;
    Object.defineProperty(key, 'sign', {
      configurable: true,
      writable: true,
      value(data: Buffer, algo?: string): Buffer | Error {
        try {
          keyObject ??= createPrivateKey(key.getPrivatePEM());
          return sign(algo || fallback, data, keyObject);
        } catch (err) {
          return err as Error; // ssh2's contract: kex.js tests `instanceof Error`
        }
      },
    });
  }
}

/**
 * The agents exec authenticates through, both behind one rule: no SHA-1 `ssh-rsa` signature, ever
 * (RFC 8332; issue 9 item 11). Our own identities sign through the core (ssh2 sees public blobs and
 * finished signatures only); an ssh-agent at SSH_AUTH_SOCK signs for itself, but a request ssh2
 * would make with SHA-1 (a server that sent no server-sig-algs) is refused before it reaches it.
 */
import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';
import { baseKeyType } from '../core/key.js';
import { parseSignatureBlob } from '../core/signature.js';
import { WireReader } from '../core/wire.js';
import type { Identity } from './identities.js';

const require = createRequire(import.meta.url);
const ssh2 = () => require('ssh2') as typeof Ssh2;

/** RSA signature algorithms by the hash ssh2 asks an agent for; SHA-1 (`ssh-rsa`) is not among them. */
const RSA_SHA2 = new Map([
  ['sha256', 'rsa-sha2-256'],
  ['sha512', 'rsa-sha2-512'],
]);
/** Why an RSA key was not used: the one-line reason exec reports. */
export const NO_SHA1 = 'the server would get an ssh-rsa (SHA-1) signature, which sshkit never makes';

/**
 * The signature algorithm for a key blob and ssh2's sign options: the key's own for non-RSA keys,
 * rsa-sha2-256/512 for RSA keys and certificates (RFC 8332), or null when ssh2 asks for SHA-1.
 */
function signatureAlgorithm(blob: Buffer, options: { hash?: string } | undefined): string | undefined | null {
  if (baseKeyType(new WireReader(blob, 'public key').text()) !== 'ssh-rsa') return undefined;
  return RSA_SHA2.get(options?.hash ?? '') ?? null;
}

/** Our identities as an ssh2 agent: ssh2 gets public blobs and asks for signatures; the core signs. */
export function identityAgent(ids: Identity[], used: Set<Identity>): Ssh2.BaseAgent {
  const { BaseAgent } = ssh2();
  class CoreAgent extends BaseAgent {
    override getIdentities(cb: (err: Error | undefined, keys?: Buffer[]) => void): void {
      cb(undefined, ids.map((id) => id.signer.publicKey.blob));
    }
    override sign(pubKey: any, data: Buffer, options: any, cb?: any): void {
      if (typeof options === 'function') [cb, options] = [options, {}];
      const blob: Buffer = Buffer.isBuffer(pubKey) ? pubKey : pubKey.getPublicSSH();
      const id = ids.find((i) => i.signer.publicKey.blob.equals(blob));
      if (!id) return cb(new Error('no such identity'));
      used.add(id);
      try {
        const alg = signatureAlgorithm(blob, options);
        if (alg === null) return cb(new Error(NO_SHA1));
        cb(undefined, parseSignatureBlob(id.signer.sign(data, alg)).bytes);
      } catch (err) {
        cb(err as Error);
      }
    }
  }
  return new CoreAgent();
}

/**
 * The ssh-agent at `socket`, behind the same rule: ssh2 asks an agent for an `ssh-rsa` (SHA-1)
 * signature when the server sent no server-sig-algs; such a request is refused here, before it
 * reaches the agent (issue 9 item 11), whatever ssh2 decides.
 */
export function sha2OnlyAgent(socket: string): Ssh2.BaseAgent {
  const { BaseAgent, OpenSSHAgent } = ssh2();
  const inner = new OpenSSHAgent(socket);
  class Sha2Agent extends BaseAgent {
    override getIdentities(cb: (err: Error | undefined, keys?: Buffer[]) => void): void {
      inner.getIdentities(cb as never);
    }
    override sign(pubKey: any, data: Buffer, options: any, cb?: any): void {
      if (typeof options === 'function') [cb, options] = [options, {}];
      let alg: string | undefined | null;
      try {
        alg = signatureAlgorithm(Buffer.isBuffer(pubKey) ? pubKey : pubKey.getPublicSSH(), options);
      } catch (err) {
        return cb(err as Error);
      }
      if (alg === null) return cb(new Error(NO_SHA1));
      inner.sign(pubKey, data, options, cb);
    }
  }
  return new Sha2Agent();
}

/**
 * The library's SSHSIG functions (issue 15; OpenSSH PROTOCOL.sshsig): `verify` is ssh-keygen -Y verify
 * (sshsig-verify.ts, the same decision the CLI prints), `sign` is ssh-keygen -Y sign (sshsig.ts's
 * signDigest with the core signer). Data is a Buffer, a string or a stream, hashed as it comes.
 */
import { createHash } from 'node:crypto';
import { bad, ParseError } from '../core/errors.js';
import { parsePublicKeyText, type PublicKey } from '../core/key.js';
import { loadSigningKey } from '../core/private-key.js';
import { parseRevokedKeys } from '../core/revocation.js';
import { createSigner } from '../core/signature.js';
import { armorSignature, signDigest } from '../core/sshsig.js';
import { verifySignatureFile, type TrustAnchor } from '../core/sshsig-verify.js';

/**
 * SSHSIG message hashes (PROTOCOL.sshsig): the same union as core/sshsig.ts's, declared here so this
 * module's declarations do not reach signature.ts (whose signer type is sshpk's).
 */
export type SshsigHash = 'sha256' | 'sha512';

/** Message bytes: whole, as text (UTF-8), or a stream (a Node Readable is one). */
export type SignedData = Buffer | Uint8Array | string | AsyncIterable<Buffer | Uint8Array | string>;

async function digestOf(data: SignedData, hash: SshsigHash): Promise<Buffer> {
  const h = createHash(hash);
  if (typeof data === 'string' || data instanceof Uint8Array) return h.update(data).digest();
  if (data && typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of data) h.update(chunk);
    return h.digest();
  }
  throw bad('data: expected a Buffer, a string or a stream');
}

/** What {@link verify} checks. Exactly one trust anchor: `allowedSigners` + `identity`, or `publicKey`. */
export interface VerifyParams {
  /** The armored signature (`-----BEGIN SSH SIGNATURE-----`). */
  signature: string | Buffer;
  data: SignedData;
  namespace: string;
  /** allowed_signers text (ssh-keygen -Y verify -f); `allowedSignersName` labels its lines in reasons. */
  allowedSigners?: string;
  allowedSignersName?: string;
  /** The principal that must be allowed (-I). */
  identity?: string;
  /** Instead of allowed_signers: the one key (or certificate) that must have signed. */
  publicKey?: PublicKey | string;
  /** A revoked-keys list (one key per line, `ssh-keygen -Y verify -r` in its plain-key form). */
  revoked?: string | Buffer;
  /** Verification time for validity windows; default now. */
  now?: Date;
}

/** The verdict: `ok`, the first reason of a "no" (ssh-keygen's words) and all of them, and the signer. */
export interface VerifyResult {
  ok: boolean;
  reason?: string;
  reasons: string[];
  namespace: string;
  hash: SshsigHash;
  signer: { type: string; label: string; fingerprint: string; key: PublicKey };
}

/**
 * Verifies an SSHSIG in ssh-keygen's order (sig_verify): parse, namespace, signature, revocation, then
 * the trust anchor. A "no" is `{ ok: false, reason }`; a malformed signature or request throws
 * SshkitError (code `PARSE`/`BAD_INPUT`). Without a trust anchor it throws — never "ok" by default.
 */
export async function verify(p: VerifyParams): Promise<VerifyResult> {
  if (!p || typeof p.namespace !== 'string' || p.namespace === '') throw bad('verify: namespace is required');
  let anchor: TrustAnchor;
  if (p.publicKey !== undefined && p.allowedSigners !== undefined) throw bad('verify: give allowedSigners or publicKey, not both');
  if (p.publicKey !== undefined) {
    const key = typeof p.publicKey === 'string' ? parsePublicKeyText(p.publicKey) : p.publicKey;
    anchor = { kind: 'public-key', blob: key.blob };
  } else if (typeof p.allowedSigners === 'string') {
    if (typeof p.identity !== 'string' || p.identity === '') throw bad('verify: identity is required with allowedSigners');
    anchor = { kind: 'allowed-signers', text: p.allowedSigners, path: p.allowedSignersName ?? 'allowed_signers', principal: p.identity };
  } else {
    throw bad('verify: a trust anchor (allowedSigners with an identity, or publicKey) is required');
  }
  const revoked = p.revoked === undefined ? undefined : parseRevokedKeys(Buffer.from(p.revoked));
  if (revoked && revoked.errors.length > 0) {
    const e = revoked.errors[0];
    throw new ParseError(`revoked:${e.line}: ${e.message}`, e.line);
  }
  const now = Math.floor((p.now ?? new Date()).getTime() / 1000);
  const signature = Buffer.isBuffer(p.signature) ? p.signature : Buffer.from(String(p.signature), 'latin1');
  const v = await verifySignatureFile({ signature, digest: (hash) => digestOf(p.data, hash), namespace: p.namespace, anchor, revoked, now });
  const type = v.sig.publicKey.subarray(4, 4 + v.sig.publicKey.readUInt32BE(0)).toString('latin1');
  return {
    ok: v.ok,
    ...(v.ok ? {} : { reason: v.reasons[0] }),
    reasons: v.reasons,
    namespace: v.sig.namespace,
    hash: v.sig.hashAlgorithm,
    signer: { type, label: v.signer.label, fingerprint: v.signer.fingerprint, key: { type, blob: v.signer.blob, comment: '' } },
  };
}

/** What {@link sign} signs with. */
export interface SignParams {
  /** The private key file's text (OpenSSH, PEM or PKCS#8). */
  privateKey: string | Buffer;
  passphrase?: string | Buffer;
  /** A certificate for this key (`KEY-cert.pub` text): the signature then carries it, as ssh-keygen -Y sign. */
  certificate?: string;
  namespace: string;
  data: SignedData;
  /** Message hash: sha512 (default, as ssh-keygen) or sha256. */
  hash?: SshsigHash;
}

/** Signs `data` as `ssh-keygen -Y sign -n NAMESPACE` does; resolves to the armored signature text. */
export async function sign(p: SignParams): Promise<string> {
  const hash = p.hash ?? 'sha512';
  if (hash !== 'sha512' && hash !== 'sha256') throw bad(`hash: unsupported hash algorithm ${JSON.stringify(hash)} (sha512 or sha256)`);
  if (typeof p.namespace !== 'string' || p.namespace === '') throw bad('namespace: must not be empty');
  const cert = p.certificate === undefined ? undefined : parsePublicKeyText(p.certificate).blob;
  const signer = createSigner(loadSigningKey(p.privateKey, p.passphrase), cert);
  return armorSignature(signDigest(signer, p.namespace, hash, await digestOf(p.data, hash)));
}

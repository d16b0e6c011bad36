/**
 * The whole `ssh-keygen -Y verify` / `-Y find-principals` decision in one call, in OpenSSH's order
 * (ssh-keygen.c sig_verify): parse the armored SSHSIG (bad input → ParseError, exit 2), hash the message
 * with the signature's own hash algorithm, verify the signature and namespace, refuse revoked keys, then
 * ask allowed_signers (or compare with one given public key). Every "no" carries its reasons.
 * The trust anchor is required, in the types and at run time: without one a good signature by any key
 * would be "ok" (issue 10 item 11), where ssh-keygen -Y verify always needs -f and -I.
 */
import { checkAllowedSigners } from './allowed-signers.js';
import { bad } from './errors.js';
import { fingerprint } from './fingerprint.js';
import { inspectBlob, plainKeyBlob } from './key.js';
import { isRevoked, type RevokedKeys } from './revocation.js';
import { dearmorSignature, parseSshsig, verifySshsig, type Sshsig, type SshsigHash } from './sshsig.js';

/**
 * Whom the signer must be, never implied: an allowed_signers file (its text, its name for `name:line`
 * reasons, and the identity, as ssh-keygen -Y verify -f -I) or one public key (or certificate) blob.
 */
export type TrustAnchor =
  | { readonly kind: 'allowed-signers'; readonly text: string; readonly path: string; readonly principal: string }
  | { readonly kind: 'public-key'; readonly blob: Buffer };

/** What to verify and against what policy. */
export interface VerifyRequest {
  /** The signature file's bytes (armored). */
  readonly signature: Buffer;
  /** Computes H(message) with the given algorithm (streamed by the caller's I/O). */
  readonly digest: (hash: SshsigHash) => Promise<Buffer>;
  readonly namespace: string;
  /** Required: who may have signed. */
  readonly anchor: TrustAnchor;
  readonly revoked?: RevokedKeys;
  /** Verification time, seconds since the epoch. */
  readonly now: number;
}

/** The signer as reported: type label (ED25519, RSA-CERT…), fingerprint and key blob. */
export interface SignerInfo {
  readonly label: string;
  readonly fingerprint: string;
  readonly blob: Buffer;
}

/** The verdict of verify-signature with everything its human and JSON output need. */
export interface VerifyOutcome {
  readonly ok: boolean;
  readonly sig: Sshsig;
  readonly signer: SignerInfo;
  /** ssh-keygen's own stderr lines for a failure (first is the main reason). */
  readonly reasons: string[];
}

/** Parses an armored SSHSIG file and describes its signer (exit 2 on malformed input). */
export function readSignature(data: Buffer): { sig: Sshsig; signer: SignerInfo } {
  const sig = parseSshsig(dearmorSignature(data));
  return { sig, signer: { label: inspectBlob(sig.publicKey).label, fingerprint: fingerprint(sig.publicKey), blob: sig.publicKey } };
}

/** Verifies a signature file end to end; see the module comment for the order of checks. */
export async function verifySignatureFile(req: VerifyRequest): Promise<VerifyOutcome> {
  const anchor = req.anchor as TrustAnchor | undefined; // a JavaScript caller may omit it: refuse, never default to "ok"
  const usable =
    (anchor?.kind === 'public-key' && Buffer.isBuffer(anchor.blob)) ||
    (anchor?.kind === 'allowed-signers' && typeof anchor.text === 'string' && typeof anchor.principal === 'string');
  if (!usable) throw bad('verify: a trust anchor (allowed_signers with an identity, or a public key) is required');
  const { sig, signer } = readSignature(req.signature);
  const fail = (...reasons: string[]): VerifyOutcome => ({ ok: false, sig, signer, reasons });
  if (sig.namespace !== req.namespace) return fail("Couldn't verify signature: namespace does not match");
  const digest = await req.digest(sig.hashAlgorithm);
  const c = verifySshsig(sig, digest, req.namespace);
  if (!c.ok) return fail(`Signature verification failed: ${c.reason}`);
  if (req.revoked && isRevoked(req.revoked, sig.publicKey)) return fail(`${signer.label} key ${signer.fingerprint} is revoked`);
  if (anchor.kind === 'public-key') {
    const same = anchor.blob.equals(sig.publicKey) || anchor.blob.equals(plainKeyBlob(sig.publicKey));
    return same ? { ok: true, sig, signer, reasons: [] } : fail(`signature key ${signer.fingerprint} is not the given public key`);
  }
  const r = checkAllowedSigners(anchor.text, { key: sig.publicKey, principal: anchor.principal, namespace: req.namespace, now: req.now });
  if (r.ok) return { ok: true, sig, signer, reasons: [] };
  const lines = r.reasons.map((x) => `${anchor.path}:${x.line}: ${x.reason}`);
  if (lines.length === 0) lines.push(`${anchor.path}: no line allows "${anchor.principal}" to sign with ${signer.label} key ${signer.fingerprint}`);
  return fail(...lines);
}

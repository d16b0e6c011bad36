/**
 * The whole `ssh-keygen -Y verify` / `-Y find-principals` decision in one call, in OpenSSH's order
 * (ssh-keygen.c sig_verify): parse the armored SSHSIG (bad input → ParseError, exit 2), hash the message
 * with the signature's own hash algorithm, verify the signature and namespace, refuse revoked keys, then
 * ask allowed_signers (or compare with one given public key). Every "no" carries its reasons.
 */
import { checkAllowedSigners } from './allowed-signers.js';
import { fingerprint } from './fingerprint.js';
import { inspectBlob, plainKeyBlob } from './key.js';
import { isRevoked, type RevokedKeys } from './revocation.js';
import { dearmorSignature, parseSshsig, verifySshsig, type Sshsig, type SshsigHash } from './sshsig.js';

/** What to verify and against what policy. */
export interface VerifyRequest {
  /** The signature file's bytes (armored). */
  readonly signature: Buffer;
  /** Computes H(message) with the given algorithm (streamed by the caller's I/O). */
  readonly digest: (hash: SshsigHash) => Promise<Buffer>;
  readonly namespace: string;
  /** allowed_signers mode: the file's text and name (for `name:line` reasons) and the identity. */
  readonly allowedSigners?: { readonly text: string; readonly path: string; readonly principal: string };
  /** Single-key mode: the key (or certificate) blob the signer must be. */
  readonly publicKey?: Buffer;
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
  const { sig, signer } = readSignature(req.signature);
  const fail = (...reasons: string[]): VerifyOutcome => ({ ok: false, sig, signer, reasons });
  if (sig.namespace !== req.namespace) return fail("Couldn't verify signature: namespace does not match");
  const digest = await req.digest(sig.hashAlgorithm);
  const c = verifySshsig(sig, digest, req.namespace);
  if (!c.ok) return fail(`Signature verification failed: ${c.reason}`);
  if (req.revoked && isRevoked(req.revoked, sig.publicKey)) return fail(`${signer.label} key ${signer.fingerprint} is revoked`);
  if (req.publicKey) {
    const same = req.publicKey.equals(sig.publicKey) || req.publicKey.equals(plainKeyBlob(sig.publicKey));
    return same ? { ok: true, sig, signer, reasons: [] } : fail(`signature key ${signer.fingerprint} is not the given public key`);
  }
  if (req.allowedSigners) {
    const a = req.allowedSigners;
    const r = checkAllowedSigners(a.text, { key: sig.publicKey, principal: a.principal, namespace: req.namespace, now: req.now });
    if (r.ok) return { ok: true, sig, signer, reasons: [] };
    const lines = r.reasons.map((x) => `${a.path}:${x.line}: ${x.reason}`);
    if (lines.length === 0) lines.push(`${a.path}: no line allows "${a.principal}" to sign with ${signer.label} key ${signer.fingerprint}`);
    return fail(...lines);
  }
  return { ok: true, sig, signer, reasons: [] };
}

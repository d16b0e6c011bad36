/**
 * What `sshkit audit` judges in a key, wherever it is listed: its algorithm and size, and for a
 * certificate (PROTOCOL.certkeys) its CA signature, CA key, validity window and principals; and the
 * `expiry-time=` / `valid-before=` times of the lines that list keys. Every key goes through the one
 * blob parser (key-blob.ts) and every certificate through certificate.ts: nothing is parsed twice here.
 */
import { inspectBlob, type KeyInfo } from './key.js';
import { KNOWN_CRITICAL_OPTIONS, parseCertificate, verifyCertificateSignature } from './certificate.js';
import { WireReader } from './wire.js';
import { finding, type Finding } from './audit-rules.js';
import { bad } from './errors.js';
import { isRevoked, parseRevokedKeys } from './revocation.js';

/** What every check is judged against. */
export interface AuditContext {
  /** The audit's time, seconds since the epoch. */
  readonly now: number;
  /** `--expiring-within` in seconds; 0 turns the `expiring` rule off. */
  readonly expiringWithin: number;
  /** Is this key (or certificate) revoked? Absent without `--revoked`. */
  readonly isRevoked?: (blob: Buffer) => boolean;
}

/** Where a key was found: file, line, and what the file does with it (for messages). */
export interface Site {
  readonly file: string;
  readonly line: number;
  /** Does the file grant trust with this key (authorized, allowed signer, pinned host key)? */
  readonly trusted: boolean;
}

/** uint64 "forever" of a certificate's valid_before (PROTOCOL.certkeys). */
const FOREVER = 2n ** 64n - 1n;

/** An instant as people read it in logs: `2026-12-01T12:00:00Z`. */
export function formatInstant(secs: number): string {
  const d = new Date(secs * 1000);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(secs);
}

/** expired / expiring for an end of validity `before` (seconds; refused from that instant on). */
export function checkEnd(what: string, before: number, site: Site, ctx: AuditContext, out: Finding[]): void {
  if (before <= ctx.now) {
    out.push(finding('expired', site.file, site.line, `${what} ${formatInstant(before)} has passed`));
  } else if (ctx.expiringWithin > 0 && before - ctx.now <= ctx.expiringWithin) {
    const days = Math.ceil((before - ctx.now) / 86400);
    out.push(finding('expiring', site.file, site.line, `${what} ${formatInstant(before)} is in ${days} day${days === 1 ? '' : 's'}`));
  }
}

/** not-yet-valid for a start of validity `after` (seconds). */
export function checkStart(what: string, after: number, site: Site, ctx: AuditContext, out: Finding[]): void {
  if (after > ctx.now) out.push(finding('not-yet-valid', site.file, site.line, `${what} ${formatInstant(after)} is in the future`));
}

/** DSA and short RSA keys; `whose` prefixes the message (e.g. "certificate CA key: "). */
function checkStrength(info: KeyInfo, site: Site, whose: string, out: Finding[]): void {
  if (info.baseType === 'ssh-dss') {
    out.push(finding('dsa-key', site.file, site.line, `${whose}DSA key (ssh-dss, ${info.bits} bits)`));
  } else if (info.baseType === 'ssh-rsa' && info.bits < 2048) {
    out.push(finding('rsa-under-2048', site.file, site.line, `${whose}RSA key of ${info.bits} bits (under 2048)`));
  } else if (info.baseType === 'ssh-rsa' && info.bits < 3072) {
    out.push(finding('rsa-under-3072', site.file, site.line, `${whose}RSA key of ${info.bits} bits (under 3072)`));
  }
}

/** The certificate rules for a certificate blob already validated by inspectBlob. */
function checkCertificateBlob(blob: Buffer, site: Site, ctx: AuditContext, out: Finding[]): void {
  const cert = parseCertificate(blob);
  const id = `certificate ${JSON.stringify(cert.keyId)}`;
  checkStrength(inspectBlob(cert.signatureKey), site, 'certificate CA key: ', out);
  const alg = new WireReader(cert.signature, 'certificate signature').text();
  if (!verifyCertificateSignature(cert, true)) {
    out.push(finding('cert-bad-signature', site.file, site.line, `${id}: the CA signature does not verify`));
  } else if (alg === 'ssh-rsa') {
    out.push(finding('cert-sha1-signature', site.file, site.line, `${id} is signed with ssh-rsa (SHA-1)`));
  }
  for (const name of cert.criticalOptions.keys()) {
    // sshd: auth-options.c cert_option_list; ssh: sshconnect.c check_host_cert refuses any critical option
    if (cert.certType === 'host' || !KNOWN_CRITICAL_OPTIONS.includes(name)) {
      out.push(finding('cert-unknown-critical-option', site.file, site.line, `${cert.certType} ${id} has critical option "${name}": ${cert.certType === 'host' ? 'ssh' : 'sshd'} refuses it`));
    }
  }
  if (cert.validBefore === FOREVER) out.push(finding('cert-no-expiry', site.file, site.line, `${id} is valid forever`));
  else checkEnd(`${id} valid-before`, Number(cert.validBefore), site, ctx, out);
  if (cert.validAfter > 0n) checkStart(`${id} valid-after`, Number(cert.validAfter), site, ctx, out);
  if (cert.principals.length === 0) {
    out.push(finding('cert-no-principals', site.file, site.line, `${cert.certType} ${id} lists no principals (valid for any ${cert.certType === 'host' ? 'host' : 'name'})`));
  }
}

/** Key types with a strength rule; other plain keys (Ed25519, ECDSA) need no second look at their fields. */
const SIZED = new Set(['ssh-rsa', 'ssh-dss']);

/** The type name of an already validated blob (its first string), without re-reading the key fields. */
function blobType(blob: Buffer): string {
  return blob.toString('latin1', 4, 4 + blob.readUInt32BE(0));
}

/**
 * Every key rule for the key (or certificate) `blob` at `site`; the blob was validated by the parser that
 * found it (readKeyPrefix → inspectBlob). A revoked key is reported only where the file trusts it.
 */
export function checkKey(blob: Buffer, site: Site, ctx: AuditContext, out: Finding[]): void {
  const type = blobType(blob);
  if (SIZED.has(type) || type.endsWith('-cert-v01@openssh.com')) {
    const info = inspectBlob(blob);
    checkStrength(info, site, info.isCert ? 'certified key: ' : '', out);
    if (info.isCert) checkCertificateBlob(blob, site, ctx, out);
  }
  if (site.trusted && ctx.isRevoked?.(blob)) {
    out.push(finding('revoked-key', site.file, site.line, `${type} key is revoked (--revoked) but still listed`));
  }
}

/**
 * `sshkit audit --revoked FILE`: the revocation list as a predicate over key blobs, through the one
 * revocation reader (revocation.ts: a binary KRL by krl.c's rules, or one public key per line, as
 * `ssh-keygen -Y verify -r` and sshd's RevokedKeys read a non-KRL file; a certificate is revoked with its
 * key or its CA). A malformed KRL or an unreadable line
 * makes the whole list bad input (exit 2): an audit that skipped part of a revocation list would report
 * a revoked key as fine, failing open.
 * `name` names the file in errors; a bad list throws SshkitError (exit 2).
 */
export function revocationCheck(data: Buffer, name: string): (blob: Buffer) => boolean {
  let list;
  try {
    list = parseRevokedKeys(data);
  } catch (err) {
    throw bad(`${name}: ${(err as Error).message}`);
  }
  if (list.errors.length) throw bad(`${name}:${list.errors[0].line}: ${list.errors[0].message}`);
  return (blob) => isRevoked(list, blob);
}

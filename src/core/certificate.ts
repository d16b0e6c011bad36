/**
 * OpenSSH certificates (PROTOCOL.certkeys): strict parsing of `*-cert-v01@openssh.com` blobs and the
 * checks OpenSSH makes before trusting one (sshkey.c cert_parse + sshkey_cert_check_authority): the CA
 * signature over everything before the signature field (verified through signature.ts, the CA key must
 * be a plain key), the certificate type, the validity window and the principals. Shared by SSHSIG's
 * `cert-authority` lines and, later, the server's `cert-authority` authorized_keys lines.
 *
 * Layout: string type, string nonce, <key fields of the base type>, uint64 serial, uint32 type
 * (1 user, 2 host), string key id, string principals (a packed list of strings), uint64 valid_after,
 * uint64 valid_before, string critical options, string extensions (each a packed list of
 * `string name, string data`), string reserved, string signature key, string signature.
 */
import { ParseError } from './errors.js';
import { baseKeyType, isKnownKeyType, plainKeyBlob, readCertBody, readKeyFields } from './key.js';
import { matchPattern } from './pattern.js';
import { verifySignature } from './signature.js';
import { WireReader } from './wire.js';

/** A parsed certificate; `signedData` is the exact byte range the CA signed. */
export interface Certificate {
  readonly blob: Buffer;
  /** Certificate type name, e.g. ssh-ed25519-cert-v01@openssh.com. */
  readonly type: string;
  /** The certified key's plain type, e.g. ssh-ed25519. */
  readonly keyType: string;
  /** The certified key as a plain public key blob. */
  readonly key: Buffer;
  readonly nonce: Buffer;
  readonly serial: bigint;
  readonly certType: 'user' | 'host';
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch (inclusive lower bound). */
  readonly validAfter: bigint;
  /** Seconds since the epoch (exclusive upper bound); 2^64-1 is "forever". */
  readonly validBefore: bigint;
  /** Critical options: name → data (the inner string's value when present, else empty). */
  readonly criticalOptions: ReadonlyMap<string, Buffer>;
  readonly extensions: ReadonlyMap<string, Buffer>;
  /** The CA's plain public key blob. */
  readonly signatureKey: Buffer;
  /** The CA's signature blob. */
  readonly signature: Buffer;
  readonly signedData: Buffer;
}

/** Is this blob's type a certificate type? (cheap; does not validate) */
export function isCertificateBlob(blob: Buffer): boolean {
  try {
    return new WireReader(blob).text().endsWith('-cert-v01@openssh.com');
  } catch {
    return false;
  }
}

function optionList(buf: Buffer, what: string): Map<string, Buffer> {
  const r = new WireReader(buf, what);
  const out = new Map<string, Buffer>();
  let last: string | null = null;
  while (r.remaining > 0) {
    const name = r.text();
    const raw = r.string();
    if (out.has(name)) throw new ParseError(`certificate: duplicate ${what} ${JSON.stringify(name)}`);
    if (last !== null && name < last) throw new ParseError(`certificate: ${what} not in lexical order`);
    last = name;
    let data = raw;
    if (raw.length > 0) {
      const inner = new WireReader(raw, what);
      data = inner.string();
      inner.end();
    }
    out.set(name, data);
  }
  return out;
}

/**
 * Parses a certificate blob strictly: cert_parse's rules ({@link readCertBody}: C-string key id and
 * principals, at most 256 of them, a plain CA key, no trailing bytes) and, stricter than OpenSSH,
 * critical options and extensions each in lexical order without duplicates and with well-formed data.
 * Does not verify the CA signature: {@link checkCertificate} does.
 */
export function parseCertificate(blob: Buffer): Certificate {
  const r = new WireReader(blob, 'certificate');
  const type = r.cstring();
  const keyType = baseKeyType(type);
  if (keyType === type || !isKnownKeyType(type)) throw new ParseError('not a certificate');
  const nonce = r.string();
  readKeyFields(keyType, r);
  const body = readCertBody(r, blob.length);
  return {
    blob,
    type,
    keyType,
    key: plainKeyBlob(blob),
    nonce,
    serial: body.serial,
    certType: body.certType === 1 ? 'user' : 'host',
    keyId: body.keyId,
    principals: body.principals,
    validAfter: body.validAfter,
    validBefore: body.validBefore,
    criticalOptions: optionList(body.criticalOptions, 'critical option'),
    extensions: optionList(body.extensions, 'extension'),
    signatureKey: body.signatureKey,
    signature: body.signature,
    signedData: blob.subarray(0, body.signedLength),
  };
}

/**
 * Would OpenSSH's cert_parse accept this certificate blob, CA signature included? What `ssh-keygen -l`
 * requires of a certificate it fingerprints (its option lists are only checked to be name/data pairs,
 * and SHA-1 CA signatures are allowed). Never throws.
 */
export function certificateAcceptedByCertParse(blob: Buffer): boolean {
  try {
    const r = new WireReader(blob, 'certificate');
    const keyType = baseKeyType(r.cstring());
    r.string(); // nonce
    readKeyFields(keyType, r);
    const body = readCertBody(r, blob.length);
    return verifySignature(body.signatureKey, blob.subarray(0, body.signedLength), body.signature, { allowSha1: true });
  } catch {
    return false;
  }
}

/** Critical options sshd understands (sshd(8), PROTOCOL.certkeys); any other makes a certificate unusable for login. */
export const KNOWN_CRITICAL_OPTIONS: readonly string[] = ['force-command', 'source-address', 'verify-required'];

/** What {@link checkCertificate} checks against. */
export interface CertCheck {
  /** Verification time, seconds since the epoch. */
  now: number | bigint;
  /** The certificate type required. */
  type: 'user' | 'host';
  /** A name that must be among the principals (exact match unless `wildcard`). */
  principal?: string;
  /** Treat each certificate principal as a pattern matched against `principal` (host certs in known_hosts). */
  wildcard?: boolean;
  /** Refuse a certificate with no principals (default true, as OpenSSH does for user certs in sshd and SSHSIG). */
  requirePrincipal?: boolean;
  /** Critical options to accept, or 'ignore' (ssh-keygen -Y does not look at them). Default {@link KNOWN_CRITICAL_OPTIONS}. */
  criticalOptions?: readonly string[] | 'ignore';
  /** Accept a CA signature of type ssh-rsa (SHA-1). Default false. */
  allowSha1?: boolean;
  /** If given, the CA key blob must equal this (identity is bytes). */
  ca?: Buffer;
}

/** The outcome of a certificate check: ok, or the reason OpenSSH would give. */
export type CertResult = { ok: true } | { ok: false; reason: string };

/** Verifies the CA's signature over the certificate (SHA-1 `ssh-rsa` refused unless allowed). Never throws. */
export function verifyCertificateSignature(cert: Certificate, allowSha1 = false): boolean {
  try {
    return verifySignature(cert.signatureKey, cert.signedData, cert.signature, { allowSha1 });
  } catch {
    return false;
  }
}

/**
 * Decides whether a certificate may be trusted, in OpenSSH's order: CA key (if pinned), CA signature,
 * type, validity window (valid_after ≤ now < valid_before), principals, critical options. Reasons are
 * OpenSSH's own strings ("Certificate invalid: expired", …).
 */
export function checkCertificate(cert: Certificate, opts: CertCheck): CertResult {
  if (opts.ca && !opts.ca.equals(cert.signatureKey)) return { ok: false, reason: 'Certificate not signed by a trusted CA key' };
  if (!verifyCertificateSignature(cert, opts.allowSha1)) return { ok: false, reason: 'Certificate signature invalid' };
  if (cert.certType !== opts.type) return { ok: false, reason: `Certificate invalid: not a ${opts.type} certificate` };
  const now = BigInt(opts.now);
  if (now < cert.validAfter) return { ok: false, reason: 'Certificate invalid: not yet valid' };
  if (now >= cert.validBefore) return { ok: false, reason: 'Certificate invalid: expired' };
  if (cert.principals.length === 0) {
    if (opts.requirePrincipal !== false) return { ok: false, reason: 'Certificate lacks principal list' };
  } else if (opts.principal !== undefined) {
    const name = opts.principal;
    const hit = cert.principals.some((p) => (opts.wildcard ? matchPattern(name, p) : p === name));
    if (!hit) return { ok: false, reason: 'Certificate invalid: name is not a listed principal' };
  }
  const allowed = opts.criticalOptions ?? KNOWN_CRITICAL_OPTIONS;
  if (allowed !== 'ignore') {
    for (const name of cert.criticalOptions.keys()) {
      if (!allowed.includes(name)) return { ok: false, reason: `Certificate has unsupported critical option "${name}"` };
    }
  }
  return { ok: true };
}

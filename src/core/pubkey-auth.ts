/**
 * Public-key authorization for `sshkit serve` (SPEC: "the key-only query is answered (PK_OK), the
 * signature is verified, the key must be listed for that user and pass its options"). This file knows
 * nothing of ssh2: it takes the request's bytes (algorithm name, key blob, signature blob, signed data)
 * and answers with core code only — key.ts to validate the blob, authorized-keys.ts's index to find it,
 * certificate.ts for user certificates, signature.ts (the same verify as `verify-signature`) for the
 * signature. Policy as OpenSSH 9 (auth2-pubkey.c, auth2-pubkeyfile.c): SHA-1 `ssh-rsa` refused, the
 * signature's algorithm must be the one requested, a line whose options refuse the client does not
 * end the search (a later line may list the same key).
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuthorizedKey, KeyIndex, KeyOptions } from './authorized-keys.js';
import { matchCidrList, matchFromList } from './addr.js';
import { checkCertificate, parseCertificate, type Certificate } from './certificate.js';
import { baseKeyType, keyFromBlob } from './key.js';
import { fingerprint } from './fingerprint.js';
import { verifySignature } from './signature.js';

const CERT = '-cert-v01@openssh.com';

/** Public-key algorithms accepted (OpenSSH 9.2's default PubkeyAcceptedAlgorithms, minus FIDO keys). */
export const ACCEPTED_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
].flatMap((a) => [a, a + CERT]);

/** One publickey USERAUTH_REQUEST, as bytes. `signature`/`signedData` are absent for the key-only query. */
export interface PublicKeyRequest {
  readonly user: string;
  /** The algorithm name as sent (e.g. rsa-sha2-512, ssh-ed25519-cert-v01@openssh.com). */
  readonly algorithm: string;
  readonly keyBlob: Buffer;
  readonly signature?: Buffer;
  readonly signedData?: Buffer;
  /** The client's IP address (for from= and certificate source-address). */
  readonly address: string;
  /** Seconds since the epoch (tests may pin it). */
  readonly now?: number;
}

/** What a granted login may do: the forced command and whether a pty may be allocated. */
export interface Grant {
  readonly command?: string;
  readonly pty: boolean;
  /** authorized_keys line that granted the login (0 for passwords). */
  readonly line: number;
  /** Options that were present but that sshkit does not act on (logged). */
  readonly ignored: readonly string[];
  readonly certKeyId?: string;
}

/** The answer: `ok` (signature verified), `query-ok` (answer PK_OK) or a refusal with OpenSSH-like reason. */
export type PublicKeyDecision =
  | { result: 'ok' | 'query-ok'; keyType: string; fingerprint: string; grant: Grant }
  | { result: 'fail'; keyType: string; fingerprint?: string; reason: string };

/** The signature algorithm a request's algorithm implies (certificates are signed by the certified key). */
function signatureAlgorithm(algorithm: string): string {
  return algorithm.endsWith(CERT) ? algorithm.slice(0, -CERT.length) : algorithm;
}

/** Does the requested algorithm fit the blob's key type? (rsa-sha2-* ↔ ssh-rsa; certs keep their suffix) */
function algorithmFits(algorithm: string, blobType: string): boolean {
  const sig = signatureAlgorithm(algorithm);
  const keyAlg = sig === 'rsa-sha2-256' || sig === 'rsa-sha2-512' ? 'ssh-rsa' : sig;
  return algorithm.endsWith(CERT) ? blobType === keyAlg + CERT : blobType === keyAlg;
}

function optionsRefusal(o: KeyOptions, address: string, now: number): string | null {
  if (o.expiryTime !== undefined && now > o.expiryTime) return 'key expired (expiry-time)';
  if (o.from !== undefined) {
    let m: string;
    try {
      m = matchFromList(o.from, address);
    } catch {
      m = 'none'; // an unparsable from= never grants access
    }
    if (m !== 'match') return `address ${address} not permitted by from="${o.from}"`;
  }
  return null;
}

function grantOf(e: AuthorizedKey, extra: { command?: string; certKeyId?: string } = {}): Grant {
  const ignored = [...e.options.ignored];
  if (e.options.environment.length) ignored.push('environment');
  // no-port/agent/X11-forwarding and no-user-rc hold trivially: sshkit offers none of these.
  return { command: extra.command ?? e.options.command, pty: e.options.pty, line: e.line, ignored, certKeyId: extra.certKeyId };
}

/** Finds the authorized_keys line that admits a plain key, if any. */
function authorizePlain(index: KeyIndex, blob: Buffer, req: PublicKeyRequest, now: number): Grant | string {
  let why = 'key not authorized';
  for (const e of index.lookup(blob)) {
    if (e.options.certAuthority || e.key.blob.length !== blob.length || !timingSafeEqual(e.key.blob, blob)) continue;
    const refusal = optionsRefusal(e.options, req.address, now);
    if (refusal) {
      why = refusal;
      continue;
    }
    return grantOf(e);
  }
  return why;
}

/** Finds a cert-authority line whose CA signed a valid user certificate for this user. */
function authorizeCert(index: KeyIndex, cert: Certificate, req: PublicKeyRequest, now: number): Grant | string {
  let why = 'certificate CA not trusted';
  const ca = cert.signatureKey;
  for (const e of index.lookup(ca)) {
    if (!e.options.certAuthority || !timingSafeEqual(e.key.blob, ca)) continue;
    const principals = e.options.principals;
    const res = checkCertificate(cert, {
      now,
      type: 'user',
      principal: principals === undefined ? req.user : undefined,
      criticalOptions: ['force-command', 'source-address'],
    });
    if (!res.ok) {
      why = res.reason;
      continue;
    }
    if (principals !== undefined) {
      const allowed = principals.split(',');
      if (!cert.principals.some((p) => allowed.includes(p))) {
        why = 'certificate principals not listed in principals=';
        continue;
      }
    }
    const refusal = optionsRefusal(e.options, req.address, now);
    if (refusal) {
      why = refusal;
      continue;
    }
    const src = cert.criticalOptions.get('source-address');
    if (src !== undefined && !cidrSafe(src.toString('utf8'), req.address)) {
      why = 'certificate source-address does not permit this client';
      continue;
    }
    const forced = cert.criticalOptions.get('force-command')?.toString('utf8');
    if (forced !== undefined && e.options.command !== undefined && forced !== e.options.command) {
      why = 'forced command in certificate and authorized_keys differ';
      continue;
    }
    return grantOf(e, { command: forced ?? e.options.command, certKeyId: cert.keyId });
  }
  return why;
}

/** source-address is CIDR only (addr_match_cidr_list): an invalid list never admits. */
function cidrSafe(list: string, address: string): boolean {
  try {
    return matchCidrList(list, address);
  } catch {
    return false;
  }
}

/**
 * Decides one publickey request against the user's index. Never throws: malformed blobs and signatures
 * are refusals. A query (no signature) is answered `query-ok` only for a key that would be admitted.
 */
export function authorizePublicKey(index: KeyIndex, req: PublicKeyRequest): PublicKeyDecision {
  const now = req.now ?? Math.floor(Date.now() / 1000);
  let keyType = req.algorithm;
  let fp: string | undefined;
  try {
    const key = keyFromBlob(req.keyBlob);
    keyType = key.type;
    fp = fingerprint(key.blob);
    if (!ACCEPTED_ALGORITHMS.includes(req.algorithm)) {
      return { result: 'fail', keyType, fingerprint: fp, reason: `algorithm ${req.algorithm} not accepted` };
    }
    if (!algorithmFits(req.algorithm, key.type)) {
      return { result: 'fail', keyType, fingerprint: fp, reason: `algorithm ${req.algorithm} does not match key type ${key.type}` };
    }
    const got = key.type.endsWith(CERT)
      ? authorizeCert(index, parseCertificate(key.blob), req, now)
      : authorizePlain(index, key.blob, req, now);
    if (typeof got === 'string') return { result: 'fail', keyType, fingerprint: fp, reason: got };
    if (!req.signature || !req.signedData) return { result: 'query-ok', keyType, fingerprint: fp, grant: got };
    const ok = verifySignature(key.blob, req.signedData, req.signature, { algorithms: [signatureAlgorithm(req.algorithm)] });
    if (!ok) return { result: 'fail', keyType, fingerprint: fp, reason: 'signature verification failed' };
    return { result: 'ok', keyType, fingerprint: fp, grant: got };
  } catch (err) {
    return { result: 'fail', keyType: baseKeyType(keyType), fingerprint: fp, reason: `invalid key or signature: ${(err as Error).message}` };
  }
}

/**
 * Public keys. A key *is* its wire blob (RFC 4253 §6.6; PROTOCOL.certkeys for certificates): identity,
 * equality and fingerprints are computed from the blob, never from a comment or a parsed object.
 * This module is the one strict parser of public-key blobs and of the `type base64 [comment]` text form;
 * everything else (authorized_keys, known_hosts, allowed_signers, the server) goes through it.
 */
import { ParseError } from './errors.js';
import { WireReader, WireWriter } from './wire.js';
import { decodeBase64Strict } from './base64.js';
import { validPublicPoint } from './ec-point.js';

/** A public key: canonical wire blob, its type name (first string of the blob) and a comment. */
export interface PublicKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly comment: string;
}

/** What ssh-keygen shows of a key: `bits` (sshkey_size) and `label` (sshkey_type: ED25519, RSA-CERT…). */
export interface KeyInfo {
  readonly type: string;
  readonly label: string;
  readonly bits: number;
  /** For certificates, the wire type of the certified key (e.g. ssh-ed25519). */
  readonly baseType: string;
  readonly isCert: boolean;
}

const CURVES: ReadonlyMap<string, { name: string; bits: number }> = new Map([
  ['ecdsa-sha2-nistp256', { name: 'nistp256', bits: 256 }],
  ['ecdsa-sha2-nistp384', { name: 'nistp384', bits: 384 }],
  ['ecdsa-sha2-nistp521', { name: 'nistp521', bits: 521 }],
  ['sk-ecdsa-sha2-nistp256@openssh.com', { name: 'nistp256', bits: 256 }],
]);

const LABELS: ReadonlyMap<string, string> = new Map([
  ['ssh-ed25519', 'ED25519'],
  ['ssh-rsa', 'RSA'],
  ['ssh-dss', 'DSA'],
  ['ecdsa-sha2-nistp256', 'ECDSA'],
  ['ecdsa-sha2-nistp384', 'ECDSA'],
  ['ecdsa-sha2-nistp521', 'ECDSA'],
  ['sk-ecdsa-sha2-nistp256@openssh.com', 'ECDSA-SK'],
  ['sk-ssh-ed25519@openssh.com', 'ED25519-SK'],
]);

/** OpenSSH refuses RSA moduli below this (SSH_RSA_MINIMUM_MODULUS_SIZE) and above 16384. */
export const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;
/** sshkey.h SSHKEY_CERT_MAX_PRINCIPALS: cert_parse refuses a certificate listing more. */
export const CERT_MAX_PRINCIPALS = 256;

/** Certificate types (PROTOCOL.certkeys) and the plain key type each certifies. */
const CERT_TYPES: ReadonlyMap<string, string> = new Map([
  ['ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'],
  ['ssh-rsa-cert-v01@openssh.com', 'ssh-rsa'],
  ['ssh-dss-cert-v01@openssh.com', 'ssh-dss'],
  ['ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521-cert-v01@openssh.com', 'ecdsa-sha2-nistp521'],
  ['sk-ssh-ed25519-cert-v01@openssh.com', 'sk-ssh-ed25519@openssh.com'],
  ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'],
]);

/** The plain key type a type name stands for (the certified key's type, for a certificate type). */
export function baseKeyType(type: string): string {
  return CERT_TYPES.get(type) ?? type;
}

/** Is `type` a key or certificate type this parser understands? */
export function isKnownKeyType(type: string): boolean {
  return LABELS.has(baseKeyType(type));
}

/** Bit length of an unsigned big-endian magnitude. */
export function bitLength(mag: Buffer): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]));
}

/**
 * Reads the type-specific public fields of a plain key of `type` and returns its size in bits.
 * Strict like sshkey_from_blob (ed25519 length, curve name, point validity, RSA size, mpints of at
 * most 16384 bits), and stricter where OpenSSH would canonicalise: no NUL in the curve name or FIDO
 * application, minimal mpints, so the blob is the one encoding of its key.
 */
export function readKeyFields(type: string, r: WireReader): number {
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      if (r.string().length !== 32) throw new ParseError('invalid ed25519 public key length');
      if (type !== 'ssh-ed25519') r.cstring('application');
      return 256;
    }
    case 'ssh-rsa': {
      r.mpint(); // e
      const bits = bitLength(r.mpint());
      if (bits < RSA_MIN_BITS) throw new ParseError(`RSA key too small (${bits} bits)`);
      if (bits > RSA_MAX_BITS) throw new ParseError(`RSA key too large (${bits} bits)`);
      return bits;
    }
    case 'ssh-dss': {
      const bits = bitLength(r.mpint());
      r.mpint();
      r.mpint();
      r.mpint();
      return bits;
    }
    default: {
      const curve = CURVES.get(type);
      if (!curve) throw new ParseError(`unknown key type ${JSON.stringify(type)}`);
      const name = r.cstring('curve name');
      if (name !== curve.name) throw new ParseError(`curve ${JSON.stringify(name)} does not match key type ${type}`);
      if (!validPublicPoint(curve.name, r.string())) throw new ParseError('invalid ECDSA public point');
      if (type.startsWith('sk-')) r.cstring('application');
      return curve.bits;
    }
  }
}

/**
 * Validates a plain (non-certificate) public key blob in full, as sshkey_from_blob with allow_cert = 0
 * (a certificate's CA key): a certificate type is refused before anything is read, so certificates
 * nested as CA keys cost one string, never a recursion.
 */
export function inspectPlainBlob(blob: Buffer, what = 'public key'): KeyInfo {
  const r = new WireReader(blob, what);
  const type = r.cstring();
  const label = LABELS.get(type);
  if (CERT_TYPES.has(type)) throw new ParseError(`${what}: is a certificate`);
  if (!label) throw new ParseError(`unknown key type ${JSON.stringify(type)}`);
  const bits = readKeyFields(type, r);
  r.end();
  return { type, label, bits, baseType: type, isCert: false };
}

/** The fields of a certificate after its key (PROTOCOL.certkeys), read with cert_parse's rules. */
export interface CertBody {
  readonly serial: bigint;
  readonly certType: number;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: Buffer;
  readonly extensions: Buffer;
  readonly signatureKey: Buffer;
  readonly signature: Buffer;
  /** Bytes of the blob the CA signed (everything before the signature field). */
  readonly signedLength: number;
}

function checkPairs(buf: Buffer, what: string): void {
  const r = new WireReader(buf, what);
  while (r.remaining > 0) {
    r.string();
    r.string();
  }
}

/**
 * Reads a certificate's fields after the certified key, as sshkey.c cert_parse: user or host type, a
 * key id and at most 256 principals that are C strings (a NUL inside is refused, as
 * sshbuf_get_cstring does; here a final NUL too), critical options and extensions as name/data pairs,
 * a CA key that is a valid plain key (sshkey_type_is_valid_ca), a signature, nothing after it.
 */
export function readCertBody(r: WireReader, blobLength: number): CertBody {
  const serial = r.u64();
  const certType = r.u32();
  const keyId = r.cstring('key id');
  const pr = new WireReader(r.string(), 'certificate principals');
  const principals: string[] = [];
  while (pr.remaining > 0) {
    if (principals.length >= CERT_MAX_PRINCIPALS) throw new ParseError(`certificate: more than ${CERT_MAX_PRINCIPALS} principals`);
    principals.push(pr.cstring('a principal'));
  }
  const validAfter = r.u64();
  const validBefore = r.u64();
  const criticalOptions = r.string();
  const extensions = r.string();
  r.string(); // reserved
  const signatureKey = r.string();
  const signedLength = blobLength - r.remaining;
  const signature = r.string();
  r.end();
  if (certType !== 1 && certType !== 2) throw new ParseError(`certificate: unknown certificate type ${certType}`);
  checkPairs(criticalOptions, 'certificate critical options');
  checkPairs(extensions, 'certificate extensions');
  inspectPlainBlob(signatureKey, 'certificate CA key');
  return { serial, certType, keyId, principals, validAfter, validBefore, criticalOptions, extensions, signatureKey, signature, signedLength };
}

/** Validates a public key (or certificate) blob in full and describes it. */
export function inspectBlob(blob: Buffer): KeyInfo {
  const r = new WireReader(blob, 'public key');
  const type = r.cstring();
  const baseType = baseKeyType(type);
  const label = LABELS.get(baseType);
  if (!label) throw new ParseError(`unknown key type ${JSON.stringify(type)}`);
  if (type === baseType) {
    const bits = readKeyFields(type, r);
    r.end();
    return { type, label, bits, baseType, isCert: false };
  }
  r.string(); // nonce
  const bits = readKeyFields(baseType, r);
  readCertBody(r, blob.length);
  return { type, label: `${label}-CERT`, bits, baseType, isCert: true };
}

/**
 * Strict base64 as OpenSSH's b64_pton reads it; kept under this name for existing callers. New code
 * imports {@link decodeBase64Strict} from base64.ts, the one reader.
 */
export const decodeBase64 = decodeBase64Strict;

/** A key from its blob: validates it, takes its type from the blob. */
export function keyFromBlob(blob: Buffer, comment = ''): PublicKey {
  const info = inspectBlob(blob);
  return { type: info.type, blob, comment };
}

/**
 * Signature-algorithm names sshkey_type_from_name also takes for a key type (the `sigonly` entries of
 * sshkey.c's keyimpls): `ssh-keygen -l` and sshd read `rsa-sha2-256 <ssh-rsa blob>` as that RSA key.
 */
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['rsa-sha2-256', 'ssh-rsa'],
  ['rsa-sha2-512', 'ssh-rsa'],
  ['rsa-sha2-256-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['rsa-sha2-512-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com'],
  ['webauthn-sk-ecdsa-sha2-nistp256@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com'],
]);

/**
 * Reads `type base64` at the start of `text` (after leading blanks), like OpenSSH's sshkey_read:
 * the type token must name the blob's own type (or be one of its signature-algorithm aliases). Returns
 * the key and the offsets of the base64 field as written (`dataStart`, `end`; b64_pton lets it hold
 * whitespace, so identify keys by `key.blob`, never by that text), or null when `text` does not start
 * with a known key type (so callers can try options or hosts first). A known type followed by a bad
 * blob is an error, not null.
 */
export function readKeyPrefix(text: string, from = 0): { key: PublicKey; end: number; dataStart: number } | null {
  let i = from;
  while (text[i] === ' ' || text[i] === '\t') i++;
  let j = i;
  while (j < text.length && text[j] !== ' ' && text[j] !== '\t') j++;
  const token = text.slice(i, j);
  const type = TYPE_ALIASES.get(token) ?? token;
  if (!isKnownKeyType(type)) return null;
  while (text[j] === ' ' || text[j] === '\t') j++;
  let k = j;
  while (k < text.length && text[k] !== ' ' && text[k] !== '\t') k++;
  if (k === j) throw new ParseError(`missing key data after ${type}`);
  // b64_pton skips white space inside the data: a CRLF line's `\r` belongs to no comment
  const blob = decodeBase64Strict(text.slice(j, k), 'base64 key data');
  const key = keyFromBlob(blob);
  if (key.type !== type) throw new ParseError(`key type mismatch: line says ${token}, key is ${key.type}`);
  return { key, end: k, dataStart: j };
}

/** Parses a one-line OpenSSH public key `type base64 [comment]` (the .pub form). */
export function parsePublicKeyLine(line: string): PublicKey {
  const text = line.replace(/\r?\n$/, '');
  const got = readKeyPrefix(text);
  if (!got) throw new ParseError('not a public key line');
  const comment = text.slice(got.end).replace(/^[ \t]+/, '');
  return { ...got.key, comment };
}

/** The key of a .pub file: its first line that is neither blank nor a `#` comment (as sshkey_try_load_public). */
export function parsePublicKeyText(text: string): PublicKey {
  for (const line of text.split('\n')) {
    const t = line.replace(/^[ \t]+/, '');
    if (t === '' || t === '\r' || t.startsWith('#')) continue;
    return parsePublicKeyLine(line);
  }
  throw new ParseError('no public key found');
}

/** Formats the .pub line; an empty comment leaves no trailing space (SPEC). */
export function formatPublicKey(key: PublicKey): string {
  const b64 = key.blob.toString('base64');
  return key.comment ? `${key.type} ${b64} ${key.comment}` : `${key.type} ${b64}`;
}

/**
 * The plain public key inside a blob: the blob itself for a plain key; for a certificate, the certified
 * key re-encoded as a plain key (sshkey_fingerprint hashes this form, so a certificate's fingerprint
 * is its key's).
 */
export function plainKeyBlob(blob: Buffer): Buffer {
  const r = new WireReader(blob, 'public key');
  const type = r.cstring();
  const base = baseKeyType(type);
  if (base === type) return blob;
  r.string(); // nonce
  const start = blob.length - r.remaining;
  readKeyFields(base, r);
  const fields = blob.subarray(start, blob.length - r.remaining);
  return new WireWriter().string(base).raw(fields).toBuffer();
}

/**
 * Public keys. A key *is* its wire blob (RFC 4253 §6.6; PROTOCOL.certkeys for certificates): identity,
 * equality and fingerprints are computed from the blob, never from a comment or a parsed object.
 * This module is the one strict parser of public-key blobs and of the `type base64 [comment]` text form;
 * everything else (authorized_keys, known_hosts, allowed_signers, the server) goes through it.
 */
import { ParseError } from './errors.js';
import { WireReader, WireWriter } from './wire.js';
import { decodeBase64Strict } from './base64.js';

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

const CURVES: Record<string, { name: string; bits: number; point: number }> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', bits: 256, point: 65 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', bits: 384, point: 97 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', bits: 521, point: 133 },
  'sk-ecdsa-sha2-nistp256@openssh.com': { name: 'nistp256', bits: 256, point: 65 },
};

const LABELS: Record<string, string> = {
  'ssh-ed25519': 'ED25519',
  'ssh-rsa': 'RSA',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'ECDSA-SK',
  'sk-ssh-ed25519@openssh.com': 'ED25519-SK',
};

/** NIST prime curves y² = x³ − 3x + b (mod p), FIPS 186-4 D.1.2. */
const NIST: Record<string, { p: bigint; b: bigint }> = {
  nistp256: {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  nistp384: {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  nistp521: {
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

/**
 * Is the uncompressed point on its curve? OpenSSH (sshkey_ec_validate_public) refuses keys that are
 * not; a BigInt check costs microseconds, where building an OpenSSL key object costs far more.
 */
function onCurve(curve: string, q: Buffer): boolean {
  const { p, b } = NIST[curve];
  const n = (q.length - 1) / 2;
  const x = BigInt('0x' + q.subarray(1, 1 + n).toString('hex'));
  const y = BigInt('0x' + q.subarray(1 + n).toString('hex'));
  if (x >= p || y >= p) return false;
  return (y * y - (x * x * x - 3n * x + b)) % p === 0n;
}

/** OpenSSH refuses RSA moduli below this (SSH_RSA_MINIMUM_MODULUS_SIZE) and above 16384. */
export const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

/** Certificate types (PROTOCOL.certkeys) and the plain key type each certifies. */
const CERT_TYPES: Record<string, string> = {
  'ssh-ed25519-cert-v01@openssh.com': 'ssh-ed25519',
  'ssh-rsa-cert-v01@openssh.com': 'ssh-rsa',
  'ssh-dss-cert-v01@openssh.com': 'ssh-dss',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': 'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': 'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519-cert-v01@openssh.com': 'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': 'sk-ecdsa-sha2-nistp256@openssh.com',
};

/** The plain key type a type name stands for (the certified key's type, for a certificate type). */
export function baseKeyType(type: string): string {
  return CERT_TYPES[type] ?? type;
}

/** Is `type` a key or certificate type this parser understands? */
export function isKnownKeyType(type: string): boolean {
  return baseKeyType(type) in LABELS;
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
 * Strict like sshkey_from_blob: key lengths, curve names and RSA sizes are checked.
 */
export function readKeyFields(type: string, r: WireReader): number {
  switch (type) {
    case 'ssh-ed25519':
    case 'sk-ssh-ed25519@openssh.com': {
      if (r.string().length !== 32) throw new ParseError('invalid ed25519 public key length');
      if (type !== 'ssh-ed25519') r.string(); // application
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
      const curve = CURVES[type];
      if (!curve) throw new ParseError(`unknown key type ${JSON.stringify(type)}`);
      const name = r.text();
      if (name !== curve.name) throw new ParseError(`curve ${JSON.stringify(name)} does not match key type ${type}`);
      const q = r.string();
      if (q.length !== curve.point || q[0] !== 0x04 || !onCurve(curve.name, q)) throw new ParseError('invalid ECDSA public point');
      if (type.startsWith('sk-')) r.string(); // application
      return curve.bits;
    }
  }
}

/** Validates a public key (or certificate) blob in full and describes it. */
export function inspectBlob(blob: Buffer): KeyInfo {
  const r = new WireReader(blob, 'public key');
  const type = r.text();
  const baseType = baseKeyType(type);
  const label = LABELS[baseType];
  if (!label) throw new ParseError(`unknown key type ${JSON.stringify(type)}`);
  if (type === baseType) {
    const bits = readKeyFields(type, r);
    r.end();
    return { type, label, bits, baseType, isCert: false };
  }
  r.string(); // nonce
  const bits = readKeyFields(baseType, r);
  r.u64(); // serial
  r.u32(); // cert type
  r.string(); // key id
  r.string(); // principals
  r.u64(); // valid after
  r.u64(); // valid before
  r.string(); // critical options
  r.string(); // extensions
  r.string(); // reserved
  inspectBlob(r.string()); // signature key must itself be a valid plain key
  r.string(); // signature
  r.end();
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
 * Reads `type base64` at the start of `text` (after leading blanks), like OpenSSH's sshkey_read:
 * the type token must name the blob's own type. Returns the key, the offsets of the base64 text
 * (`dataStart`, `end`: that text is canonical, so it identifies the blob),
 * or null when `text` does not start with a known key type (so callers can try options or hosts first).
 * A known type followed by a bad blob is an error, not null.
 */
export function readKeyPrefix(text: string, from = 0): { key: PublicKey; end: number; dataStart: number } | null {
  let i = from;
  while (text[i] === ' ' || text[i] === '\t') i++;
  let j = i;
  while (j < text.length && text[j] !== ' ' && text[j] !== '\t') j++;
  const type = text.slice(i, j);
  if (!isKnownKeyType(type)) return null;
  while (text[j] === ' ' || text[j] === '\t') j++;
  let k = j;
  while (k < text.length && text[k] !== ' ' && text[k] !== '\t') k++;
  if (k === j) throw new ParseError(`missing key data after ${type}`);
  // b64_pton skips white space inside the data: a CRLF line's `\r` belongs to no comment
  const blob = decodeBase64Strict(text.slice(j, k), 'base64 key data');
  const key = keyFromBlob(blob);
  if (key.type !== type) throw new ParseError(`key type mismatch: line says ${type}, key is ${key.type}`);
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
  const type = r.text();
  const base = baseKeyType(type);
  if (base === type) return blob;
  r.string(); // nonce
  const start = blob.length - r.remaining;
  readKeyFields(base, r);
  const fields = blob.subarray(start, blob.length - r.remaining);
  return new WireWriter().string(base).raw(fields).toBuffer();
}

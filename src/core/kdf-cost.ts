/**
 * Caps on the work factor an encrypted private key file can demand before a passphrase is tried. The
 * file chooses its KDF cost (bcrypt rounds in openssh-key-v1, PROTOCOL.key; PBKDF2 iterations or
 * scrypt parameters in PKCS#8 PBES2, RFC 8018), and neither OpenSSH nor OpenSSL bounds it: a file
 * claiming 2^32 rounds hangs the reader for years. Deliberate difference from ssh-keygen: keys over
 * the caps are refused with a one-line error. ssh-keygen writes 16 rounds (`-a`) and OpenSSL 2048
 * iterations by default; the caps are far above any value people use.
 */
import { ParseError } from './errors.js';
import { WireReader } from './wire.js';

/** Most bcrypt_pbkdf rounds accepted (ssh-keygen -a; default 16, guides suggest up to 100). */
export const MAX_BCRYPT_ROUNDS = 1000;
/** Largest integer accepted in a PKCS#8 encryption AlgorithmIdentifier (PBKDF2 iterations, scrypt N). */
export const MAX_PKCS8_KDF_INTEGER = 10_000_000;

/** Checks an openssh-key-v1 `bcrypt` KDF options string (string salt, uint32 rounds) and returns the rounds. */
export function checkBcryptOptions(options: Buffer): number {
  const r = new WireReader(options, 'private key KDF options');
  r.string(); // salt
  const rounds = r.u32();
  r.end();
  if (rounds < 1) throw new ParseError('private key: bcrypt KDF with 0 rounds');
  if (rounds > MAX_BCRYPT_ROUNDS) throw new ParseError(`private key: bcrypt KDF with ${rounds} rounds (more than ${MAX_BCRYPT_ROUNDS} refused)`);
  return rounds;
}

/** One DER TLV at `off`: tag, value start and end. Throws ParseError on truncation or long lengths. */
function tlv(der: Buffer, off: number): { tag: number; start: number; end: number } {
  if (off + 2 > der.length) throw new ParseError('PKCS#8: truncated DER');
  const tag = der[off];
  let len = der[off + 1];
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > der.length) throw new ParseError('PKCS#8: bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
    start += n;
  }
  if (start + len > der.length) throw new ParseError('PKCS#8: truncated DER');
  return { tag, start, end: start + len };
}

/**
 * Refuses an EncryptedPrivateKeyInfo (RFC 5958 §3) whose encryption AlgorithmIdentifier holds an
 * integer above {@link MAX_PKCS8_KDF_INTEGER} (iteration counts, scrypt N): every integer in that
 * identifier is a cost or a key length. The walk is iterative and visits each byte once.
 */
export function checkPkcs8KdfCost(der: Buffer): void {
  const outer = tlv(der, 0);
  if (outer.tag !== 0x30) throw new ParseError('PKCS#8: not a DER SEQUENCE');
  const alg = tlv(der, outer.start);
  if (alg.tag !== 0x30) throw new ParseError('PKCS#8: no encryption algorithm');
  const stack: { end: number }[] = [{ end: alg.end }];
  let off = alg.start;
  while (stack.length > 0) {
    if (off >= stack[stack.length - 1].end) {
      off = stack.pop()!.end;
      continue;
    }
    const t = tlv(der, off);
    if (t.end > stack[stack.length - 1].end) throw new ParseError('PKCS#8: bad DER nesting');
    if (t.tag === 0x30) {
      stack.push({ end: t.end });
      off = t.start;
      continue;
    }
    if (t.tag === 0x02) {
      let v = 0;
      for (let i = t.start; i < t.end; i++) {
        v = v * 256 + der[i];
        if (v > MAX_PKCS8_KDF_INTEGER) throw new ParseError(`PKCS#8: key derivation cost above ${MAX_PKCS8_KDF_INTEGER} refused`);
      }
    }
    off = t.end;
  }
}

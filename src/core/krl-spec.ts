/**
 * ssh-keygen's KRL specification lines (ssh-keygen(1) "KEY REVOCATION LISTS"; ssh-keygen.c
 * update_krl_from_file), read into a {@link Krl}: `serial: N[-M]` and `id: KEYID` (both need a CA:
 * `-s CA.pub`, or `-s none` for any CA), `key: PUBKEY`, `sha1: PUBKEY`, `sha256: PUBKEY`,
 * `hash: SHA256:…`, or a bare public key or certificate (a plain key is revoked explicitly, a
 * certificate by serial under its own CA, or by key ID when its serial is 0). Keywords are
 * case-insensitive; `#` starts a comment anywhere on a line; blank lines are skipped. Every bad line
 * is an error naming its line, and nothing is written (ssh-keygen stops at it with fatal()).
 * Deliberate difference: serials take decimal, 0x-hex and 0-octal as strtoull(…, 0) does, but no sign
 * (strtoull would read `-1` as 2^64-1).
 */
import { createHash } from 'node:crypto';
import { decodeBase64Strict } from './base64.js';
import { ParseError } from './errors.js';
import { certificateAcceptedByCertParse, isCertificateBlob } from './certificate.js';
import { plainKeyBlob, readKeyPrefix } from './key.js';
import type { Krl, KrlCa } from './krl.js';

/** The CA that `serial:` and `id:` lines apply to: a plain CA key blob, `'any'` (`-s none`), or none given. */
export type SpecCa = Buffer | 'any' | undefined;

const U64_MAX = (1n << 64n) - 1n;

/** `serial: N` with N of at most 15 decimal digits (exact as a double), nothing else on the line. */
const QUICK_SERIAL = /serial:[ \t]*([0-9]{1,15})/iy;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/;

/** strtoull(text, &end, 0) for the digits at the start of `text`; null when there are none. */
function strtoull(text: string): { value: bigint; end: number } | null {
  const m = NUMBER.exec(text);
  if (!m) return null;
  const t = m[0];
  const value = t.length > 1 && t[0] === '0' && t[1] !== 'x' && t[1] !== 'X' ? BigInt('0o' + t.slice(1)) : BigInt(t);
  if (value > U64_MAX) throw new ParseError('serial out of range');
  return { value, end: t.length };
}

/** `N` or `N-M` (M > N) after `serial:`. */
function serialRange(text: string): [bigint, bigint] {
  const a = strtoull(text);
  if (!a || (a.end < text.length && text[a.end] !== '-')) throw new ParseError(`invalid serial "${text}"`);
  if (a.end === text.length) return [a.value, a.value];
  const rest = text.slice(a.end + 1);
  const b = strtoull(rest);
  if (!b || b.end !== rest.length) throw new ParseError(`invalid serial "${rest}"`);
  if (b.value <= a.value) throw new ParseError(`invalid serial range ${a.value}:${b.value}`);
  return [a.value, b.value];
}

/** `hash: SHA256:<base64, padding optional>` (ssh-keygen.c hash_to_blob): a 32-byte digest. */
function sha256Hash(text: string): Buffer {
  if (!text.startsWith('SHA256:')) throw new ParseError('unsupported hash algorithm');
  let b64 = text.slice(7);
  while (b64.length % 4) b64 += '=';
  const d = decodeBase64Strict(b64, 'hash');
  if (d.length !== 32) throw new ParseError(`hash of ${d.length} bytes, expected 32`);
  return d;
}

/** update_krl_from_file's line clean-up: leading blanks, `#`-comment, trailing blanks removed. */
function clean(line: string): string {
  let a = 0;
  while (a < line.length && (line[a] === ' ' || line[a] === '\t')) a++;
  let b = line.indexOf('#', a);
  if (b < 0) b = line.length;
  while (b > a && (line[b - 1] === ' ' || line[b - 1] === '\t')) b--;
  return a === 0 && b === line.length ? line : line.slice(a, b);
}

/** The rest of `cp` after a case-insensitive `word` (strncasecmp) and blanks; null when `cp` does not start with it. */
function keyword(cp: string, word: string): string | null {
  if (cp.length < word.length) return null;
  for (let i = 0; i < word.length; i++) {
    const c = cp.charCodeAt(i);
    const w = word.charCodeAt(i); // lower case
    if (c !== w && !(w >= 0x61 && w <= 0x7a && c === w - 0x20)) return null;
  }
  let j = word.length;
  while (cp[j] === ' ' || cp[j] === '\t') j++;
  return cp.slice(j);
}

function readKey(text: string): Buffer {
  const got = readKeyPrefix(text);
  if (!got) throw new ParseError('invalid key');
  // sshkey_read runs cert_parse: a certificate whose CA signature does not verify is no key at all
  if (isCertificateBlob(got.key.blob) && !certificateAcceptedByCertParse(got.key.blob)) throw new ParseError('invalid key: incorrect signature');
  return got.key.blob;
}

function caFor(krl: Krl, ca: SpecCa, what: string): KrlCa {
  if (ca === undefined) throw new ParseError(`revoking certificates by ${what} requires specification of a CA key`);
  return krl.ca(ca === 'any' ? null : ca);
}

/** One spec line into the KRL. */
function applyLine(krl: Krl, cp: string, ca: SpecCa): void {
  let rest: string | null;
  if ((rest = keyword(cp, 'serial:')) !== null) {
    const scope = caFor(krl, ca, 'serial number');
    const [lo, hi] = serialRange(rest);
    scope.serials.add(lo, hi);
  } else if ((rest = keyword(cp, 'id:')) !== null) {
    caFor(krl, ca, 'key ID').keyIds.add(rest); // latin1 text: the line's own bytes
  } else if ((rest = keyword(cp, 'hash:')) !== null) {
    krl.sha256.add(sha256Hash(rest).toString('latin1'));
  } else if ((rest = keyword(cp, 'key:')) !== null) {
    krl.keys.add(plainKeyBlob(readKey(rest)).toString('latin1'));
  } else if ((rest = keyword(cp, 'sha1:')) !== null) {
    krl.sha1.add(createHash('sha1').update(plainKeyBlob(readKey(rest))).digest().toString('latin1'));
  } else if ((rest = keyword(cp, 'sha256:')) !== null) {
    krl.sha256.add(createHash('sha256').update(plainKeyBlob(readKey(rest))).digest().toString('latin1'));
  } else {
    krl.revokeKey(readKey(cp));
  }
}

/**
 * Adds every line of a spec file (or a file of public keys/certificates) to the KRL. Throws a
 * ParseError carrying the line number at the first bad line (the caller then writes nothing).
 */
export function applyKrlSpec(krl: Krl, text: string, ca: SpecCa): void {
  // `text` is the file read as latin1, so a key ID keeps its exact bytes
  let serials: KrlCa | undefined;
  let lineNo = 0;
  for (let at = 0; at <= text.length; ) {
    lineNo++;
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    // fast path for the bulk of a big spec, `serial: N` with a small decimal N (same result as below),
    // matched in place so a million such lines make no line strings
    QUICK_SERIAL.lastIndex = at;
    const quick = ca !== undefined ? QUICK_SERIAL.exec(text) : null;
    if (quick && quick.index + quick[0].length === end && quick[1][0] !== '0') {
      const n = BigInt(Number(quick[1]));
      (serials ??= krl.ca(ca === 'any' ? null : ca!)).serials.add(n, n);
    } else {
      const cp = clean(text.slice(at, end));
      if (cp !== '') {
        try {
          applyLine(krl, cp, ca);
        } catch (err) {
          if (err instanceof ParseError && err.line === undefined) throw new ParseError(err.message, lineNo);
          throw err;
        }
      }
    }
    at = end + 1;
  }
}

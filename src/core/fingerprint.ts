/**
 * Fingerprints and randomart exactly as OpenSSH prints them (sshkey.c: sshkey_fingerprint,
 * fingerprint_randomart): SHA256 as unpadded base64, MD5 as colon-separated hex pairs, and the
 * "drunken bishop" picture over the raw digest.
 */
import * as crypto from 'node:crypto';
import { plainKeyBlob, type KeyInfo } from './key.js';

/** The digests ssh-keygen -E offers for fingerprints. */
export type FingerprintHash = 'sha256' | 'md5';

/** Node ≥ 20.12's one-shot crypto.hash (no Hash object per key), else createHash. */
const oneShot = (crypto as { hash?: (alg: string, data: Buffer, enc: 'buffer') => Buffer }).hash;

/**
 * The raw digest of a key blob (of the certified key, for a certificate, as OpenSSH). `info`, when the
 * caller has it (inspectBlob of this blob), saves reading the blob's type again for a plain key.
 */
export function digest(blob: Buffer, hash: FingerprintHash, info?: KeyInfo): Buffer {
  const plain = info && !info.isCert ? blob : plainKeyBlob(blob);
  return oneShot ? oneShot(hash, plain, 'buffer') : crypto.createHash(hash).update(plain).digest();
}

/** `SHA256:<base64 without padding>` or `MD5:aa:bb:…`, as ssh-keygen -l prints. */
export function fingerprint(blob: Buffer, hash: FingerprintHash = 'sha256', info?: KeyInfo): string {
  const d = digest(blob, hash, info);
  if (hash === 'md5') return 'MD5:' + d.toString('hex').replace(/(..)(?!$)/g, '$1:');
  // a SHA-256 digest is 32 bytes: its base64 always ends in one `=`
  return 'SHA256:' + d.toString('base64', 0, 32).slice(0, 43);
}

const FLDBASE = 8;
const FLDSIZE_Y = FLDBASE + 1;
const FLDSIZE_X = FLDBASE * 2 + 1;
const AUGMENT = ' .o+=*BOX@%&#/^SE';

/** C snprintf into a buffer of FLDSIZE_X bytes: at most FLDSIZE_X-1 characters survive. */
function title(info: KeyInfo): string {
  const full = `[${info.label} ${info.bits}]`;
  if (full.length > FLDSIZE_X) return `[${info.label}]`.slice(0, FLDSIZE_X - 1);
  return full.slice(0, FLDSIZE_X - 1);
}

function border(label: string): string {
  const left = Math.floor((FLDSIZE_X - label.length) / 2);
  return '+' + '-'.repeat(left) + label + '-'.repeat(FLDSIZE_X - left - label.length) + '+';
}

/**
 * The randomart picture (no trailing newline), byte-identical to `ssh-keygen -lv`.
 * `hash` names the digest in the lower border ([SHA256] or [MD5]).
 */
export function randomart(blob: Buffer, info: KeyInfo, hash: FingerprintHash = 'sha256'): string {
  const raw = digest(blob, hash, info);
  const len = AUGMENT.length - 1;
  const field: number[][] = Array.from({ length: FLDSIZE_X }, () => new Array<number>(FLDSIZE_Y).fill(0));
  let x = Math.floor(FLDSIZE_X / 2);
  let y = Math.floor(FLDSIZE_Y / 2);
  for (const byte of raw) {
    let input = byte;
    for (let b = 0; b < 4; b++) {
      x += input & 0x1 ? 1 : -1;
      y += input & 0x2 ? 1 : -1;
      x = Math.min(Math.max(x, 0), FLDSIZE_X - 1);
      y = Math.min(Math.max(y, 0), FLDSIZE_Y - 1);
      if (field[x][y] < len - 2) field[x][y]++;
      input >>= 2;
    }
  }
  field[Math.floor(FLDSIZE_X / 2)][Math.floor(FLDSIZE_Y / 2)] = len - 1;
  field[x][y] = len;
  const rows = [border(title(info))];
  for (let yy = 0; yy < FLDSIZE_Y; yy++) {
    let row = '|';
    for (let xx = 0; xx < FLDSIZE_X; xx++) row += AUGMENT[Math.min(field[xx][yy], len)];
    rows.push(row + '|');
  }
  rows.push(border(`[${hash.toUpperCase()}]`));
  return rows.join('\n');
}

/**
 * The code point of a well-formed UTF-8 sequence at `i` of a latin1 (byte) string and its length, or
 * null: overlong forms, surrogates and values past U+10FFFF are not well-formed.
 */
function utf8At(s: string, i: number): { cp: number; n: number } | null {
  const b = s.charCodeAt(i);
  const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > s.length) return null;
  let cp = b & (0xff >> (n + 1));
  for (let k = 1; k < n; k++) {
    const c = s.charCodeAt(i + k);
    if ((c & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (c & 0x3f);
  }
  const min = [0, 0, 0x80, 0x800, 0x10000][n];
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return { cp, n };
}

/** Text that {@link safeText} returns unchanged: printable ASCII, tab and CR only. */
const PRINTABLE = /^[\x20-\x7e\t\r]*$/;

/** Code points a terminal must not be handed raw: controls, unassigned, line/paragraph separators. */
const UNSAFE = /[\p{Cc}\p{Cs}\p{Cn}\p{Zl}\p{Zp}]/u;

/**
 * Makes a comment safe to print the way OpenSSH's mprintf does in a UTF-8 locale: printable ASCII, tab,
 * CR and well-formed printable UTF-8 pass; every other byte becomes `\ooo`. Input and output are latin1
 * byte strings.
 */
export function safeText(bytes: string): string {
  if (PRINTABLE.test(bytes)) return bytes;
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const c = bytes.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x09 || c === 0x0d) {
      out += bytes[i++];
      continue;
    }
    const u = c >= 0x80 ? utf8At(bytes, i) : null;
    if (u && !UNSAFE.test(String.fromCodePoint(u.cp))) {
      out += bytes.slice(i, i + u.n);
      i += u.n;
      continue;
    }
    const n = u ? u.n : 1;
    for (let k = 0; k < n; k++) out += '\\' + bytes.charCodeAt(i + k).toString(8).padStart(3, '0');
    i += n;
  }
  return out;
}

/**
 * `256 SHA256:… comment (ED25519)` — the line `ssh-keygen -l` prints (comment as latin1 bytes). As
 * fingerprint_one_key, only a missing comment (null) prints "no comment"; an empty one prints empty.
 */
export function fingerprintLine(blob: Buffer, info: KeyInfo, comment: string | null, hash: FingerprintHash = 'sha256'): string {
  return `${info.bits} ${fingerprint(blob, hash, info)} ${comment === null ? 'no comment' : safeText(comment)} (${info.label})`;
}

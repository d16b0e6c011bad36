/**
 * The hash of authorized_keys' compact index (authorized-keys.ts KeyIndex) and its fast path for the line
 * nearly every big file is made of, `ssh-ed25519 <68 base64 characters> [comment]`. The general path
 * (readKeyPrefix: strict base64, then inspectBlob) costs ≈ 3 µs a line in allocations; this one reads
 * the line's characters in place, ≈ 0.3 µs, so 100,000 keys index in tens of milliseconds (issue 14:
 * first login after start). It accepts exactly the lines the general path accepts as a plain ed25519
 * key with no options (sshkey_from_blob: the type string `ssh-ed25519`, one 32-byte string, nothing
 * after; 68 characters of the alphabet are 17 whole groups, so no padding and no slop bits); any other
 * line returns -1 and takes the general path (test/fuzz-authorized-index.test.ts proves the two agree).
 */

/** Seeded per process, so the lines of a file cannot be chosen to collide in every server's table. */
const SEED = (Math.random() * 0x100000000) >>> 0;
const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/**
 * Every ed25519 blob starts with string "ssh-ed25519" and the 32-byte key's length (00 00 00 20): its
 * first 18 bytes are 6 whole base64 groups, always this text; byte 18 (0x20) starts the 7th group.
 */
const PREFIX_TEXT = 'AAAAC3NzaC1lZDI1NTE5AAAA';
const PREFIX_BYTES = Buffer.from(PREFIX_TEXT, 'base64');
const KEY_LENGTH = 0x20;
const TYPE = 'ssh-ed25519';
const FIELD = 68; // base64 characters of a 51-byte blob

/** FNV-1a (32 bit) of `bytes`, from the state `h`. */
function fnv(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], FNV_PRIME);
  return h;
}

const PREFIX_HASH = fnv(PREFIX_BYTES, FNV_BASIS ^ SEED);

/** FNV-1a (32 bit, seeded) of a key blob: the index's hash; a hit is confirmed on the line's own blob. */
export function blobHash(blob: Uint8Array): number {
  return fnv(blob, FNV_BASIS ^ SEED) >>> 0;
}

/** The 6-bit value of a base64 character, -1 outside the alphabet. */
function sextet(c: number): number {
  return c < 128 ? VALUE[c] : -1;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * {@link blobHash} of the key of the line text[from, to) when it is a valid `ssh-ed25519 BASE64[ COMMENT]`
 * line (blanks before and between as readKeyPrefix skips them), else -1. Reads `text` in place (the
 * whole file's flat string: a per-line slice reads 5× slower) and allocates nothing.
 */
export function ed25519LineHash(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  if (!text.startsWith(TYPE, i)) return -1;
  i += TYPE.length;
  if (i >= to || !isBlank(text.charCodeAt(i))) return -1;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  const end = i + FIELD;
  if (end > to || (end < to && !isBlank(text.charCodeAt(end)))) return -1;
  if (!text.startsWith(PREFIX_TEXT, i)) return -1;
  let h = PREFIX_HASH;
  const first = i + PREFIX_TEXT.length;
  for (i = first; i < end; i += 4) {
    const a = sextet(text.charCodeAt(i));
    const b = sextet(text.charCodeAt(i + 1));
    const c = sextet(text.charCodeAt(i + 2));
    const d = sextet(text.charCodeAt(i + 3));
    if ((a | b | c | d) < 0) return -1;
    const group = (a << 18) | (b << 12) | (c << 6) | d;
    if (i === first && group >>> 16 !== KEY_LENGTH) return -1; // the 7th group: byte 18
    h = Math.imul(h ^ (group >>> 16), FNV_PRIME);
    h = Math.imul(h ^ ((group >>> 8) & 0xff), FNV_PRIME);
    h = Math.imul(h ^ (group & 0xff), FNV_PRIME);
  }
  return h >>> 0;
}

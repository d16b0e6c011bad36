/**
 * Certificate validity intervals as `ssh-keygen -s … -V` reads them (ssh-keygen.c parse_cert_times,
 * parse_relative_time, parse_hex_u64; misc.c convtime), so the same `-V` gives the same
 * `valid_after`/`valid_before` as ssh-keygen 9.2 at the same instant. Absolute times go through the one
 * parser of OpenSSH times, time.ts parseAbsoluteTime (local time unless `Z`/`UTC`, as misc.c).
 *
 * Forms: `+TIMESPEC` alone (from one minute ago, rounded down to the minute, to now + TIMESPEC);
 * otherwise `FROM:TO`, FROM one of `[+-]TIMESPEC`, `YYYYMMDD[HHMM[SS]][Z]`, `0x<hex seconds>`, `always`,
 * TO one of `[+-]TIMESPEC`, the same absolute forms, `0x…`, `forever`. As in ssh-keygen, `always` and
 * `forever` are only halves of `FROM:TO` (`-V forever` alone is refused).
 */
import { ParseError } from './errors.js';
import { parseAbsoluteTime } from './time.js';

/** valid_before of a certificate that never expires (PROTOCOL.certkeys). */
export const FOREVER = 0xffffffffffffffffn;

const INT_MAX = 2147483647;
const UNITS = new Map<string, number>([
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86400],
  ['w', 604800],
]);

/** glibc strtol's prefix: blanks, an optional sign, decimal digits. Returns [value, end] or null. */
function strtol(s: string, at: number): [bigint, number] | null {
  let i = at;
  while (i < s.length && (s[i] === ' ' || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const start = i;
  while (i < s.length && s[i] >= '0' && s[i] <= '9') i++;
  if (i === start) return null;
  const v = BigInt(s.slice(start, i));
  return [neg ? -v : v, i];
}

/**
 * misc.c convtime: a sequence of `NUMBER[smhdwSMHDW]` (no unit: seconds) summed, each part and the
 * total at most INT_MAX seconds. Returns -1 where convtime does.
 */
export function convtime(s: string): number {
  if (s === '') return -1;
  let total = 0n;
  let p = 0;
  while (p < s.length) {
    const got = strtol(s, p);
    if (!got || got[0] < 0n) return -1;
    let [secs, end] = got;
    let mul = 1;
    if (end < s.length) {
      const unit = UNITS.get(s[end].toLowerCase());
      if (unit === undefined) return -1;
      mul = unit;
      end++;
    }
    if (secs > BigInt(Math.floor(INT_MAX / mul))) return -1;
    secs *= BigInt(mul);
    if (total > BigInt(INT_MAX) - secs) return -1;
    total += secs;
    p = end;
  }
  return Number(total);
}

/** parse_relative_time: `+T` or `-T` from `now`. */
function relative(s: string, now: number): bigint {
  const secs = convtime(s.slice(1));
  if (secs === -1) throw new ParseError(`Invalid relative certificate time ${s}`);
  if (s[0] === '-' && secs > now) throw new ParseError(`Certificate time ${s} cannot be represented`);
  return BigInt(now + (s[0] === '-' ? -secs : secs));
}

/** parse_hex_u64: strtoull base 16 of the whole text (its own `0x` included), at most 2^64-1. */
function hex(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*\+?(?:0[xX])?([0-9a-fA-F]+)$/.exec(s);
  if (!m) throw new ParseError('Invalid certificate time: not a number');
  const v = BigInt('0x' + m[1]);
  if (v > FOREVER) throw new ParseError('Invalid certificate time: out of range');
  return v;
}

function absolute(s: string, which: 'from' | 'to'): bigint {
  try {
    return BigInt(parseAbsoluteTime(s));
  } catch {
    throw new ParseError(`Invalid ${which} time "${s}"`);
  }
}

/** A validity interval: seconds since the epoch, valid_after inclusive, valid_before exclusive. */
export interface Validity {
  readonly validAfter: bigint;
  readonly validBefore: bigint;
}

/**
 * Reads a `-V` argument as parse_cert_times does at the instant `now` (whole seconds). Errors are
 * ssh-keygen's messages as ParseErrors ("Invalid certificate life specification …", "Empty
 * certificate validity interval", …).
 */
export function parseValidity(spec: string, now: number): Validity {
  now = Math.floor(now);
  if (spec.startsWith('+') && !spec.includes(':')) {
    const secs = convtime(spec.slice(1));
    if (secs === -1) throw new ParseError(`Invalid relative certificate life ${spec}`);
    // backdated a minute (rounded to the minute) for hosts with poorly synchronised clocks
    return { validAfter: BigInt(Math.floor((now - 59) / 60) * 60), validBefore: BigInt(now + secs) };
  }
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) throw new ParseError(`Invalid certificate life specification ${spec}`);
  // strchr finds the first ':'; the rest (even with more colons) is the end time
  const from = spec.slice(0, colon);
  const to = spec.slice(colon + 1);
  let validAfter: bigint;
  if (from[0] === '-' || from[0] === '+') validAfter = relative(from, now);
  else if (from === 'always') validAfter = 0n;
  else if (from.startsWith('0x')) validAfter = hex(from);
  else validAfter = absolute(from, 'from');
  let validBefore: bigint;
  if (to[0] === '-' || to[0] === '+') validBefore = relative(to, now);
  else if (to === 'forever') validBefore = FOREVER;
  else if (to.startsWith('0x')) validBefore = hex(to);
  else validBefore = absolute(to, 'to');
  if (validBefore <= validAfter) throw new ParseError('Empty certificate validity interval');
  return { validAfter, validBefore };
}

/**
 * Certificate times as `ssh-keygen -L` prints them (sshkey.c sshkey_format_cert_validity; misc.c
 * format_absolute_time: localtime_r + strftime "%Y-%m-%dT%H:%M:%S"), for every uint64 a certificate may
 * hold: times past INT64_MAX are clamped to it (SSH_TIME_T_MAX), and glibc's __offtime is followed
 * step by step in BigInt, including what it leaves behind when the year does not fit an int (the
 * year truncated to 32 bits, month and day of the zeroed struct: `219250468-01-00T15:30:07` for
 * INT64_MAX in UTC; where the truncated year is negative, ssh-keygen's output comes from uninitialised
 * memory and is not reproduced). The local offset of far-future times is read 400-year cycles earlier, where the
 * Gregorian calendar (and so a time zone's recurring rule) repeats.
 */
import { FOREVER } from './validity.js';

const T_MAX = 0x7fffffffffffffffn;
const DAY = 86400n;
/** 400 Gregorian years in seconds: 146097 days. */
const CYCLE = 146097n * DAY;
/** JavaScript Dates reach ±8.64e15 ms. */
const JS_MAX = 8_640_000_000_000n;

const MON_YDAY = [
  [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365],
  [0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366],
];

const isLeap = (y: bigint) => y % 4n === 0n && (y % 100n !== 0n || y % 400n === 0n);
/** C's DIV rounding toward minus infinity, and LEAPS_THRU_END_OF. */
const div = (a: bigint, b: bigint) => a / b - (a % b < 0n ? 1n : 0n);
const leapsThru = (y: bigint) => div(y, 4n) - div(y, 100n) + div(y, 400n);

/** Seconds east of UTC of the local time zone at `t` (the TZ environment variable, as localtime_r). */
function localOffset(t: bigint): bigint {
  let at = t;
  if (at > JS_MAX) at -= ((at - JS_MAX) / CYCLE + 1n) * CYCLE;
  return BigInt(-new Date(Number(at) * 1000).getTimezoneOffset() * 60);
}

const pad = (v: bigint | number, w = 2) => String(v).padStart(w, '0');

/** format_absolute_time of a uint64 (see the module comment). */
export function formatCertTime(t: bigint): string {
  const tt = t > T_MAX ? T_MAX : t;
  // __offtime(tt, offset)
  let days = tt / DAY;
  let rem = (tt % DAY) + localOffset(tt);
  while (rem < 0n) {
    rem += DAY;
    days--;
  }
  while (rem >= DAY) {
    rem -= DAY;
    days++;
  }
  const hms = `${pad(rem / 3600n)}:${pad((rem % 3600n) / 60n)}:${pad(rem % 60n)}`;
  let y = 1970n;
  while (days < 0n || days >= (isLeap(y) ? 366n : 365n)) {
    const yg = y + days / 365n - (days % 365n < 0n ? 1n : 0n);
    days -= (yg - y) * 365n + leapsThru(yg - 1n) - leapsThru(y - 1n);
    y = yg;
  }
  const tmYear = BigInt.asIntN(32, y - 1900n);
  if (tmYear !== y - 1900n) return `${tmYear + 1900n}-01-00T${hms}`; // EOVERFLOW: month/day never set
  const table = MON_YDAY[isLeap(y) ? 1 : 0];
  let mon = 11;
  while (Number(days) < table[mon]) mon--;
  return `${pad(y, 4)}-${pad(mon + 1)}-${pad(Number(days) - table[mon] + 1)}T${hms}`;
}

/** sshkey_format_cert_validity: `forever`, `before T`, `after T` or `from T to T`. */
export function formatValidity(validAfter: bigint, validBefore: bigint): string {
  if (validAfter === 0n && validBefore === FOREVER) return 'forever';
  if (validAfter === 0n) return `before ${formatCertTime(validBefore)}`;
  if (validBefore === FOREVER) return `after ${formatCertTime(validAfter)}`;
  return `from ${formatCertTime(validAfter)} to ${formatCertTime(validBefore)}`;
}

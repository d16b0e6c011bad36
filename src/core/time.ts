/**
 * OpenSSH's absolute times (misc.c parse_absolute_time / format_absolute_time), one parser for every
 * place they appear: authorized_keys `expiry-time=`, allowed_signers `valid-after=`/`valid-before=`,
 * `--verify-time`.
 */
import { ParseError } from './errors.js';

/**
 * OpenSSH's parse_absolute_time (misc.c): YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, UTC with a trailing
 * `Z` or `UTC` (any case), local time otherwise. Out-of-range fields are refused; returns seconds.
 */
export function parseAbsoluteTime(text: string): number {
  let s = text;
  let utc = false;
  if (s.length > 1 && /z$/i.test(s)) {
    utc = true;
    s = s.slice(0, -1);
  } else if (s.length > 3 && /utc$/i.test(s)) {
    utc = true;
    s = s.slice(0, -3);
  }
  if (!/^\d+$/.test(s) || ![8, 12, 14].includes(s.length)) throw new ParseError(`invalid time ${JSON.stringify(text)}`);
  const n = (a: number, b: number) => Number(s.slice(a, b));
  const [y, mo, d, h, mi, se] = [n(0, 4), n(4, 6), n(6, 8), s.length > 8 ? n(8, 10) : 0, s.length > 8 ? n(10, 12) : 0, s.length > 12 ? n(12, 14) : 0];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 61) throw new ParseError(`invalid time ${JSON.stringify(text)}`);
  const ms = utc ? Date.UTC(y, mo - 1, d, h, mi, se) : new Date(y, mo - 1, d, h, mi, se).getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new ParseError(`invalid time ${JSON.stringify(text)}`);
  return Math.floor(ms / 1000);
}

/** OpenSSH's format_absolute_time: local `YYYY-MM-DDTHH:MM:SS`, as its messages print times. */
export function formatAbsoluteTime(secs: number): string {
  const t = new Date(secs * 1000);
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(t.getFullYear(), 4)}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

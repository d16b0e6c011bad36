/**
 * OpenSSH's absolute times (misc.c parse_absolute_time / format_absolute_time), one parser for every
 * place they appear: authorized_keys `expiry-time=`, allowed_signers `valid-after=`/`valid-before=`,
 * `--verify-time`. It accepts exactly what OpenSSH 9.2 on glibc accepts and yields the same instant.
 */
import { ParseError } from './errors.js';

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * glibc strptime's get_number(from, to, n): skips blanks, needs a digit, reads at most `n` digits while
 * `val * 10 <= to`, then checks the range. Returns the value and the new position, or null.
 */
function getNumber(buf: Buffer, pos: number, from: number, to: number, n: number): [number, number] | null {
  let rp = pos;
  while (rp < buf.length && isSpace(buf[rp])) rp++;
  if (!(buf[rp] >= 0x30 && buf[rp] <= 0x39)) return null;
  let val = 0;
  do {
    val = val * 10 + (buf[rp++] - 0x30);
  } while (--n > 0 && val * 10 <= to && buf[rp] >= 0x30 && buf[rp] <= 0x39);
  return val < from || val > to ? null : [val, rp];
}

/** One conversion of the formats parse_absolute_time builds: [separator before it, from, to, digits]. */
const FIELDS: ReadonlyArray<readonly [string, number, number, number]> = [
  ['', 0, 9999, 4], // %Y
  ['-', 1, 12, 2], // %m
  ['-', 1, 31, 2], // %d
  ['T', 0, 23, 2], // %H
  [':', 0, 59, 2], // %M
  [':', 0, 61, 2], // %S
];

/** The instant of broken-down fields as mktime with tm_isdst = 0 (standard time) or timegm does. */
function toSeconds(f: number[], utc: boolean): number {
  const d = new Date(0);
  d.setUTCFullYear(f[0], f[1] - 1, f[2]); // setUTCFullYear keeps years 0–99 as written (Date.UTC maps them to 19xx)
  d.setUTCHours(f[3], f[4], f[5], 0);
  let ms = d.getTime();
  if (!utc) {
    // memset(&tm, 0) leaves tm_isdst = 0: glibc mktime reads the fields as standard (winter) time.
    const y = new Date(ms).getUTCFullYear();
    const std = Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
    ms += std * 60_000;
  }
  return ms / 1000;
}

/**
 * OpenSSH's parse_absolute_time: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, UTC with a trailing `Z` or
 * `UTC` (any case), local time otherwise. As in misc.c the text is cut into `%.4s-%.2s-%.2s…` and read
 * by glibc strptime (so a field may start with blanks: `2020 101` is 2020-01-01), every byte must be
 * used, and an instant before 1970 is refused (years 0–99 are years 0–99, not 19xx). Returns seconds.
 */
export function parseAbsoluteTime(text: string): number {
  const fail = () => new ParseError(`invalid time ${JSON.stringify(text)}`);
  let s = Buffer.from(text, 'utf8');
  const nul = s.indexOf(0);
  if (nul >= 0) s = s.subarray(0, nul);
  let l = s.length;
  let utc = false;
  const tail = (n: number) => s.subarray(l - n, l).toString('latin1').toLowerCase();
  if (l > 1 && tail(1) === 'z') {
    utc = true;
    l--;
  } else if (l > 3 && tail(3) === 'utc') {
    utc = true;
    l -= 3;
  }
  const count = l === 8 ? 3 : l === 12 ? 5 : l === 14 ? 6 : 0;
  if (count === 0) throw fail();
  // snprintf("%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", s, s+4, …): the pieces are taken from the full string
  const widths = [4, 2, 2, 2, 2, 2];
  const pieces: Buffer[] = [];
  for (let k = 0, at = 0; k < count; at += widths[k], k++) {
    pieces.push(Buffer.from(FIELDS[k][0], 'latin1'), s.subarray(at, at + widths[k]));
  }
  const buf = Buffer.concat(pieces);
  const f = [0, 1, 1, 0, 0, 0];
  let rp = 0;
  for (let k = 0; k < count; k++) {
    const [sep, from, to, n] = FIELDS[k];
    if (sep) {
      if (buf[rp] !== sep.charCodeAt(0)) throw fail();
      rp++;
    }
    const got = getNumber(buf, rp, from, to, n);
    if (!got) throw fail();
    [f[k], rp] = got;
  }
  if (rp !== buf.length) throw fail();
  const secs = toSeconds(f, utc);
  if (!Number.isFinite(secs) || secs < 0) throw fail();
  return Math.floor(secs);
}

/** OpenSSH's format_absolute_time: local `YYYY-MM-DDTHH:MM:SS`, as its messages print times. */
export function formatAbsoluteTime(secs: number): string {
  const t = new Date(secs * 1000);
  const p = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${p(t.getFullYear(), 4)}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

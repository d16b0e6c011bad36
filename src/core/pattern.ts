/**
 * OpenSSH's pattern language (match.c 9.2: match_pattern, match_pattern_list, match_hostname): `*` and
 * `?` wildcards, comma-separated lists, `!` negation. One implementation serves known_hosts host patterns,
 * allowed_signers principals and namespaces, `principals=` and the host part of `from=`.
 *
 * Matching is on BYTES, as the C code does: a JS string stands for its UTF-8 bytes (pass a Buffer when
 * the text was read as latin1 bytes), `?` matches one byte, and every string ends at its first NUL (C
 * strings). Case folding is ASCII only (C-locale tolower), so U+212A KELVIN SIGN is not `k`. A
 * sub-pattern of 1023 bytes or more makes the whole list fail, as match_pattern_list's `char sub[1024]`.
 */

/** Text for the matcher: a string (its UTF-8 bytes) or bytes as read. */
export type MatchText = string | Uint8Array;

/** Longest sub-pattern match_pattern_list accepts: `sizeof(sub) - 1` bytes, and no more. */
export const MAX_SUBPATTERN = 1023;

/** The bytes C would see: UTF-8 for strings, cut at the first NUL. */
export function cBytes(t: MatchText): Uint8Array {
  const b = typeof t === 'string' ? Buffer.from(t, 'utf8') : t;
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/** ASCII-only lower case (C locale tolower), on a copy. */
export function asciiLower(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] |= 0x20;
  return out;
}

/**
 * match_pattern on bytes: `*` any run, `?` one byte. Same language as OpenSSH's recursive matcher, but
 * iterative with one backtrack point, so the cost is at most |s|·|pattern| whatever the input.
 */
function globBytes(s: Uint8Array, p: Uint8Array): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] === 0x2a) {
      starP = pi++;
      starS = si;
    } else if (pi < p.length && (p[pi] === 0x3f || p[pi] === s[si])) {
      si++;
      pi++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === 0x2a) pi++;
  return pi === p.length;
}

/** Does `s` match the wildcard pattern (match.c match_pattern: `*` any run, `?` one byte)? */
export function matchPattern(s: MatchText, pattern: MatchText): boolean {
  return globBytes(cBytes(s), cBytes(pattern));
}

/** Result of matching against a pattern list, as match_pattern_list: a negated hit beats any positive one. */
export type ListMatch = 'match' | 'negated' | 'none';

/**
 * match_pattern_list(string, pattern, dolower) exactly: sub-patterns split at commas (a trailing comma
 * adds no empty sub-pattern; `a,,b` and a lone `!` do try the empty one), `!` negates, a negated hit
 * returns 'negated' at once, a sub-pattern of 1023+ bytes returns 'none' at once. With `dolower` the
 * patterns are folded to ASCII lower case; the subject is not (see matchHostname).
 */
export function matchPatternListC(s: MatchText, list: MatchText, dolower = false): ListMatch {
  const subject = cBytes(s);
  const p = cBytes(list);
  let got: ListMatch = 'none';
  let i = 0;
  while (i < p.length) {
    let negated = false;
    if (p[i] === 0x21) {
      negated = true;
      i++;
    }
    const start = i;
    while (i < p.length && i - start < MAX_SUBPATTERN && p[i] !== 0x2c) i++;
    if (i - start >= MAX_SUBPATTERN) return 'none';
    let sub = p.subarray(start, i);
    if (i < p.length && p[i] === 0x2c) i++;
    if (dolower) sub = asciiLower(sub);
    if (globBytes(subject, sub)) {
      if (negated) return 'negated';
      got = 'match';
    }
  }
  return got;
}

/** match_hostname: the host folded to ASCII lower case, then match_pattern_list with folded patterns. */
export function matchHostname(host: MatchText, list: MatchText): ListMatch {
  return matchPatternListC(asciiLower(cBytes(host)), list, true);
}

/**
 * Matches `s` against a comma-separated pattern list (match_pattern_list with dolower 0: principals,
 * namespaces). With `foldCase`, host-name semantics (match_hostname: subject and patterns folded, ASCII).
 */
export function matchPatternList(s: MatchText, list: MatchText, foldCase = false): ListMatch {
  return foldCase ? matchHostname(s, list) : matchPatternListC(s, list, false);
}

/**
 * OpenSSH's pattern language (match.c): `*` and `?` wildcards, comma-separated lists, `!` negation.
 * One implementation serves known_hosts host patterns, allowed_signers principals, `principals=` and
 * the host part of `from=`.
 */

/** Does `s` match the wildcard pattern (`*` any run, `?` one character)? Iterative, no regex. */
export function matchPattern(s: string, pattern: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < pattern.length && (pattern[pi] === '?' || pattern[pi] === s[si])) {
      si++;
      pi++;
    } else if (pi < pattern.length && pattern[pi] === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (pi < pattern.length && pattern[pi] === '*') pi++;
  return pi === pattern.length;
}

/** Result of matching against a pattern list, as match_pattern_list: a negated hit beats any positive one. */
export type ListMatch = 'match' | 'negated' | 'none';

/**
 * Matches `s` against a comma-separated list of patterns. `!pattern` entries that match make the
 * whole result 'negated' (OpenSSH: -1), whatever else matched. With `foldCase`, compares lowercase
 * (host names are case-insensitive; principals are not).
 */
export function matchPatternList(s: string, list: string, foldCase = false): ListMatch {
  const subject = foldCase ? s.toLowerCase() : s;
  let got: ListMatch = 'none';
  for (const raw of list.split(',')) {
    let p = raw;
    let negated = false;
    if (p.startsWith('!')) {
      negated = true;
      p = p.slice(1);
    }
    if (foldCase) p = p.toLowerCase();
    if (matchPattern(subject, p)) {
      if (negated) return 'negated';
      got = 'match';
    }
  }
  return got;
}

/**
 * sshd's two helpers for a configured command line (AuthorizedKeysCommand, AuthorizedPrincipalsFile
 * paths): `argv_split()` (misc.c) turns the text into an argument vector without a shell, and
 * `percent_expand()` (misc.c) replaces `%x` tokens. Unlike sshd, which only notices an unknown token
 * when it expands it at login (and then `fatal()`s the connection), {@link checkTokens} lets the server
 * refuse such a command line when it starts.
 */
import { ParseError } from './errors.js';

/**
 * Splits `s` as OpenSSH 9.2's `argv_split(s, &ac, &av, 0)`: blanks (space, tab) separate arguments;
 * `'…'` and `"…"` quote (a quote may start or end mid-argument); a backslash escapes `'`, `"`, `\`
 * anywhere and a space outside quotes, and is kept literally before anything else. An unterminated
 * quote is an error ("contains invalid quotes").
 */
export function splitArgv(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    let quote = '';
    let arg = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') {
        const n = s[i + 1];
        if (n === "'" || n === '"' || n === '\\' || (quote === '' && n === ' ')) {
          i++;
          arg += n;
        } else arg += c;
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else arg += c;
    }
    if (quote !== '') throw new ParseError('contains invalid quotes (unterminated quote)');
    out.push(arg);
  }
  return out;
}

/** The token letters used in `s` (`%%` excluded); throws on a `%` at the very end, as percent_expand. */
export function tokensIn(s: string): Set<string> {
  const used = new Set<string>();
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') continue;
    const t = s[++i];
    if (t === undefined) throw new ParseError(`invalid format: "%" at the end of ${JSON.stringify(s)}`);
    if (t !== '%') used.add(t);
  }
  return used;
}

/** Throws unless every token of `s` is one of `allowed` (letters) — sshd's "unknown key %x", at start. */
export function checkTokens(s: string, allowed: string): Set<string> {
  const used = tokensIn(s);
  for (const t of used) {
    if (!allowed.includes(t)) throw new ParseError(`unknown token %${t} in ${JSON.stringify(s)} (allowed: ${[...allowed].map((a) => '%' + a).join(' ')} %%)`);
  }
  return used;
}

/**
 * `percent_expand(s, …)`: each `%x` becomes `values.get(x)`, `%%` a `%`. Expansion is one pass, so a
 * value containing `%` is never expanded again. An unknown token is an error (call
 * {@link checkTokens} first to report it at start).
 */
export function percentExpand(s: string, values: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const t = s[++i];
    if (t === undefined) throw new ParseError('invalid format: "%" at the end');
    if (t === '%') {
      out += '%';
      continue;
    }
    const v = values.get(t);
    if (v === undefined) throw new ParseError(`unknown token %${t}`);
    out += v;
  }
  return out;
}

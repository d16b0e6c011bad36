/**
 * sshd's AuthorizedPrincipalsFile format (sshd_config(5), sshd(8) AUTHORIZED_KEYS FILE FORMAT
 * "principals"), read as OpenSSH 9.2's `auth_process_principals()` / `auth_check_principals_line()`
 * (auth2-pubkeyfile.c) do: one principal a line, `#` starts a comment anywhere on the line, trailing
 * blanks are dropped; a line with inner blanks carries authorized_keys options before its last blank
 * (the options field is the leading one, parsed as in authorized_keys). The FIRST line naming one of the
 * certificate's principals decides, with its options; a line whose options do not parse is skipped
 * (and reported) and the search goes on.
 */
import { interpretOptions } from './authorized-keys.js';
import { eachLine, type LineError } from './lines.js';
import { leadingField, parseOptions } from './options.js';

/** The line that admitted a principal: its number, the principal and its options field as written. */
export interface PrincipalMatch {
  readonly line: number;
  readonly principal: string;
  /** The leading options field ('' for none), already checked to parse. */
  readonly options: string;
}

/** A principals line split as auth_check_principals_line does (after `#` and trailing blanks are cut). */
export function splitPrincipalsLine(raw: string): { principal: string; options: string } | null {
  let cp = raw.replace(/^[ \t]+/, '');
  const hash = cp.indexOf('#');
  if (hash >= 0) cp = cp.slice(0, hash);
  if (cp === '' || cp[0] === '\n') return null;
  let end = cp.length;
  while (end > 1 && (cp[end - 1] === '\n' || cp[end - 1] === ' ' || cp[end - 1] === '\t')) end--;
  cp = cp.slice(0, end);
  // strrchr(cp, ' '), and only when there is no space strrchr(cp, '\t'); then skip blanks forward
  let at = cp.lastIndexOf(' ');
  if (at < 0) at = cp.lastIndexOf('\t');
  if (at < 0) return { principal: cp, options: '' };
  let p = at;
  while (cp[p] === ' ' || cp[p] === '\t') p++;
  return { principal: cp.slice(p), options: leadingField(cp).text };
}

/**
 * Finds the first line of a principals file naming one of `certPrincipals` (exact, case-sensitive
 * comparison, as strcmp). Lines with bad options are returned in `errors` (with their numbers) and
 * never match.
 */
export function matchPrincipals(text: string, certPrincipals: readonly string[]): { match?: PrincipalMatch; errors: LineError[] } {
  let match: PrincipalMatch | undefined;
  const errors = eachLine(
    text,
    (raw, line) => {
      if (match) return; // sshd reads on to the end but decides on the first match
      const split = splitPrincipalsLine(raw);
      if (!split) return;
      if (split.options) interpretOptions(parseOptions(split.options)); // a ParseError marks the line bad
      if (certPrincipals.includes(split.principal)) match = { line, ...split };
    },
    true,
  );
  return { match, errors };
}

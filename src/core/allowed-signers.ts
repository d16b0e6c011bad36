/**
 * allowed_signers (ssh-keygen(1) "ALLOWED SIGNERS"): `principals [options] keytype base64 [comment]`
 * per line, and the decision "may this key sign as this principal in this namespace at this time",
 * made line by line as OpenSSH's sshsig.c check_allowed_keys_line does: the first line that grants
 * wins; a line that does not parse or does not grant is reported (`file:line: why`) and skipped.
 * Principals are a pattern list (`*`, `?`, `!` negation; case-sensitive) matched by pattern.ts.
 * Options: `cert-authority`, `namespaces="pattern-list"`, `valid-after="time"`, `valid-before="time"`,
 * split by options.ts (the sshd option grammar, shared with authorized_keys).
 */
import { formatAbsoluteTime, parseAbsoluteTime } from './time.js';
export { formatAbsoluteTime, parseAbsoluteTime } from './time.js';
import { ParseError } from './errors.js';
import { isCertificateBlob, checkCertificate, parseCertificate } from './certificate.js';
import { readKeyPrefix, type PublicKey } from './key.js';
import { leadingField, parseOptions } from './options.js';
import { matchPattern, matchPatternList } from './pattern.js';

/** Options of an allowed_signers line; times are seconds since the epoch. */
export interface SignerOptions {
  readonly certAuthority: boolean;
  readonly namespaces?: string;
  readonly validAfter?: number;
  readonly validBefore?: number;
}

/** One parsed allowed_signers line. */
export interface AllowedSigner {
  readonly line: number;
  /** The principals pattern list, as written (unquoted). */
  readonly principals: string;
  readonly options: SignerOptions;
  readonly key: PublicKey;
}

const DELIM = ' \t\r\n';

/**
 * The principals field, as OpenSSH's strdelimw (misc.c strdelim_internal): the token ends at the first
 * blank or double quote; a quote opens a quoted part that ends the token at its closing quote (so
 * `from="x",alice` is the token `from=x`, and `,alice` is what follows). Blanks after it are skipped.
 * Null for an unterminated quote, or for a lone token with no newline after it (ssh-keygen: "invalid line";
 * with its newline, the rest is empty and the line fails later, as "missing key", only if it matches).
 */
function principalsField(line: string, from: number, newline: boolean): { value: string; end: number } | null {
  let i = from;
  while (i < line.length && !DELIM.includes(line[i]) && line[i] !== '"') i++;
  let value = line.slice(from, i);
  let end = i;
  if (line[i] === '"') {
    const close = line.indexOf('"', i + 1);
    if (close < 0) return null;
    value += line.slice(i + 1, close);
    end = close + 1;
  } else if (i < line.length) end = i + 1;
  else if (!newline) return null;
  while (end < line.length && DELIM.includes(line[end])) end++;
  return { value, end };
}

/** allowed_signers options (sshsig.c sshsigopt_parse); a Map, so `constructor` is no option. */
const OPTION_FIELD = new Map<string, 'namespaces' | 'validAfter' | 'validBefore'>([
  ['namespaces', 'namespaces'],
  ['valid-after', 'validAfter'],
  ['valid-before', 'validBefore'],
]);

/** A principal or namespace asked for (Unicode text: its UTF-8 bytes) against latin1 file text (bytes). */
const asked = (s: string) => Buffer.from(s, 'utf8');
const written = (s: string) => Buffer.from(s, 'latin1');

function signerOptions(field: string | undefined): SignerOptions {
  const opts: { certAuthority: boolean; namespaces?: string; validAfter?: number; validBefore?: number } = { certAuthority: false };
  if (field === undefined) return opts;
  for (const o of parseOptions(field)) {
    if (o.name === 'cert-authority') {
      if (o.value !== undefined) throw new ParseError('bad options: cert-authority takes no value');
      opts.certAuthority = true;
      continue;
    }
    const key = OPTION_FIELD.get(o.name);
    if (key === undefined) throw new ParseError(`bad options: unknown key option ${JSON.stringify(o.name)}`);
    if (o.value === undefined) throw new ParseError(`bad options: ${o.name} needs a value`);
    if (opts[key] !== undefined) throw new ParseError(`bad options: multiple "${o.name}" clauses`);
    if (key === 'namespaces') opts.namespaces = o.value;
    else {
      let t: number;
      try {
        t = parseAbsoluteTime(o.value);
      } catch {
        throw new ParseError(`bad options: invalid "${o.name}" time`);
      }
      if (t === 0) throw new ParseError(`bad options: invalid "${o.name}" time`);
      if (key === 'validAfter') opts.validAfter = t;
      else opts.validBefore = t;
    }
  }
  return opts;
}

/**
 * Parses one line. Returns null for blank and `#` lines, and (when `principal` is given) for lines whose
 * principals do not match it — those are skipped before their key is parsed, as OpenSSH does.
 */
export function parseAllowedSignersLine(text: string, lineNo: number, principal?: string): AllowedSigner | null {
  const newline = text.endsWith('\n');
  const line = text.replace(/[\r\n]+$/, '');
  let i = 0;
  while (line[i] === ' ' || line[i] === '\t') i++;
  if (i === line.length || line[i] === '#') return null;
  const pf = principalsField(line, i, newline);
  if (!pf) throw new ParseError('invalid line', lineNo);
  const pos = pf.end;
  if (principal !== undefined && matchPatternList(asked(principal), written(pf.value)) !== 'match') return null;
  try {
    let got = readKeyPrefix(line, pos);
    let optField: string | undefined;
    if (!got) {
      const field = leadingField(line, pos);
      optField = field.text;
      let k = field.end;
      while (line[k] === ' ' || line[k] === '\t') k++;
      if (k >= line.length) throw new ParseError('missing key');
      got = readKeyPrefix(line, k);
      if (!got) throw new ParseError('invalid key');
    }
    return { line: lineNo, principals: pf.value, options: signerOptions(optField), key: got.key };
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(err.message, lineNo);
    throw err;
  }
}

/**
 * Who asks: the signer's key (or certificate) blob, and optionally principal, namespace; `now` in seconds.
 * Principal and namespace are Unicode text (as from the command line) and match as their UTF-8 bytes
 * against the file's bytes, as ssh-keygen compares them.
 */
export interface SignerQuery {
  readonly key: Buffer;
  readonly principal?: string;
  readonly namespace?: string;
  readonly now: number;
}

/** A grant: the line and the principals it allows (the written list, or a certificate's matching principals). */
export interface Grant {
  readonly line: number;
  readonly principals: string[];
  readonly signer: AllowedSigner;
}

/** The decision over a whole file: a grant, or the reasons each considered line gave (`LINE: why`). */
export type SignersResult = { ok: true; grant: Grant } | { ok: false; reasons: { line: number; reason: string }[] };

/** Checks one parsed line against a query (check_allowed_keys_line); a string is why it does not grant. */
function checkLine(s: AllowedSigner, q: SignerQuery): string[] | string | null {
  let principals: string[];
  if (!s.options.certAuthority && s.key.blob.equals(q.key)) {
    principals = s.principals.split(',');
  } else if (s.options.certAuthority && isCertificateBlob(q.key)) {
    const cert = parseCertificate(q.key);
    if (!cert.signatureKey.equals(s.key.blob)) return null;
    const base = { now: q.now, type: 'user' as const, criticalOptions: 'ignore' as const };
    if (q.principal !== undefined) {
      const c = checkCertificate(cert, { ...base, principal: q.principal });
      if (!c.ok) return `certificate not authorized: ${c.reason}`;
      principals = [q.principal];
    } else {
      // cert_filter_principals: the certificate's principals that match a pattern of the line
      principals = [];
      if (checkCertificate(cert, base).ok) {
        for (const p of s.principals.split(',')) {
          if (p === '') break;
          for (const cp of cert.principals) if (matchPattern(asked(cp), written(p))) principals.push(cp);
        }
      }
      if (principals.length === 0) return 'no valid principals found';
    }
  } else {
    return null;
  }
  const o = s.options;
  if (o.namespaces !== undefined && q.namespace !== undefined && matchPatternList(asked(q.namespace), written(o.namespaces)) !== 'match') {
    return `key is not permitted for use in signature namespace "${q.namespace}"`;
  }
  if (o.validAfter !== undefined && q.now < o.validAfter) {
    return `key is not yet valid: verify time ${formatAbsoluteTime(q.now)} < valid-after ${formatAbsoluteTime(o.validAfter)}`;
  }
  if (o.validBefore !== undefined && q.now > o.validBefore) {
    return `key has expired: verify time ${formatAbsoluteTime(q.now)} > valid-before ${formatAbsoluteTime(o.validBefore)}`;
  }
  return principals;
}

/**
 * Decides a query against an allowed_signers text — the file's bytes as a latin1 string, as the commands
 * read it — (sshsig_check_allowed_keys / sshsig_find_principals):
 * lines are tried in order, the first that grants wins. Bad lines and refusals are collected as reasons.
 * With no principal this answers find-principals (namespace then usually omitted, as ssh-keygen does).
 */
export function checkAllowedSigners(text: string, q: SignerQuery): SignersResult {
  const reasons: { line: number; reason: string }[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let s: AllowedSigner | null;
    try {
      s = parseAllowedSignersLine(n < lines.length - 1 ? lines[n] + '\n' : lines[n], n + 1, q.principal);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      reasons.push({ line: n + 1, reason: err.message });
      continue;
    }
    if (!s) continue;
    let got: string[] | string | null;
    try {
      got = checkLine(s, q);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      got = err.message;
    }
    if (got === null) continue;
    if (typeof got === 'string') reasons.push({ line: n + 1, reason: got });
    else return { ok: true, grant: { line: n + 1, principals: got, signer: s } };
  }
  return { ok: false, reasons };
}

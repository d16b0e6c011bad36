/**
 * "Every key in a file", the way `ssh-keygen -l -f` reads one: a private key (its public part), an
 * RFC 4716 or PEM public key, or lines of public keys, authorized_keys (options), known_hosts (host
 * patterns, markers) or allowed_signers (principals, options). Text is handled as latin1 so that every
 * byte survives to the output exactly (ssh-keygen prints comments as bytes, escaping only unsafe ones).
 */
import { ParseError } from './errors.js';
import { decodeBase64Strict } from './base64.js';
import { keyFromBlob, readKeyPrefix, type KeyInfo, type PublicKey } from './key.js';
import { eachLine, type LineError } from './lines.js';
import { leadingField, parseOptions } from './options.js';
import { isPrivateKeyText } from './private-key.js';

/**
 * A key found at a line of a file; `comment` is what ssh-keygen -l would show (latin1 bytes), null
 * where it has none and prints "no comment" (an empty string is printed as it is).
 */
export interface FoundKey {
  readonly line: number;
  readonly key: PublicKey;
  readonly comment: string | null;
  /**
   * Leading fields before the key: 0 (a bare key), 1 (options or host patterns, as ssh-keygen -l
   * skips), 2 (`@marker hosts` or allowed_signers `principals options`, which ssh-keygen -l does not
   * read: a deliberate superset, SPEC "every key in it gets one line").
   */
  readonly fields?: number;
  /** The key's description, when the reader validated the blob already (so it is not parsed twice). */
  readonly info?: KeyInfo;
}

/** allowed_signers options (ssh-keygen(1) ALLOWED SIGNERS), the only second leading field read besides `@marker hosts`. */
const SIGNER_OPTIONS: ReadonlySet<string> = new Set(['cert-authority', 'namespaces', 'valid-after', 'valid-before']);

function signerOptions(field: string): boolean {
  try {
    return parseOptions(field).every((o) => SIGNER_OPTIONS.has(o.name));
  } catch {
    return false;
  }
}

/** The keys found in a file and the lines that could not be read. */
export interface ScanResult {
  readonly keys: FoundKey[];
  readonly errors: LineError[];
}

/** What kind of text this is, judged by its first non-blank line (ssh-keygen looks at line 1). */
export function classify(text: string): 'private' | 'rfc4716' | 'pem-public' | 'lines' {
  const first = /^[ \t\r\n]*([^\r\n]*)/.exec(text)?.[1] ?? '';
  if (first.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) return 'rfc4716';
  if (/^-----BEGIN (RSA )?PUBLIC KEY-----/.test(first)) return 'pem-public';
  if (first.includes('PRIVATE KEY') && isPrivateKeyText(text)) return 'private';
  return 'lines';
}

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/**
 * ssh-keygen -l's test for an SSH1 `bits e n` line (do_fingerprint): `i = strtol(cp, &ep, 10)` is
 * non-zero and followed by a blank, so the field is not skipped as options/hosts (and the line is no
 * key). strtol skips leading white space and saturates at the 64-bit limits; `i` is an int, the low
 * 32 bits — so `4294967296` counts as 0 and is skipped like any options field.
 */
function ssh1Number(line: string): boolean {
  let from = 0;
  while (line[from] === ' ' || line[from] === '\t') from++;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(line.slice(from));
  if (!m) return false;
  const next = line[from + m[0].length];
  if (next !== ' ' && next !== '\t') return false;
  const digits = m[2].replace(/^0+/, '');
  const mag = digits.length > 19 ? 2n ** 64n : BigInt(digits || '0');
  const v = m[1] === '-' ? (-mag < LONG_MIN ? LONG_MIN : -mag) : mag > LONG_MAX ? LONG_MAX : mag;
  return BigInt.asIntN(32, v) !== 0n;
}

/** Reads one key line in any of the line formats; the comment follows ssh-keygen -l's rules. */
export function scanKeyLine(line: string, lineNo: number): FoundKey {
  let got = readKeyPrefix(line);
  let lead = '';
  let fields = 0;
  if (!got) {
    const first = leadingField(line);
    lead = first.text;
    fields = 1;
    if (ssh1Number(line)) throw new ParseError('not a public key (SSH1 key?)', lineNo);
    got = readKeyPrefix(line, first.end);
    if (!got && first.end < line.length) {
      // a second leading field: `@marker hosts key` (known_hosts) or `principals options key`
      // (allowed_signers); nothing else, so a blank inside options never makes a line readable
      const second = leadingField(line, first.end);
      if (lead.startsWith('@') || signerOptions(second.text)) got = readKeyPrefix(line, second.end);
      if (got && lead.startsWith('@')) lead = second.text;
      fields = 2;
    }
    if (!got) throw new ParseError('not a public key', lineNo);
  }
  let rest = got.end;
  while (line[rest] === ' ' || line[rest] === '\t') rest++;
  const trailing = line.slice(rest);
  // as ssh-keygen -l: a trailing `#…` is no comment; then the leading field (options, hosts) stands in
  return { line: lineNo, key: got.key, comment: trailing !== '' && trailing[0] !== '#' ? trailing : lead || null, fields, info: got.info };
}

/** One line of line-oriented key text as {@link scanKeyLines} reads it (binary data refused first). */
export function scanTextLine(line: string, lineNo: number): FoundKey {
  if (line.includes('\0')) throw new ParseError('binary data', lineNo);
  return scanKeyLine(line, lineNo);
}

/** Scans line-oriented key text; blank lines and `#` comments are skipped, bad lines reported. */
export function scanKeyLines(text: string): ScanResult {
  const keys: FoundKey[] = [];
  const errors = eachLine(text, (line, n) => keys.push(scanTextLine(line, n)), true);
  return { keys, errors };
}

/** RFC 4716 "SSH2 PUBLIC KEY" blocks: headers (Comment: may be quoted, `\` continues a line) + base64. */
export function parseRfc4716(text: string): ScanResult {
  const keys: FoundKey[] = [];
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    if (lines[i].trim() === '') {
      i++;
      continue;
    }
    const start = i + 1;
    if (lines[i].trim() !== '---- BEGIN SSH2 PUBLIC KEY ----') throw new ParseError('expected ---- BEGIN SSH2 PUBLIC KEY ----', i + 1);
    i++;
    let comment = '';
    let body = '';
    let ended = false;
    while (i < lines.length) {
      let l = lines[i++];
      if (l.trim() === '---- END SSH2 PUBLIC KEY ----') {
        ended = true;
        break;
      }
      if (body === '' && /^[A-Za-z0-9-]{1,64}:/.test(l)) {
        // a header continues while its line ends in `\`: collect the pieces and join once (re-slicing
        // the growing value per line was quadratic, 1 MB of continuations never finished)
        const parts: string[] = [];
        while (l.endsWith('\\') && i < lines.length) {
          parts.push(l.slice(0, -1));
          l = lines[i++];
        }
        parts.push(l);
        const header = parts.join('');
        const colon = header.indexOf(':');
        if (header.slice(0, colon).toLowerCase() === 'comment') comment = header.slice(colon + 1).trim().replace(/^"(.*)"$/s, '$1');
        continue;
      }
      body += l.trim();
    }
    if (!ended) throw new ParseError('missing ---- END SSH2 PUBLIC KEY ----', start);
    const blob = decodeBase64Strict(body, 'base64 key data');
    keys.push({ line: start, key: keyFromBlob(blob, comment), comment: comment || null });
  }
  return { keys, errors: [] };
}

/**
 * OpenSSH's one rule for private key files (authfile.c `sshkey_perm_ok`, used by ssh, sshd and
 * ssh-keygen alike): a file owned by the user reading it must have none of the 077 mode bits, else the
 * tools call it an "UNPROTECTED PRIVATE KEY FILE" and do not use it. A file of another owner passes
 * (as there). Each caller words the refusal as its OpenSSH counterpart does.
 */
export function keyFileTooOpen(st: { uid: number; mode: number }, uid: number | undefined): boolean {
  return uid !== undefined && st.uid === uid && (st.mode & 0o077) !== 0;
}

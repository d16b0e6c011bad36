/**
 * "Every key in a file", the way `ssh-keygen -l -f` reads one: a private key (its public part), an
 * RFC 4716 or PEM public key, or lines of public keys, authorized_keys (options), known_hosts (host
 * patterns, markers) or allowed_signers (principals, options). Text is handled as latin1 so that every
 * byte survives to the output exactly (ssh-keygen prints comments as bytes, escaping only unsafe ones).
 */
import { ParseError } from './errors.js';
import { decodeBase64Strict } from './base64.js';
import { keyFromBlob, readKeyPrefix, type PublicKey } from './key.js';
import { eachLine, type LineError } from './lines.js';
import { leadingField } from './options.js';
import { isPrivateKeyText } from './private-key.js';

/**
 * A key found at a line of a file; `comment` is what ssh-keygen -l would show (latin1 bytes), null
 * where it has none and prints "no comment" (an empty string is printed as it is).
 */
export interface FoundKey {
  readonly line: number;
  readonly key: PublicKey;
  readonly comment: string | null;
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

/** Reads one key line in any of the line formats; the comment follows ssh-keygen -l's rules. */
export function scanKeyLine(line: string, lineNo: number): FoundKey {
  let got = readKeyPrefix(line);
  let lead = '';
  if (!got) {
    const first = leadingField(line);
    lead = first.text;
    // ssh-keygen's test for an SSH1 `bits e n` key: a leading number is never skipped as options/hosts
    if (/^[+-]?\d+$/.test(lead) && Number(lead) !== 0) throw new ParseError('not a public key (SSH1 key?)', lineNo);
    got = readKeyPrefix(line, first.end);
    if (!got && first.end < line.length) {
      // a second leading field: `@marker hosts key` (known_hosts) or `principals options key` (allowed_signers)
      const second = leadingField(line, first.end);
      got = readKeyPrefix(line, second.end);
      if (got && lead.startsWith('@')) lead = second.text;
    }
    if (!got) throw new ParseError('not a public key', lineNo);
  }
  let rest = got.end;
  while (line[rest] === ' ' || line[rest] === '\t') rest++;
  const trailing = line.slice(rest);
  // as ssh-keygen -l: a trailing `#…` is no comment; then the leading field (options, hosts) stands in
  return { line: lineNo, key: got.key, comment: trailing !== '' && trailing[0] !== '#' ? trailing : lead || null };
}

/** Scans line-oriented key text; blank lines and `#` comments are skipped, bad lines reported. */
export function scanKeyLines(text: string): ScanResult {
  const keys: FoundKey[] = [];
  const errors = eachLine(
    text,
    (line, n) => {
      if (line.includes('\0')) throw new ParseError('binary data', n);
      keys.push(scanKeyLine(line, n));
    },
    true,
  );
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

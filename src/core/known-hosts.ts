/**
 * known_hosts (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): `[@marker] hostpatterns keytype base64 [comment]`.
 * Host patterns are comma lists with wildcards and `!` negation, `[host]:port` for non-22 ports, or a
 * hashed `|1|salt|hmac` entry (HMAC-SHA1 of the host name keyed by the salt). Markers: @cert-authority,
 * @revoked. Host patterns match as ssh's match_hostname: bytes, ASCII-only case folding.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ParseError } from './errors.js';
import { decodeBase64, readKeyPrefix, type PublicKey } from './key.js';
import { eachLine } from './lines.js';
import { matchHostname } from './pattern.js';

/** A known_hosts line marker (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT), or null for a plain entry. */
export type HostMarker = 'cert-authority' | 'revoked' | null;

/** One known_hosts entry. */
export interface KnownHost {
  readonly marker: HostMarker;
  /** The host-patterns field as written (hashed or plain). */
  readonly hosts: string;
  readonly key: PublicKey;
  readonly line: number;
}

/** The name known_hosts uses for a host and port: `host` on 22, `[host]:port` otherwise. */
export function hostName(host: string, port = 22): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * The next blank-delimited field (hostfile.c hostkeys_foreach_file: `*cp2 != ' ' && *cp2 != '\t'`):
 * host patterns are not quoted, so a `"` is an ordinary pattern byte.
 */
function blankField(line: string, from = 0): { text: string; end: number } {
  let start = from;
  while (line[start] === ' ' || line[start] === '\t') start++;
  let end = start;
  while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end++;
  return { text: line.slice(start, end), end };
}

/** Parses one non-blank, non-comment known_hosts line. */
export function parseKnownHostsLine(line: string, lineNo = 0): KnownHost {
  try {
    let field = blankField(line);
    let marker: HostMarker = null;
    if (field.text.startsWith('@')) {
      const m = field.text.slice(1);
      if (m !== 'cert-authority' && m !== 'revoked') throw new ParseError(`unknown marker @${m}`);
      marker = m;
      field = blankField(line, field.end);
    }
    const hosts = field.text;
    if (!hosts) throw new ParseError('missing host patterns');
    const got = readKeyPrefix(line, field.end);
    if (!got) throw new ParseError('no key found after host patterns');
    if (hosts.startsWith('|')) parseHashed(hosts);
    const comment = line.slice(got.end).replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
    return { marker, hosts, key: { ...got.key, comment }, line: lineNo };
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(err.message, lineNo);
    throw err;
  }
}

function parseHashed(field: string): { salt: Buffer; hash: Buffer } {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') throw new ParseError('invalid hashed host entry');
  const salt = decodeBase64(parts[2], 'hashed host salt');
  const hash = decodeBase64(parts[3], 'hashed host hash');
  if (salt.length !== 20 || hash.length !== 20) throw new ParseError('invalid hashed host entry');
  return { salt, hash };
}

/** `|1|salt|hmac` for a host name, as `ssh-keygen -H` writes (salt: 20 random bytes). */
export function hashHostName(name: string, salt: Buffer): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}

/** Does the entry's host field name this host (already in `hostName` form)? Negations win. */
export function hostMatches(entry: KnownHost, name: string): boolean {
  if (entry.hosts.startsWith('|')) {
    const { salt, hash } = parseHashed(entry.hosts);
    return timingSafeEqual(createHmac('sha1', salt).update(name).digest(), hash);
  }
  return matchHostname(name, entry.hosts) === 'match';
}

/** A parsed known_hosts file: entries and the lines it skipped. */
export interface KnownHostsFile {
  readonly entries: KnownHost[];
  readonly errors: { line: number; message: string }[];
}

/** Parses a whole known_hosts text; a bad line is reported with its number and skipped. */
export function parseKnownHosts(text: string): KnownHostsFile {
  const entries: KnownHost[] = [];
  const errors = eachLine(text, (line, n) => entries.push(parseKnownHostsLine(line, n)));
  return { entries, errors };
}

/** The verdict on a host key, as ssh(1)'s check_host_key: revoked beats everything, then a match. */
export type HostKeyVerdict =
  | { status: 'ok'; entry: KnownHost }
  | { status: 'revoked'; entry: KnownHost }
  | { status: 'changed'; entries: KnownHost[] }
  | { status: 'unknown' };

/**
 * Checks `key` for host `host` on `port`. Plain keys only; certificate host keys are checked against
 * @cert-authority entries by the caller. Keys compare by blob. Any other plain key listed for the
 * host, of whatever type, makes it `changed`, not `unknown` (hostfile.c check_hostkeys_by_key_or_type:
 * "A non-matching key exists"), so a server offering only a type we do not know yet is refused, not
 * accepted as new (verified against ssh 9.2 and an ECDSA-only sshd: "REMOTE HOST IDENTIFICATION HAS
 * CHANGED").
 */
export function checkHostKey(file: KnownHostsFile, host: string, port: number, key: PublicKey): HostKeyVerdict {
  const name = hostName(host, port);
  const forHost = file.entries.filter((e) => hostMatches(e, name));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.blob.equals(key.blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = forHost.filter((e) => e.marker === null);
  const same = plain.find((e) => e.key.blob.equals(key.blob));
  if (same) return { status: 'ok', entry: same };
  if (plain.length > 0) return { status: 'changed', entries: plain };
  return { status: 'unknown' };
}

/**
 * Client-address matching for authorized_keys `from="…"` (sshd(8) AUTHORIZED_KEYS FILE FORMAT; OpenSSH
 * match.c match_host_and_ip + addrmatch.c addr_match_list): a comma-separated list of host-name or
 * address wildcard patterns and CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`), each optionally negated
 * with `!`. A negated hit refuses whatever else matched. Addresses are compared as bytes, so
 * `::ffff:10.1.2.3` (how Node reports IPv4 on a dual-stack socket) counts as `10.1.2.3`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ParseError } from './errors.js';
import { matchPattern, type ListMatch } from './pattern.js';

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address as bytes; IPv4-mapped IPv6 becomes IPv4. */
export function parseAddress(text: string): Buffer | null {
  const s = text.replace(/%.*$/, ''); // zone id
  if (isIPv4(s)) return Buffer.from(s.split('.').map(Number));
  if (!isIPv6(s)) return null;
  let head = s;
  let v4tail: Buffer | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    v4tail = parseAddress(s.slice(lastColon + 1));
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const lw = left ? left.split(':') : [];
  const rw = right === undefined ? [] : right ? right.split(':') : [];
  const fill = right === undefined ? 0 : 8 - lw.length - rw.length;
  const words = [...lw, ...new Array<string>(fill).fill('0'), ...rw];
  if (words.length !== 8) return null;
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  if (v4tail) v4tail.copy(out, 12);
  const mapped = out.subarray(0, 10).every((b) => b === 0) && out[10] === 0xff && out[11] === 0xff;
  return mapped ? Buffer.from(out.subarray(12)) : out;
}

/** Does `addr` lie in the CIDR block `cidr` (`a.b.c.d/n`, `x::/n`)? Throws ParseError on a bad block. */
export function inCidr(addr: Buffer, cidr: string): boolean {
  const slash = cidr.indexOf('/');
  const net = parseAddress(slash < 0 ? cidr : cidr.slice(0, slash));
  const bitsText = slash < 0 ? '' : cidr.slice(slash + 1);
  if (!net || (slash >= 0 && !/^\d{1,3}$/.test(bitsText))) throw new ParseError(`invalid address block ${JSON.stringify(cidr)}`);
  const bits = slash < 0 ? net.length * 8 : Number(bitsText);
  if (bits > net.length * 8) throw new ParseError(`invalid prefix length in ${JSON.stringify(cidr)}`);
  // addrmatch.c refuses a block with host bits set (10.1.2.3/8): it is almost certainly a typo.
  for (let i = 0; i < net.length * 8; i++) {
    if (i >= bits && net[i >> 3] & (0x80 >> (i & 7))) throw new ParseError(`address block ${JSON.stringify(cidr)} has host bits set`);
  }
  if (addr.length !== net.length) return false;
  for (let i = 0; i < bits; i++) {
    const m = 0x80 >> (i & 7);
    if ((addr[i >> 3] & m) !== (net[i >> 3] & m)) return false;
  }
  return true;
}

/** The address as sshd prints it: dotted IPv4 for mapped addresses, else as given. */
export function canonicalAddress(text: string): string {
  const b = parseAddress(text);
  return b && b.length === 4 ? [...b].join('.') : text;
}

/**
 * Matches a client against a `from=` list. `host` is the client's name if known (sshkit does no reverse
 * lookups, like sshd with `UseDNS no`, so callers pass the address). Entries with `/` are CIDR blocks;
 * others are wildcard patterns tried on the host name (case-insensitively) and on the address.
 * Returns 'negated' if a `!` entry matched, 'match' if a positive one did, else 'none'.
 */
export function matchFromList(list: string, address: string, host = address): ListMatch {
  const ip = canonicalAddress(address);
  const bytes = parseAddress(ip);
  let got: ListMatch = 'none';
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const p = negated ? raw.slice(1) : raw;
    if (p === '') throw new ParseError('empty entry in from= list');
    let hit: boolean;
    if (p.includes('/')) hit = bytes !== null && inCidr(bytes, p);
    else hit = matchPattern(host.toLowerCase(), p.toLowerCase()) || matchPattern(ip, p.toLowerCase());
    if (hit) {
      if (negated) return 'negated';
      got = 'match';
    }
  }
  return got;
}

/**
 * Client-address matching for authorized_keys `from="…"` (sshd(8) AUTHORIZED_KEYS FILE FORMAT), as
 * OpenSSH 9.2 decides it: match.c match_host_and_ip over addrmatch.c addr_match_list and addr.c
 * addr_pton / addr_pton_cidr. An entry that parses as an address (glibc getaddrinfo AI_NUMERICHOST, so
 * `127.1`, `0x7f.0.0.1`, `0000::0001` are addresses) or a CIDR block is compared as bytes of its own
 * family; anything else is a wildcard on the address text. An IPv4-mapped pattern (`::ffff:10.0.0.0/104`)
 * stays IPv6 and never matches an IPv4 client; the client address is normalised as sshd does (mapped
 * IPv6 becomes IPv4, text is inet_ntop's).
 */
import { ParseError } from './errors.js';
import { cBytes, matchHostname, matchPattern, type ListMatch } from './pattern.js';
import { formatIpAddress, parseIpAddress, type IpAddress } from './addr-parse.js';
export { formatIpAddress, parseIpAddress, type IpAddress } from './addr-parse.js';

/** addr.c's `char addrbuf[64]`: a CIDR entry this long or longer is not an address (wildcard instead). */
const ADDRBUF = 64;

/** A parsed block: network, prefix length. */
interface Cidr {
  readonly net: IpAddress;
  readonly bits: number;
}

/**
 * The mask length of `a.b.c.d/N` as addr.c reads it: it must start with a digit (so ` 8`, `+8`, `-0`
 * are not lengths), strtoul base 10 to the end, at most 128; -1 if it is not one (a wildcard instead).
 */
function maskLength(text: string): number {
  if (!/^[0-9]+$/.test(text)) return -1;
  const v = BigInt(text);
  return v > 128n ? -1 : Number(v);
}

/** addr_host_is_all0s: no bit set past the prefix. */
function hostBitsClear(a: IpAddress, bits: number): boolean {
  for (let i = bits; i < a.bytes.length * 8; i++) if (a.bytes[i >> 3] & (0x80 >> (i & 7))) return false;
  return true;
}

/** addr_pton_cidr: a block, 'parse' (-1: not an address, try a wildcard) or 'inconsistent' (-2: an error). */
export function parseCidr(entry: string): Cidr | 'parse' | 'inconsistent' {
  const bytes = cBytes(entry);
  if (bytes.length >= ADDRBUF) return 'parse';
  const text = Buffer.from(bytes).toString('utf8');
  const slash = text.indexOf('/');
  let bits = -1;
  if (slash >= 0) {
    bits = maskLength(text.slice(slash + 1));
    if (bits < 0) return 'parse';
  }
  const net = parseIpAddress(slash >= 0 ? text.slice(0, slash) : text);
  if (!net) return 'parse';
  const max = net.bytes.length * 8;
  if (slash < 0) bits = max;
  if (bits > max || !hostBitsClear(net, bits)) return 'inconsistent';
  return { net, bits };
}

/** addr_netmatch: same family, same prefix bits, same scope (the host's scope survives the mask). */
function netMatch(host: IpAddress, c: Cidr): boolean {
  if (host.bytes.length !== c.net.bytes.length || host.scope !== c.net.scope) return false;
  for (let i = 0; i < c.bits; i++) {
    const m = 0x80 >> (i & 7);
    if ((host.bytes[i >> 3] & m) !== (c.net.bytes[i >> 3] & m)) return false;
  }
  return true;
}

/** What addr_match_list returns: 1 match, 0 none, -1 negated, -2 an invalid entry. */
export type AddrListResult = 1 | 0 | -1 | -2;

/**
 * addr_match_list(addr, list) exactly: entries split at every comma (an empty one is an error), CIDR
 * first, a wildcard on the address text when the entry is not an address, a negated hit stops at once.
 */
export function addrMatchList(addr: string, list: string): AddrListResult {
  const client = parseIpAddress(addr);
  if (!client) return 0;
  let ret: AddrListResult = 0;
  for (const raw of Buffer.from(cBytes(list)).toString('utf8').split(',')) {
    const neg = raw.startsWith('!');
    const cp = neg ? raw.slice(1) : raw;
    if (cp === '') return -2;
    const c = parseCidr(cp);
    if (c === 'inconsistent') return -2;
    const hit = c === 'parse' ? matchPattern(addr, cp) : netMatch(client, c);
    if (hit) {
      if (neg) return -1;
      ret = 1;
    }
  }
  return ret;
}

/** The client address as sshd holds it: mapped IPv6 → IPv4 (ipv64_normalise_mapped), inet_ntop text. */
export function canonicalAddress(text: string): string {
  const a = parseIpAddress(text);
  if (!a) return text;
  const mapped = a.bytes.length === 16 && a.bytes.subarray(0, 10).every((b) => b === 0) && a.bytes[10] === 0xff && a.bytes[11] === 0xff;
  return formatIpAddress(mapped ? { bytes: Buffer.from(a.bytes.subarray(12)), scope: '' } : a);
}

/**
 * Matches a client against a `from=` list (match_host_and_ip). `host` is the client's name if known
 * (sshkit does no reverse lookups, like sshd with `UseDNS no`, so it defaults to the address text).
 * 'negated' if a `!` entry matched, 'match' if a positive one did, else 'none'; throws ParseError on an
 * invalid entry (sshd then refuses the key).
 */
export function matchFromList(list: string, address: string, host?: string): ListMatch {
  const ip = canonicalAddress(address);
  const mip = addrMatchList(ip, list);
  if (mip === -2) throw new ParseError(`invalid entry in from= list ${JSON.stringify(list)}`);
  if (mip === -1) return 'negated';
  const mhost = matchHostname(host ?? ip, list);
  if (mhost === 'negated') return 'negated';
  return mhost === 'none' && mip === 0 ? 'none' : 'match';
}

/** addr.c's VALID_CIDR_CHARS: what a certificate source-address entry may contain. */
const CIDR_CHARS = /^[0-9a-fA-F.:/]*$/;

/**
 * Certificate `source-address` (PROTOCOL.certkeys; addrmatch.c addr_match_cidr_list): a comma list of
 * addresses and CIDR blocks only — no wildcards, no negation, no host names. Any bad entry (empty,
 * longer than INET6_ADDRSTRLEN + 3, other characters, not an address, host bits set) makes the whole
 * list invalid: ParseError, and sshd refuses the certificate. True if the client is in a block.
 */
export function matchCidrList(list: string, address: string): boolean {
  const client = parseIpAddress(canonicalAddress(address));
  let hit = false;
  for (const cp of Buffer.from(cBytes(list)).toString('utf8').split(',')) {
    const c = cp === '' || Buffer.byteLength(cp) > 46 + 3 || !CIDR_CHARS.test(cp) ? 'parse' : parseCidr(cp);
    if (typeof c === 'string') throw new ParseError(`invalid source-address entry ${JSON.stringify(cp)}`);
    if (client && netMatch(client, c)) hit = true;
  }
  return hit;
}

/**
 * The PROXY protocol header a TCP load balancer puts in front of the client's first byte (HAProxy's
 * doc/proxy-protocol.txt, versions 1 and 2), parsed incrementally: given the bytes received so far the
 * answer is `need-more`, a complete `header` (with its length, so the caller hands the rest to SSH), or
 * an `error`. Strict as the spec asks ("any sequence which does not exactly match the protocol must be
 * discarded and cause the receiver to abort the connection"):
 *  - v1: `PROXY TCP4|TCP6 src dst sport dport\r\n`, single spaces, canonical addresses (no leading
 *    zeroes in IPv4 or ports), CRLF within the first 107 bytes, never a lone CR or LF; `UNKNOWN` ignores
 *    the rest of the line (the receiver uses the real connection endpoints).
 *  - v2: the 12-byte signature, version 2 only, command LOCAL (addresses ignored, real endpoints: a
 *    health check is the balancer's own connection) or PROXY, which must carry TCP over IPv4/IPv6 —
 *    UNSPEC, UDP and UNIX are refused (the spec lets a receiver refuse them; HAProxy 2.6 does too), as
 *    are invalid nibbles; the length field is bounded by {@link V2_MAX_BODY}; TLVs are skipped but
 *    must frame exactly (as HAProxy's connection.c conn_recv_proxy checks them).
 * Measured against HAProxy 2.6's own receiver (test/proxy-protocol-haproxy-accept.test.ts): sshkit is
 * stricter on leading zeroes and out-of-range ports in v1 (HAProxy reads `10.01.2.3` as 10.1.2.3 and
 * port 65536 as 0) and on v2 length, and follows the spec where HAProxy refuses a v1 `UNKNOWN` line
 * with fields ("the receiver must ignore anything presented before the CRLF").
 */
import { formatIpAddress, parseIpAddress } from './addr-parse.js';

/** The v2 signature (proxy-protocol.txt 2.2). */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The v1 line's longest form including CRLF: "PROXY UNKNOWN ffff:…:ffff ffff:…:ffff 65535 65535\r\n". */
export const V1_MAX_LINE = 107;
/**
 * Largest v2 body (the length field) accepted: the spec allows 65535, but addresses take at most 216
 * bytes and the TLVs balancers send (AWS VPC endpoint id, GCP PSC, Azure link id, SSL, unique id) a
 * few hundred; a bigger header is refused rather than buffered.
 */
export const V2_MAX_BODY = 2048;

/** A complete header: what it says and how many bytes it took. */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /** LOCAL (v2 health checks: the connection is the balancer's own) or PROXY (relayed). */
  readonly command: 'LOCAL' | 'PROXY';
  /** TCP4/TCP6 carry addresses; UNKNOWN (v1 UNKNOWN, v2 LOCAL) means "use the real endpoints" (the balancer's). */
  readonly family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  readonly src?: string;
  readonly srcPort?: number;
  readonly dst?: string;
  readonly dstPort?: number;
  /** Bytes of the header; everything after them is the client's stream. */
  readonly headerLength: number;
}

/** The parser's answer for the bytes so far. */
export type ProxyParse = { readonly kind: 'need-more' } | { readonly kind: 'header'; readonly header: ProxyHeader } | { readonly kind: 'error'; readonly reason: string };

const NEED_MORE: ProxyParse = { kind: 'need-more' };
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const fail = (reason: string): ProxyParse => ({ kind: 'error', reason });

/** True when `buf` (so far) agrees with `want` on their common length. */
function agrees(buf: Uint8Array, want: Uint8Array): boolean {
  const n = Math.min(buf.length, want.length);
  for (let i = 0; i < n; i++) if (buf[i] !== want[i]) return false;
  return true;
}

/** Parses the PROXY header at the start of `buf` (v1 or v2, detected as proxy-protocol.txt 2.2 says). */
export function parseProxyHeader(buf: Uint8Array): ProxyParse {
  if (buf.length === 0) return NEED_MORE;
  if (agrees(buf, V2_SIGNATURE)) return buf.length < 16 ? NEED_MORE : parseV2(Buffer.from(buf.buffer, buf.byteOffset, buf.length));
  if (agrees(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? NEED_MORE : parseV1(buf);
  return fail('not a PROXY protocol header');
}

const V4_TEXT = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
const V6_TEXT = /^[0-9A-Fa-f:.]{2,45}$/;
const PORT_TEXT = /^(0|[1-9][0-9]{0,4})$/;

/** A v1 address of `family` in canonical text, or null (IPv4: 4 decimal parts ≤ 255 without leading zeroes). */
function v1Address(text: string, family: 'TCP4' | 'TCP6'): string | null {
  if (family === 'TCP4') {
    const m = V4_TEXT.exec(text);
    if (!m || m.slice(1).some((p) => Number(p) > 255)) return null;
  } else if (!V6_TEXT.test(text) || !text.includes(':')) return null;
  const a = parseIpAddress(text); // glibc inet_pton6 rules for IPv6 (one "::", 128 bits exactly)
  if (!a || a.bytes.length !== (family === 'TCP4' ? 4 : 16)) return null;
  return formatIpAddress(a);
}

function v1Port(text: string): number | null {
  return PORT_TEXT.test(text) && Number(text) <= 65535 ? Number(text) : null;
}

function parseV1(buf: Uint8Array): ProxyParse {
  const lf = buf.subarray(0, V1_MAX_LINE).indexOf(0x0a);
  if (lf < 0) return buf.length >= V1_MAX_LINE ? fail(`v1: no CRLF within ${V1_MAX_LINE} bytes`) : NEED_MORE;
  if (lf === 0 || buf[lf - 1] !== 0x0d) return fail('v1: a line feed without carriage return');
  const line = Buffer.from(buf.subarray(0, lf - 1)).toString('latin1');
  const headerLength = lf + 1;
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', header: { version: 1, command: 'PROXY', family: 'UNKNOWN', headerLength } };
  if (parts[1] !== 'TCP4' && parts[1] !== 'TCP6') return fail(`v1: unknown protocol ${JSON.stringify(parts[1].slice(0, 16))}`);
  if (parts.length !== 6) return fail('v1: expected "PROXY proto src dst sport dport"');
  const family = parts[1];
  const src = v1Address(parts[2], family);
  const dst = v1Address(parts[3], family);
  if (src === null || dst === null) return fail(`v1: bad ${family} address`);
  const srcPort = v1Port(parts[4]);
  const dstPort = v1Port(parts[5]);
  if (srcPort === null || dstPort === null) return fail('v1: bad port');
  return { kind: 'header', header: { version: 1, command: 'PROXY', family, src, srcPort, dst, dstPort, headerLength } };
}

/** Address bytes each v2 family takes (INET, INET6, UNIX). */
const V2_ADDR_LEN = new Map<number, number>([
  [1, 12],
  [2, 36],
  [3, 216],
]);

function parseV2(buf: Buffer): ProxyParse {
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return fail(`v2: version ${verCmd >> 4} (only 2 is accepted)`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return fail(`v2: unassigned command ${cmd}`);
  const fam = buf[13];
  const body = buf.readUInt16BE(14);
  if (body > V2_MAX_BODY) return fail(`v2: header length ${body} over ${V2_MAX_BODY}`);
  const headerLength = 16 + body;
  if (buf.length < headerLength) return NEED_MORE;
  // LOCAL: "the receiver must accept this connection as valid and must use the real connection
  // endpoints and discard the protocol block including the family which is ignored".
  if (cmd === 0) return { kind: 'header', header: { version: 2, command: 'LOCAL', family: 'UNKNOWN', headerLength } };
  const af = fam >> 4;
  const proto = fam & 0x0f;
  if (af > 3 || proto > 2) return fail(`v2: invalid family/protocol byte 0x${fam.toString(16).padStart(2, '0')}`);
  const need = V2_ADDR_LEN.get(af) ?? 0;
  if (body < need) return fail(`v2: ${body} bytes cannot hold the addresses of family ${af}`);
  // "The receiver is free to accept the connection anyway and use the real endpoint addresses or to
  // reject it": rejected (as HAProxy 2.6 does), since the real endpoint is the balancer, and a relayed
  // client taken for the balancer could pass a from= meant for the balancer's network (never fail open).
  if (proto !== 1 || (af !== 1 && af !== 2)) return fail(`v2: PROXY for family/protocol 0x${fam.toString(16).padStart(2, '0')}, not TCP over IPv4/IPv6: the client cannot be named`);
  const tlv = checkTlvs(buf.subarray(16 + need, headerLength));
  if (tlv) return fail(`v2: ${tlv}`);
  const n = af === 1 ? 4 : 16;
  const addr = (at: number) => formatIpAddress({ bytes: Buffer.from(buf.subarray(at, at + n)), scope: '' });
  const ports = 16 + 2 * n;
  return {
    kind: 'header',
    header: { version: 2, command: 'PROXY', family: af === 1 ? 'TCP4' : 'TCP6', src: addr(16), dst: addr(16 + n), srcPort: buf.readUInt16BE(ports), dstPort: buf.readUInt16BE(ports + 2), headerLength },
  };
}

/** TLVs after the addresses must frame exactly: type (1), length (2), value; null if they do. */
function checkTlvs(tlvs: Buffer): string | null {
  let at = 0;
  while (at < tlvs.length) {
    if (at + 3 > tlvs.length) return 'truncated TLV header';
    const len = tlvs.readUInt16BE(at + 1);
    if (at + 3 + len > tlvs.length) return `TLV 0x${tlvs[at].toString(16)} longer than the header`;
    at += 3 + len;
  }
  return null;
}

/**
 * The receiving side against HAProxy itself: each header of a table is sent (from 127.0.0.2, one write)
 * to HAProxy 2.6 with `bind … accept-proxy`, whose backend re-sends what it understood as a v1 line
 * (`send-proxy`) to a capture listener. HAProxy accepting ↔ core/proxy-protocol.ts giving a header,
 * with the same client address and port (UNKNOWN/LOCAL/UNSPEC: the real client 127.0.0.2 for both);
 * HAProxy dropping the connection ↔ our error. Where the two differ on purpose (sshkit keeps the spec's
 * "no heading zeroes" and port range and bounds the v2 length; HAProxy refuses a v1 UNKNOWN line with
 * fields, which the spec says to accept), the row says so and the test checks that exact difference,
 * so a change on either side shows up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { parseProxyHeader } from '../src/core/proxy-protocol.js';
import { haveHaproxy, startHaproxy, type Haproxy } from './haproxy-helper.js';
import { SIG, v1Header, v2Header } from './proxy-helper.js';

const CLIENT = '127.0.0.2';
const v2 = (cmd: number, fam: number, body: Buffer) => Buffer.concat([SIG, Buffer.from([cmd, fam, body.length >> 8, body.length & 255]), body]);
const tcp4Body = Buffer.from([10, 1, 2, 3, 127, 0, 0, 1, 0x04, 0x57, 0, 22]);
const tcp6Body = Buffer.concat([Buffer.from('20010db8000000000000000000000001', 'hex'), Buffer.alloc(15), Buffer.from([1, 0x04, 0x57, 0, 22])]);

/** A deliberate difference: which side refuses, and why. */
type Differs = readonly ['sshkit refuses' | 'haproxy refuses', string];
const SPEC_ZEROES: Differs = ['sshkit refuses', 'proxy-protocol.txt: "Heading zeroes are not permitted"'];

/** [name, bytes, deliberate difference (undefined: they must agree)]. */
const ROWS: Array<[string, Buffer, Differs?]> = [
  ['v1 TCP4', v1Header('10.1.2.3', '127.0.0.1', 1111)],
  ['v1 TCP6', v1Header('2001:db8::1', '::1', 1111)],
  ['v1 UNKNOWN, short form', Buffer.from('PROXY UNKNOWN\r\n')],
  ['v1 UNKNOWN with fields', Buffer.from('PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n'), ['haproxy refuses', 'proxy-protocol.txt: for UNKNOWN "the receiver must ignore anything presented before the CRLF"']],
  ['v1 port with a leading zero', Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 01111 22\r\n'), SPEC_ZEROES],
  ['v1 IPv4 part with a leading zero', Buffer.from('PROXY TCP4 10.01.2.3 127.0.0.1 1111 22\r\n'), SPEC_ZEROES],
  ['v1 port 65536', Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 65536 22\r\n'), ['sshkit refuses', 'ports are "in the range [0..65535]" (HAProxy reads 65536 as 0)']],
  ['v1 two spaces', Buffer.from('PROXY TCP4  10.1.2.3 127.0.0.1 1111 22\r\n')],
  ['v1 ended by LF alone', Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 1111 22\n')],
  ['v1 lower-case proxy', Buffer.from('proxy TCP4 10.1.2.3 127.0.0.1 1111 22\r\n')],
  ['v1 TCP4 with an IPv6 address', Buffer.from('PROXY TCP4 ::1 127.0.0.1 1111 22\r\n')],
  ['v1 TCP6 with an IPv4 address', Buffer.from('PROXY TCP6 10.1.2.3 ::1 1111 22\r\n')],
  ['v1 a space before CRLF', Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 1111 22 \r\n')],
  ['v1 unknown protocol TCP5', Buffer.from('PROXY TCP5 10.1.2.3 127.0.0.1 1111 22\r\n')],
  ['v1 line of 120 bytes', Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(104) + '\r\n')],
  ['v1 missing destination port', Buffer.from('PROXY TCP4 10.1.2.3 127.0.0.1 1111\r\n')],
  ['v2 TCP4', v2Header('10.1.2.3', 1111)],
  ['v2 TCP6', v2(0x21, 0x21, tcp6Body)],
  ['v2 LOCAL with addresses', v2(0x20, 0x11, tcp4Body)],
  ['v2 PROXY UNSPEC, no addresses', v2(0x21, 0x00, Buffer.alloc(0))],
  ['v2 version 1', v2(0x11, 0x11, tcp4Body)],
  ['v2 command 2', v2(0x22, 0x11, tcp4Body)],
  ['v2 UDP over IPv4', v2(0x21, 0x12, tcp4Body)],
  ['v2 UNIX stream', v2(0x21, 0x31, Buffer.alloc(216))],
  ['v2 family 4 (unassigned)', v2(0x21, 0x41, tcp4Body)],
  ['v2 TCP4 in 11 bytes', v2(0x21, 0x11, tcp4Body.subarray(0, 11))],
  ['v2 TCP4 with a NOOP TLV', v2(0x21, 0x11, Buffer.concat([tcp4Body, Buffer.from([0x04, 0, 2, 0, 0])]))],
  ['v2 TCP4 with a TLV longer than the header', v2(0x21, 0x11, Buffer.concat([tcp4Body, Buffer.from([0x04, 0, 9, 0])]))],
  ['v2 TCP4 with 2 stray bytes after the addresses', v2(0x21, 0x11, Buffer.concat([tcp4Body, Buffer.from([0x04, 0])]))],
  ['v2 TCP4 with 3000 bytes of TLV', v2(0x21, 0x11, Buffer.concat([tcp4Body, Buffer.from([0x04, 2997 >> 8, 2997 & 255]), Buffer.alloc(2997)])), ['sshkit refuses', 'sshkit bounds the v2 length at 2048 bytes']],
];

describe('PROXY headers as HAProxy (accept-proxy) receives them', { skip: !haveHaproxy && 'no /usr/sbin/haproxy' }, () => {
  let hap: Haproxy;
  let cap: Server;
  const seen = new Map<string, Buffer>();
  before(async () => {
    cap = createServer((s) => {
      let got = Buffer.alloc(0);
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        const m = /\|row(\d+)\|/.exec(got.toString('latin1'));
        if (m) seen.set(m[1], got);
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => cap.listen(0, '127.0.0.1', r));
    hap = await startHaproxy([`server s1 127.0.0.1:${(cap.address() as AddressInfo).port} send-proxy`], [], [], 'accept-proxy');
  });
  after(async () => {
    await hap?.stop();
    cap?.close();
  });

  /** What HAProxy made of `bytes`: the client it forwarded for (address, port), or null if it dropped the connection. */
  const haproxySays = (i: number, bytes: Buffer) =>
    new Promise<{ src: string; srcPort: number } | null>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: hap.port, localAddress: CLIENT }, () => s.write(Buffer.concat([bytes, Buffer.from(`|row${i}|`)])));
      s.on('error', () => undefined);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        s.destroy();
        const got = seen.get(String(i));
        const r = got ? parseProxyHeader(got) : undefined;
        resolve(r?.kind === 'header' ? { src: r.header.src!, srcPort: r.header.srcPort! } : null);
      };
      s.on('close', () => setTimeout(finish, 200));
      const iv = setInterval(() => seen.has(String(i)) && (clearInterval(iv), finish()), 20);
      setTimeout(() => (clearInterval(iv), finish()), 2500);
    });

  test('sshkit and HAProxy accept and refuse the same headers and read the same client (deliberate differences checked as such)', async () => {
    const answers = await Promise.all(ROWS.map(([, bytes], i) => haproxySays(i, bytes)));
    const table: string[] = [];
    const wrong: string[] = [];
    ROWS.forEach(([name, bytes, stricter], i) => {
      const ours = parseProxyHeader(bytes);
      const theirs = answers[i];
      const oursClient = ours.kind !== 'header' ? null : ours.header.family === 'UNKNOWN' ? { src: CLIENT } : { src: ours.header.src, srcPort: ours.header.srcPort };
      table.push(`${name}: sshkit ${ours.kind === 'header' ? JSON.stringify(oursClient) : ours.kind === 'error' ? 'refuses (' + ours.reason + ')' : 'need-more'}; haproxy ${theirs ? JSON.stringify(theirs) : 'refuses'}`);
      if (stricter) {
        const [who, why] = stricter;
        if ((ours.kind === 'error') !== (who === 'sshkit refuses')) wrong.push(`${name}: sshkit should ${who === 'sshkit refuses' ? 'refuse' : 'accept'} (${why})`);
        if ((theirs === null) !== (who === 'haproxy refuses')) wrong.push(`${name}: HAProxy changed (${who} expected) — drop the exception`);
      } else if (oursClient === null) {
        if (theirs !== null) wrong.push(`${name}: refused by sshkit, accepted by HAProxy`);
      } else if (theirs === null) wrong.push(`${name}: accepted by sshkit, refused by HAProxy`);
      else if (theirs.src !== oursClient.src || (oursClient.srcPort !== undefined && theirs.srcPort !== oursClient.srcPort)) wrong.push(`${name}: a different client`);
    });
    assert.deepEqual(wrong, [], table.join('\n'));
  });
});

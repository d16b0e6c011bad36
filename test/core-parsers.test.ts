/**
 * The core's strict parsers: wire, key blobs, the sshd option grammar, authorized_keys, known_hosts
 * and patterns. Malformed inputs live in tables; each must raise ParseError and nothing else.
 * known_hosts matching is compared with the real `ssh-keygen -F`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../src/core/errors.js';
import { WireReader, WireWriter } from '../src/core/wire.js';
import { decodeBase64, inspectBlob, parsePublicKeyLine, formatPublicKey, readKeyPrefix } from '../src/core/key.js';
import { parseOptions } from '../src/core/options.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { parseAbsoluteTime } from '../src/core/time.js';
import { checkHostKey, hashHostName, hostMatches, hostName, parseKnownHosts } from '../src/core/known-hosts.js';
import { matchPattern, matchPatternList } from '../src/core/pattern.js';
import { openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-core-');
after(cleanup);

function makeKey(name: string, args: string[]): string {
  const r = openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', name, '-f', join(dir, name)]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
}
const ED = makeKey('ed', ['-t', 'ed25519']);
const EC = makeKey('ec', ['-t', 'ecdsa']);
const ED2 = makeKey('ed2', ['-t', 'ed25519']);
const bare = (line: string) => line.split(' ').slice(0, 2).join(' ');

describe('wire', () => {
  test('reads what the writer wrote and rejects leftovers and truncation', () => {
    const buf = new WireWriter().u32(7).string('abc').mpint(Buffer.from([0x80, 1])).u64(5n).toBuffer();
    const r = new WireReader(buf);
    assert.equal(r.u32(), 7);
    assert.equal(r.text(), 'abc');
    assert.deepEqual(r.mpint(), Buffer.from([0, 0x80, 1]));
    assert.equal(r.u64(), 5n);
    r.end();
    assert.throws(() => new WireReader(Buffer.from([0, 0, 0, 9, 1])).string(), ParseError);
    const extra = new WireReader(Buffer.from([0, 0, 0, 1, 65, 0]));
    extra.string();
    assert.throws(() => extra.end(), ParseError);
  });
  test('mpint: negative and non-minimal encodings are refused', () => {
    assert.throws(() => new WireReader(new WireWriter().string(Buffer.from([0x80])).toBuffer()).mpint(), ParseError);
    assert.throws(() => new WireReader(new WireWriter().string(Buffer.from([0, 1])).toBuffer()).mpint(), ParseError);
  });
});

describe('public key blobs', () => {
  test('a .pub line round-trips byte for byte', () => {
    for (const line of [ED, EC]) assert.equal(formatPublicKey(parsePublicKeyLine(line)), line);
  });
  const edBlob = parsePublicKeyLine(ED).blob;
  const rsa = (bits: number) => {
    const n = Buffer.alloc(bits / 8, 0xff);
    return new WireWriter().string('ssh-rsa').mpint(Buffer.from([1, 0, 1])).mpint(n).toBuffer();
  };
  const bad: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['trailing byte', Buffer.concat([edBlob, Buffer.from([0])])],
    ['truncated', edBlob.subarray(0, edBlob.length - 1)],
    ['unknown type', new WireWriter().string('ssh-foo').string(Buffer.alloc(32)).toBuffer()],
    ['short ed25519', new WireWriter().string('ssh-ed25519').string(Buffer.alloc(31)).toBuffer()],
    ['rsa 768 bits', rsa(768)],
    ['ecdsa curve mismatch', new WireWriter().string('ecdsa-sha2-nistp256').string('nistp384').string(Buffer.alloc(65, 4)).toBuffer()],
    ['ecdsa compressed point', new WireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(Buffer.alloc(33, 2)).toBuffer()],
  ];
  for (const [name, blob] of bad) test(`rejects ${name}`, () => assert.throws(() => inspectBlob(blob), ParseError));
  test('rsa 2048 made by hand is accepted with its size', () => assert.equal(inspectBlob(rsa(2048)).bits, 2048));
  test('readKeyPrefix: type token must name the blob type', () => {
    assert.throws(() => readKeyPrefix(`ssh-rsa ${ED.split(' ')[1]}`), /mismatch/);
    assert.equal(readKeyPrefix('no-such-type AAAA'), null);
  });
});

describe('sshd option grammar', () => {
  test('flags, quoted values, escaped quotes, commas inside quotes', () => {
    assert.deepEqual(parseOptions('no-pty,command="echo \\"a, b\\"",FROM="*.x,!y"'), [
      { name: 'no-pty' },
      { name: 'command', value: 'echo "a, b"' },
      { name: 'from', value: '*.x,!y' },
    ]);
  });
  const malformed = [',', 'no-pty,', 'command=echo', 'command="open', 'a b', '"q"', 'command="x"y', '=x'];
  for (const m of malformed) test(`rejects ${JSON.stringify(m)}`, () => assert.throws(() => parseOptions(m), ParseError));
});

describe('authorized_keys', () => {
  test('options become structured permissions; restrict then pty re-enables pty', () => {
    const e = parseAuthorizedKeysLine(`restrict,pty,command="uptime",from="10.0.0.0/8",expiry-time="20990101Z" ${bare(ED)} me`);
    assert.equal(e.options.pty, true);
    assert.equal(e.options.portForwarding, false);
    assert.equal(e.options.command, 'uptime');
    assert.equal(e.options.from, '10.0.0.0/8');
    assert.equal(e.options.expiryTime, Date.UTC(2099, 0, 1) / 1000);
    assert.equal(e.key.comment, 'me');
  });
  const badLines = [
    `bogus-option ${bare(ED)}`,
    `command="x",command="y" ${bare(ED)}`,
    `no-pty="yes" ${bare(ED)}`,
    `expiry-time="2099" ${bare(ED)}`,
    `environment="1X=y" ${bare(ED)}`,
    `${ED.split(' ')[0]} AAAA`,
    'just some words',
  ];
  for (const line of badLines) test(`bad line: ${line.slice(0, 40)}`, () => assert.throws(() => parseAuthorizedKeysLine(line, 3), (e: unknown) => e instanceof ParseError && e.line === 3));
  test('a file with a bad line keeps the others, reports the bad line number, indexes by blob', () => {
    const idx = parseAuthorizedKeys(`# c\n${ED}\n\nnot a key\nno-pty ${EC}\r\n${ED}\n`);
    assert.equal(idx.size, 3);
    assert.deepEqual(idx.errors.map((e) => e.line), [4]);
    assert.equal(idx.lookup(parsePublicKeyLine(ED).blob).length, 2);
    assert.equal(idx.lookup(parsePublicKeyLine(EC).blob)[0].options.pty, false);
    assert.equal(idx.lookup(parsePublicKeyLine(EC).blob)[0].key.comment, 'ec');
    assert.equal(idx.lookup(parsePublicKeyLine(ED2).blob).length, 0);
  });
  test('expiry-time uses parse_absolute_time: date, date-time, seconds, Z or UTC; out-of-range fields refused', () => {
    assert.equal(parseAbsoluteTime('20300102Z'), Date.UTC(2030, 0, 2) / 1000);
    assert.equal(parseAbsoluteTime('203001020304z'), Date.UTC(2030, 0, 2, 3, 4) / 1000);
    assert.equal(parseAbsoluteTime('20300102030405UTC'), Date.UTC(2030, 0, 2, 3, 4, 5) / 1000);
    assert.equal(parseAbsoluteTime('20300102'), new Date(2030, 0, 2).getTime() / 1000);
    assert.equal(parseAuthorizedKeysLine(`expiry-time="20300102Z" ${bare(ED)}`).options.expiryTime, Date.UTC(2030, 0, 2) / 1000);
    for (const s of ['20301301', '20300232', '2030010', 'x']) assert.throws(() => parseAbsoluteTime(s), ParseError);
  });
});

describe('patterns (match.c)', () => {
  const cases: [string, string, boolean][] = [
    ['host.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['abc', 'a?c', true],
    ['abc', 'a*', true],
    ['abc', '*b', false],
    ['', '*', true],
    ['aaa', 'a*a*a*a', false],
  ];
  for (const [s, p, want] of cases) test(`${s} ~ ${p}`, () => assert.equal(matchPattern(s, p), want));
  test('negation wins over a positive match', () => {
    assert.equal(matchPatternList('bad.example.com', '*.example.com,!bad.*'), 'negated');
    assert.equal(matchPatternList('good.example.com', '*.example.com,!bad.*'), 'match');
    assert.equal(matchPatternList('other', '*.example.com,!bad.*'), 'none');
    assert.equal(matchPatternList('HOST', 'host', true), 'match');
    assert.equal(matchPatternList('HOST', 'host'), 'none');
  });
});

describe('known_hosts, compared with ssh-keygen -F', () => {
  const file = join(dir, 'known_hosts');
  const text = [
    `server.example.com,192.0.2.10 ${bare(ED)}`,
    `[server.example.com]:2222 ${bare(EC)}`,
    `*.internal,!bad.internal ${bare(ED2)}`,
    `${hashHostName('hashed.example.com', Buffer.alloc(20, 7))} ${bare(ED)}`,
    `@revoked revoked.example.com ${bare(ED2)}`,
    `# comment`,
  ].join('\n') + '\n';
  writeFileSync(file, text);
  const kh = parseKnownHosts(text);
  const queries: [string, number][] = [
    ['server.example.com', 22],
    ['SERVER.example.com', 22],
    ['192.0.2.10', 22],
    ['server.example.com', 2222],
    ['a.internal', 22],
    ['bad.internal', 22],
    ['hashed.example.com', 22],
    ['nothing.example.com', 22],
  ];
  for (const [host, port] of queries) {
    test(`${hostName(host, port)}: same lines as ssh-keygen -F`, () => {
      const r = openssh('ssh-keygen', ['-F', hostName(host, port), '-f', file]);
      const want = [...r.stdout.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1])).filter((l) => !text.split('\n')[l - 1].startsWith('@'));
      const got = kh.entries.filter((e) => e.marker === null && hostMatches(e, hostName(host, port))).map((e) => e.line);
      assert.deepEqual(got, want);
    });
  }
  test('verdicts: ok, changed (any other key for the host, whatever its type, as hostfile.c), unknown, revoked', () => {
    const ed = parsePublicKeyLine(ED);
    const ed2 = parsePublicKeyLine(ED2);
    const ec = parsePublicKeyLine(EC);
    assert.equal(checkHostKey(kh, 'server.example.com', 22, ed).status, 'ok');
    assert.equal(checkHostKey(kh, 'server.example.com', 22, ed2).status, 'changed');
    assert.equal(checkHostKey(kh, 'server.example.com', 22, ec).status, 'changed');
    assert.equal(checkHostKey(kh, 'nothing.example.com', 22, ec).status, 'unknown');
    assert.equal(checkHostKey(kh, 'revoked.example.com', 22, ed2).status, 'revoked');
    assert.equal(checkHostKey(kh, 'hashed.example.com', 22, ed).status, 'ok');
  });
  test('bad lines are reported with their numbers, the rest still parse', () => {
    const k = parseKnownHosts(`host ${bare(ED)}\n@bogus host ${bare(ED)}\n|1|xx|yy ${bare(ED)}\nhost-only\n`);
    assert.equal(k.entries.length, 1);
    assert.deepEqual(k.errors.map((e) => e.line), [2, 3, 4]);
  });
});

describe('base64 is canonical (OpenSSH b64_pton)', () => {
  test('non-zero bits before the padding are refused, so one blob has one text', () => {
    assert.deepEqual(decodeBase64('QQ=='), Buffer.from('A'));
    assert.throws(() => decodeBase64('QR=='), ParseError);
    assert.deepEqual(decodeBase64('QUI='), Buffer.from('AB'));
    assert.throws(() => decodeBase64('QUJ='), ParseError);
  });
});

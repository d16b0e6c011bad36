/**
 * Property tests for the matching and policy parsers (issue 9 "Fuzzing", issue 18): absolute times,
 * from= address lists, pattern lists, the option grammar, known_hosts and allowed_signers lines. Mutated
 * valid inputs must give a result or a ParseError, never another exception; matching cost stays
 * bilinear; and, on a bounded sample (≤ 30 process runs in all), sshkit's verdict equals the real
 * tool's: `ssh-keygen -V` (times), `ssh-keygen -F` (known_hosts), `ssh-keygen -Y verify` (allowed_signers).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalAddress, formatIpAddress, matchFromList } from '../src/core/addr.js';
import { checkAllowedSigners, parseAllowedSignersLine } from '../src/core/allowed-signers.js';
import { parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { ParseError } from '../src/core/errors.js';
import { hostMatches, parseKnownHostsLine } from '../src/core/known-hosts.js';
import { parseOptions } from '../src/core/options.js';
import { matchPattern, matchPatternListC } from '../src/core/pattern.js';
import { parseAbsoluteTime } from '../src/core/time.js';
import { fuzzParams } from './fuzz-helper.js';
import { tempDir } from './helpers.js';
import { certKeys, makeSigner, opensshAbsoluteTime, opensshKnowsHost, sshkitKnowsHost, TIME_TABLE } from './match-openssh.js';

/** Runs fn; a ParseError is an answer too, anything else thrown fails the property. */
function typed<T>(fn: () => T): T | ParseError {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
}

/** A valid seed mutated by a few edits (insert, delete, replace) with characters from `alphabet`. */
function mutated(seeds: readonly string[], alphabet: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('ins', 'del', 'rep'), c: fc.constantFrom(...alphabet) });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { maxLength: 4 })).map(([seed, edits]) => {
    let s = seed;
    for (const e of edits) {
      const i = s.length === 0 ? 0 : e.at % (s.length + 1);
      s = e.op === 'ins' ? s.slice(0, i) + e.c + s.slice(i) : e.op === 'del' ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + e.c + s.slice(i + 1);
    }
    return s;
  });
}

describe('absolute times', () => {
  const times = mutated(TIME_TABLE, '0123456789ZzUTCut \t-:+\u00e9\u0000');
  test('a number of seconds ≥ 0 or a ParseError', () => {
    fc.assert(fc.property(fc.oneof(times, fc.string({ maxLength: 20 })), (t) => {
      const r = typed(() => parseAbsoluteTime(t));
      assert.ok(r instanceof ParseError || (Number.isInteger(r) && r >= 0));
    }), fuzzParams(2000));
  });
  test('sampled: the instant ssh-keygen -V computes (≤ 10 runs)', () => {
    const tmp = tempDir('sshkit-fuzz-time-');
    try {
      const keys = certKeys(tmp.dir);
      // -V reads +/-, 0x…, always/forever and a ':' as something else: those are no absolute times
      const asAbsolute = times.filter((t) => t.length > 0 && !/^[+-]|^0x|:|\0/.test(t) && t !== 'always');
      fc.assert(fc.property(asAbsolute, (t) => {
        const r = typed(() => parseAbsoluteTime(t));
        assert.equal(r instanceof ParseError ? null : r, opensshAbsoluteTime(keys.ca, keys.pub, t), JSON.stringify(t));
      }), fuzzParams(10));
    } finally {
      tmp.cleanup();
    }
  });
});

/** An address and another spelling of it that getaddrinfo reads as the same bytes. */
const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const spelledV4 = fc.tuple(v4, fc.constantFrom('dec', 'hex', 'oct', 'two', 'one')).map(([[a, b, c, d], how]) => {
  const text = `${a}.${b}.${c}.${d}`;
  const spelled =
    how === 'hex' ? [a, b, c, d].map((x) => `0x${x.toString(16)}`).join('.')
    : how === 'oct' ? [a, b, c, d].map((x) => `0${x.toString(8)}`).join('.')
    : how === 'two' ? `${a}.${(b << 16) | (c << 8) | d}`
    : how === 'one' ? String(((a << 24) | (b << 16) | (c << 8) | d) >>> 0)
    : text;
  return { text, spelled };
});
const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).chain((w) => fc.constantFrom(0, 1, 2).map((how) => {
  const bytes = Buffer.alloc(16);
  w.forEach((x, i) => bytes.writeUInt16BE(i % 3 === 0 ? 0 : x, i * 2)); // zero runs for ::
  const text = formatIpAddress({ bytes, scope: '' });
  const words = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  const spelled = how === 0 ? words.map((x) => x.toString(16).padStart(4, '0')).join(':') : how === 1 ? words.map((x) => x.toString(16).toUpperCase()).join(':') : text;
  return { text, spelled };
}));

describe('from= address lists', () => {
  test('a negation spelled any way refuses that client (issue 9 item 4)', () => {
    fc.assert(fc.property(fc.oneof(spelledV4, v6), ({ text, spelled }) => {
      const client = canonicalAddress(text); // as sshd holds it (a mapped address becomes IPv4)
      fc.pre(client.includes(':') === text.includes(':')); // a v4-mapped spelling is IPv6 and never names an IPv4 client (item 13)
      assert.notEqual(typed(() => matchFromList(`*,!${spelled}`, client)), 'match', `${spelled} vs ${client}`);
      assert.equal(typed(() => matchFromList(`*,!${spelled}`, '192.0.2.1' === client ? '192.0.2.2' : '192.0.2.1')), 'match', 'control');
    }), fuzzParams(1000));
  });
  test('a v4-mapped block never admits an IPv4 client (prop--from-list)', () => {
    fc.assert(fc.property(v4, fc.integer({ min: 0, max: 128 }), ([a, b, c, d], bits) => {
      const r = typed(() => matchFromList(`::ffff:${a}.${b}.${c}.${d}/${bits}`, `${a}.${b}.${c}.${d}`));
      assert.ok(r === 'none' || r instanceof ParseError);
    }), fuzzParams(1000));
  });
  test('mutated lists: a verdict or a ParseError', () => {
    const lists = mutated(['10.0.0.0/8,!10.1.0.0/16', '*,!::1', '127.0.0.?,::ffff:1.2.3.4', 'fe80::1%lo,fe80::/10', '0x7f.1/32'], '0123456789abcdefx:./!,*?% -');
    fc.assert(fc.property(lists, fc.constantFrom('127.0.0.1', '::1', '10.1.2.3', '::ffff:10.1.2.3', 'fe80::1%lo'), (list, client) => {
      const r = typed(() => matchFromList(list, client));
      assert.ok(r instanceof ParseError || ['match', 'none', 'negated'].includes(r));
    }), fuzzParams(2000));
  });
});

/** A regular-expression oracle for match_pattern on bytes (latin1 strings: one char per byte). */
function globOracle(s: Buffer, p: Buffer): boolean {
  const re = [...p.toString('latin1')].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[\\^$.|+()[\]{}\-/]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test(s.toString('latin1'));
}

describe('pattern lists', () => {
  const bytes = fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b.map((x) => [0x61, 0x62, 0x2a, 0x3f, 0x2c, 0x21, 0x41, 0xc3, 0xa9, x][x % 10])));
  test('match_pattern equals the regular-expression oracle on bytes (NUL-free)', () => {
    fc.assert(fc.property(bytes, bytes, (s, p) => {
      const [S, P] = [s.filter((x) => x !== 0), p.filter((x) => x !== 0)].map((b) => Buffer.from(b));
      assert.equal(matchPattern(S, P), globOracle(S, P));
    }), fuzzParams(3000));
  });
  test('match_pattern_list: a verdict for any bytes, including NUL and 1023+ byte sub-patterns', () => {
    const big = fc.tuple(fc.nat(2000), fc.constantFrom('*', 'a', '?')).map(([n, c]) => c.repeat(n));
    fc.assert(fc.property(fc.oneof(bytes, fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))), fc.oneof(bytes, big.map((s) => Buffer.from(`x,${s},a`))), fc.boolean(), (s, list, fold) => {
      assert.ok(['match', 'none', 'negated'].includes(matchPatternListC(s, list, fold)));
    }), fuzzParams(1000));
  });
  test('cost is bilinear, not exponential: 1022-byte *a*a…b against 4 KiB of a', () => {
    const pattern = '*a'.repeat(510) + 'b';
    const t0 = process.hrtime.bigint();
    assert.equal(matchPattern('a'.repeat(4096), pattern), false);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e9 < 5, 'OpenSSH-style backtracking would not finish');
  });
});

describe('option grammar', () => {
  const options = mutated(['no-pty,command="echo \\"a, b\\"",from="*.x,!y"', 'restrict,pty', 'expiry-time="20300101",principals="a,b"', 'environment="A=b"'], '",=\\ -az!\t');
  test('parseOptions and authorized_keys lines: options or a ParseError', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOoP1hetgcI5nFvfMu13O267eqZH661Cj2MJqgMIlTE';
    fc.assert(fc.property(options, (o) => {
      typed(() => parseOptions(o));
      typed(() => parseAuthorizedKeysLine(`${o} ${key} comment`));
    }), fuzzParams(3000));
  });
});

describe('known_hosts and allowed_signers lines, against ssh-keygen', () => {
  const signer = makeSigner();
  after(signer.cleanup);
  const patterns = mutated(['host.example.com', '*.example.com,!bad.example.com', '[host]:2222', 'HOST,h?st', 'kex', '"q"'], 'hHkK*?!,[]:."\u212a\u00e9 \t');
  const hosts = fc.constantFrom('host.example.com', 'bad.example.com', 'host', '[host]:2222', 'kex', 'h"st', '\u00e9');
  test('known_hosts: a verdict or a ParseError; sampled: ssh-keygen -F agrees (≤ 10 runs)', () => {
    fc.assert(fc.property(patterns, hosts, (p, h) => {
      const r = typed(() => parseKnownHostsLine(`${p} ${signer.keyText}`, 1));
      if (!(r instanceof ParseError)) assert.equal(typeof hostMatches(r, h), 'boolean');
    }), fuzzParams(2000));
    const tmp = tempDir('sshkit-fuzz-kh-');
    try {
      fc.assert(fc.property(patterns.filter((p) => p.trim() !== '' && !p.startsWith('#') && !p.startsWith('@') && !p.startsWith('|')), hosts, (p, h) => {
        const line = `${p} ${signer.keyText}\n`;
        assert.equal(sshkitKnowsHost(line, h), opensshKnowsHost(tmp.dir, line, h), `${JSON.stringify(line)} ${h}`);
      }), fuzzParams(10));
    } finally {
      tmp.cleanup();
    }
  });
  const lines = mutated(
    ['alice@example.com KEY', '"alice@example.com" namespaces="file" KEY', 'a*,!bob cert-authority KEY', 'alice valid-after="20200101",valid-before="20991231Z" KEY', 'x"y z" KEY'],
    '"*?!,= \t#ab@\u00e9',
  ).map((l) => l.replace('KEY', signer.keyText));
  test('allowed_signers: a decision, never a throw; sampled: ssh-keygen -Y verify agrees (≤ 10 runs)', () => {
    fc.assert(fc.property(lines, (l) => {
      typed(() => parseAllowedSignersLine(l, 1, 'alice'));
      checkAllowedSigners(`${l}\n`, { key: signer.blob, principal: 'alice', namespace: 'file', now: 1_700_000_000 });
    }), fuzzParams(2000));
    fc.assert(fc.property(lines, fc.constantFrom('alice', 'alice@example.com', 'bob', 'xy z'), (l, id) => {
      assert.equal(signer.sshkitGrants(`${l}\n`, id), signer.opensshGrants(`${l}\n`, id), `${JSON.stringify(l)} -I ${id}`);
    }), fuzzParams(10));
  });
});

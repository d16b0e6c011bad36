/**
 * matchFromList (authorized_keys `from=`) against sshd 9.2's verdicts: the spelling table of
 * test/match-from-table.ts (re-checked against the real sshd by test/match-from-sshd.test.ts), the fuzz
 * findings addr--divergence-872943ba9d and prop--from-list (v4-mapped CIDR must not widen to IPv4,
 * issue 9 item 13), and the parsing rules of addr.c / glibc getaddrinfo behind them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addrMatchList, canonicalAddress, matchFromList, parseCidr, parseIpAddress } from '../src/core/addr.js';
import { ROOT } from './helpers.js';
import { CLIENTS, FROM_TABLE } from './match-from-table.js';

const FUZZ = join(ROOT, 'test/fixtures/fuzz');

function admits(list: string, client: string): boolean {
  try {
    return matchFromList(list, client) === 'match';
  } catch {
    return false; // invalid entry: sshd refuses the key (match_host_and_ip -1)
  }
}

describe('from= spelling table (verdicts of the real sshd)', () => {
  for (const [list, admitted] of FROM_TABLE) {
    test(`from="${list}"`, () => {
      for (const client of CLIENTS) assert.equal(admits(list, client), admitted.includes(client), `${client}`);
      // the same client as Node reports it on a dual-stack socket
      for (const client of CLIENTS.filter((c) => c.includes('.'))) assert.equal(admits(list, `::ffff:${client}`), admitted.includes(client), `::ffff:${client}`);
    });
  }
});

describe('fuzz findings', () => {
  test('addr--divergence-872943ba9d: ::ffff:10.0.0.0/8 is an inconsistent IPv6 block, never a grant', () => {
    const [client, list] = readFileSync(join(FUZZ, 'addr--divergence-872943ba9d.bin'), 'utf8').split('\n');
    assert.equal(client, '::ffff:10.1.2.3');
    assert.equal(list, '::ffff:10.0.0.0/8');
    assert.equal(admits(list, client), false);
    assert.equal(addrMatchList(canonicalAddress(client), list), -2, 'addr_match_list: inconsistent mask (host bits set in IPv6)');
    // control: the IPv4 block it was meant to be does admit the client
    assert.equal(admits('10.0.0.0/8', client), true);
  });

  test('prop--from-list: counterexample 10.0.0.0 vs ::ffff:10.0.0.0/10 is refused', () => {
    const m = /counterexample \[(.*)\]/.exec(readFileSync(join(FUZZ, 'prop--from-list.txt'), 'utf8'));
    const { ip, list } = JSON.parse(m![1]) as { ip: string; list: string };
    assert.equal(admits(list, ip), false);
    assert.equal(admits('10.0.0.0/10', ip), true, 'control');
  });

  test('issue 9 item 13: a consistent v4-mapped block (/104) matches only IPv6 clients', () => {
    assert.equal(admits('::ffff:10.0.0.0/104', '10.1.2.3'), false);
    assert.equal(admits('::ffff:10.0.0.0/104', '::ffff:10.1.2.3'), false, 'Node spelling of an IPv4 client');
    assert.equal(admits('10.0.0.0/8', '10.1.2.3'), true, 'control');
  });
});

describe('addr.c / glibc rules', () => {
  test('getaddrinfo(AI_NUMERICHOST) spellings (checked with python3 socket.getaddrinfo on glibc 2.36)', () => {
    const v4 = (s: string) => {
      const a = parseIpAddress(s);
      return a && a.bytes.length === 4 ? [...a.bytes].join('.') : null;
    };
    assert.equal(v4('127.1'), '127.0.0.1');
    assert.equal(v4('0x7f.1'), '127.0.0.1');
    assert.equal(v4('017.0.0.1'), '15.0.0.1');
    assert.equal(v4('4294967295'), '255.255.255.255');
    assert.equal(v4('127.16777215'), '127.255.255.255');
    for (const bad of ['4294967296', '127.16777216', '127.0.0.256', '127..1', '127.1.', ' 127.0.0.1', '127.0.0.1 ', '08', '0x', '1.2.3.4.5']) {
      assert.equal(parseIpAddress(bad), null, bad);
    }
    assert.equal(canonicalAddress('0000::0001'), '::1');
    assert.equal(canonicalAddress('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(canonicalAddress('0:0:0:0:0:0:1:2'), '::0.1.0.2', 'glibc inet_ntop');
    for (const bad of ['00000::1', '::ffff:127.1', '::ffff:127.0.0.01', '1::2::3', '1:2:3:4:5:6:7:8:9', '::1%', '::1%lo', '1:2:3:4:5:6:7:1.2.3.4']) {
      assert.equal(parseIpAddress(bad), null, bad);
    }
    assert.equal(parseIpAddress('fe80::1%lo')?.scope, 'lo');
  });

  test('CIDR parse results: -1 means wildcard, -2 means error', () => {
    assert.equal(parseCidr('127.0.0.0/129'), 'parse');
    assert.equal(parseCidr('127.0.0.0/'), 'parse');
    assert.equal(parseCidr('10.0.0.0/33'), 'inconsistent');
    assert.equal(parseCidr('10.1.2.3/8'), 'inconsistent');
    assert.equal(parseCidr(`${'0'.repeat(60)}::1`), 'parse', 'addrbuf[64]');
    assert.deepEqual(parseCidr('::/0'), { net: { bytes: Buffer.alloc(16), scope: '' }, bits: 0 });
  });

  test('errors throw (sshd refuses the key), negations before an error still negate', () => {
    assert.throws(() => matchFromList('127.0.0.1,', '127.0.0.1'));
    assert.throws(() => matchFromList('!', '127.0.0.1'));
    assert.equal(matchFromList('!127.0.0.1,10.0.0.0/33', '127.0.0.1'), 'negated');
    assert.throws(() => matchFromList('!127.0.0.1,10.0.0.0/33', '127.0.0.2'));
  });
});

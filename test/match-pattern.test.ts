/**
 * Regression tests for the pattern findings of issue 18 (test/fixtures/fuzz/pattern--*, the known_hosts
 * and allowed_signers diff-confirm--* and diff-allowed--*, options--*): each input is the committed
 * minimized one; the expected verdict is OpenSSH's, either as recorded in the finding (match.c on inputs
 * no tool can be fed: NUL bytes, empty subjects) or from the real ssh-keygen run here (-F, -Y verify).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../src/core/errors.js';
import { parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { matchHostname, matchPattern, matchPatternList, matchPatternListC, type ListMatch } from '../src/core/pattern.js';
import { ROOT, tempDir } from './helpers.js';
import { makeSigner, opensshKnowsHost, sshkitKnowsHost } from './match-openssh.js';

const FUZZ = join(ROOT, 'test/fixtures/fuzz');
const VERDICT: Record<string, ListMatch> = { '1': 'match', '0': 'none', '-1': 'negated' };

describe('pattern--divergence-* (match.c verdicts recorded by the differential run)', () => {
  for (const name of readdirSync(FUZZ).filter((f) => f.startsWith('pattern--') && f.endsWith('.txt'))) {
    const txt = readFileSync(join(FUZZ, name), 'utf8');
    // as the run did: the .bin decoded as UTF-8, subject before the first newline, the list after it
    const bin = readFileSync(join(FUZZ, name.replace(/\.txt$/, '.bin')), 'utf8');
    const nl = bin.indexOf('\n');
    const [subject, list] = nl < 0 ? ['', bin] : [bin.slice(0, nl), bin.slice(nl + 1)];
    test(`${name}: ${txt.match(/\(([^()]*)\): sshkit/)?.[1] ?? txt.match(/\(([^()]*)\) at/)?.[1]}`, () => {
      const list_ = /OpenSSH match_pattern_list (-?\d)/.exec(txt);
      if (list_) {
        const fold = txt.includes('matchPatternList(foldCase)');
        assert.equal(matchPatternList(subject, list, fold), VERDICT[list_[1]]);
      } else {
        assert.match(txt, /matchPattern: sshkit matches where OpenSSH match_pattern does not/);
        assert.equal(matchPattern(subject, list), false);
      }
    });
  }
  test('controls: the same shapes without the defect do match', () => {
    assert.equal(matchPatternList('', ','), 'match', 'an empty sub-pattern before a comma is tried');
    assert.equal(matchPatternList('', '!'), 'negated');
    assert.equal(matchPatternList('ab', `${'\t'.repeat(1022)},Ab`, true), 'match', '1022 bytes is still within sub[1024]');
    assert.equal(matchPatternList('ab', `${'\t'.repeat(1023)},Ab`, true), 'none');
    assert.equal(matchPattern(Buffer.from('a\xffc', 'latin1'), 'a?c'), true, '? is one byte');
    assert.equal(matchPattern('a\u00ffc', 'a??c'), true, 'U+00FF is two UTF-8 bytes');
    assert.equal(matchHostname('KEX', 'kex'), 'match', 'ASCII folds');
    assert.equal(matchPatternListC('KEX', 'kex', true), 'none', 'match_pattern_list folds patterns only');
  });
});

describe('known_hosts patterns: ssh-keygen -F is the oracle', () => {
  const tmp = tempDir('sshkit-kh-');
  after(tmp.cleanup);
  test('diff-confirm--1c4b341f18: KELVIN SIGN (U+212A) in a host pattern does not match k', () => {
    const line = readFileSync(join(FUZZ, 'diff-confirm--1c4b341f18.bin'));
    assert.equal(opensshKnowsHost(tmp.dir, line, 'kex.example.com'), false, 'ssh-keygen -F kex.example.com');
    assert.equal(sshkitKnowsHost(line, 'kex.example.com'), false);
    // control: the ASCII K pattern names the host, for both
    const ascii = Buffer.from(line.toString('utf8').replace('\u212a', 'K'));
    assert.equal(opensshKnowsHost(tmp.dir, ascii, 'kex.example.com'), true);
    assert.equal(sshkitKnowsHost(ascii, 'kex.example.com'), true);
  });
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMOoP1hetgcI5nFvfMu13O267eqZH661Cj2MJqgMIlTE';
  const table: Array<[string, string]> = [
    ['*.Example.COM,!bad.example.com', 'good.example.com'],
    ['*.Example.COM,!bad.example.com', 'bad.example.com'],
    ['GOOD.example.com', 'good.example.com'],
    [`${'x'.repeat(1022)},host`, 'host'],
    [`${'x'.repeat(1023)},host`, 'host'],
    [`host,${'x'.repeat(1023)}`, 'host'],
    ['h?st,', 'host'],
    ['!other,h*', 'host'],
    ['[host]:2222', '[host]:2222'],
    ['[h*]:2222', '[host]:2222'],
    ['\u00e9t\u00e9', '\u00e9t\u00e9'],
    ['\u00c9T\u00c9', '\u00e9t\u00e9'],
    ['ho"st', 'ho"st'], // host patterns end at a blank; quotes are ordinary bytes (hostfile.c)
    ['"host"', 'host'],
    ['"a b",host', 'host'],
  ];
  for (const [patterns, host] of table) {
    test(`${patterns.length > 40 ? patterns.slice(0, 12) + '…' + patterns.slice(-8) : patterns} vs ${host}`, () => {
      const line = `${patterns} ${key}\n`;
      assert.equal(sshkitKnowsHost(line, host), opensshKnowsHost(tmp.dir, line, host));
    });
  }
});

describe('allowed_signers: ssh-keygen -Y verify is the oracle', () => {
  const signer = makeSigner();
  after(signer.cleanup);
  const BLOB = 'AAAAC3NzaC1lZDI1NTE5AAAAIMOoP1hetgcI5nFvfMu13O267eqZH661Cj2MJqgMIlTE';
  /** A finding's file with its (unknown-private-key) ed25519 key replaced by our signer's. */
  const withOurKey = (name: string) => Buffer.from(readFileSync(join(FUZZ, name), 'latin1').replaceAll(`ssh-ed25519 ${BLOB}`, signer.keyText), 'latin1');
  const both = (allowed: Buffer | string, id: string) => [signer.sshkitGrants(allowed, id), signer.opensshGrants(allowed, id)];

  test('diff-allowed--098b5b7e0b: from="x",alice@… is the principal token from=x (strdelimw), so alice is not granted', () => {
    assert.deepEqual(both(withOurKey('diff-allowed--098b5b7e0b.bin'), 'alice@example.com'), [false, false]);
    assert.deepEqual(both(`alice@example.com ${signer.keyText}\n`, 'alice@example.com'), [true, true], 'control');
    assert.deepEqual(both(`from="x",alice@example.com ${signer.keyText}\n`, 'from=x'), [false, false], 'then ",alice@…" is a bad option');
    assert.deepEqual(both(`ab"c d" ${signer.keyText}\n`, 'abc d'), [true, true], 'a quote inside the token: the token is abc d');
  });
  test('diff-confirm--869e1b922e: principals compare as bytes (UTF-8 é is not latin1-decoded Ã©)', () => {
    const file = withOurKey('diff-confirm--869e1b922e.bin');
    assert.deepEqual(both(file, '\u00c3\u00a9@example.com'), [false, false]);
    assert.deepEqual(both(file, '\u00e9@example.com'), [true, true], 'control: the same bytes');
  });
  test('diff-confirm--87e94eda7d: valid-after="00990101" (year 99, before 1970) makes the line invalid', () => {
    const file = withOurKey('diff-confirm--87e94eda7d.bin');
    assert.deepEqual(both(file, 'alice@example.com'), [false, false]);
    const control = Buffer.from(file.toString('latin1').replace('00990101', '20000101'), 'latin1');
    assert.deepEqual(both(control, 'alice@example.com'), [true, true], 'control: valid-after="20000101"');
  });
  test('diff-confirm--fea37ab495 / options--divergence-a55f908d9e: an option named constructor is unknown', () => {
    const file = withOurKey('diff-confirm--fea37ab495.bin');
    assert.deepEqual(both(file, 'alice@example.com'), [false, false]);
    const opt = readFileSync(join(FUZZ, 'options--divergence-a55f908d9e.bin'), 'latin1');
    assert.deepEqual(both(`alice@example.com ${opt} ${signer.keyText}\n`, 'alice@example.com'), [false, false]);
    assert.deepEqual(both(`alice@example.com ${opt.replace('constructor', 'valid-after')} ${signer.keyText}\n`, 'alice@example.com'), [true, true], 'control');
  });
  test('options--divergence-e86a77a38d: authorized_keys option constructor is refused (sshd: unknown key option)', () => {
    const opt = readFileSync(join(FUZZ, 'options--divergence-e86a77a38d.bin'), 'latin1');
    assert.throws(() => parseAuthorizedKeysLine(`${opt} ${signer.keyText}`), ParseError);
    for (const proto of ['toString', '__proto__', 'hasOwnProperty', 'valueOf']) assert.throws(() => parseAuthorizedKeysLine(`${proto} ${signer.keyText}`), ParseError, proto);
    assert.equal(parseAuthorizedKeysLine(`no-pty ${signer.keyText}`).options.pty, false, 'control');
  });
});

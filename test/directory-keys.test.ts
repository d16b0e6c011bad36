/**
 * The parts of issue 17's directory-backed keys below the ssh tests (authorized-command.test.ts and
 * trusted-ca.test.ts drive the real servers): sshd's argv_split/percent_expand (misc.c) and principals
 * lines (auth2-pubkeyfile.c auth_check_principals_line) as tables whose expected values follow that
 * source; then AuthorizedCommand on a real script run as `nobody` — identical lookups at once share one
 * run, at most MAX_RUNNING_COMMANDS run together, a user name a command may not be given is never
 * passed (beside a name that is), the no-argument fallback passes the user; and the chained index
 * keeps sshd's order (file before CA before command).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { checkTokens, percentExpand, splitArgv } from '../src/core/command-line.js';
import { ParseError } from '../src/core/errors.js';
import { matchPrincipals, splitPrincipalsLine } from '../src/core/principals-file.js';
import { AuthorizedCommand, MAX_RUNNING_COMMANDS } from '../src/server/authorized-command.js';
import { ChainedIndex, withDirectoryKeys } from '../src/server/directory-keys.js';
import { Logger } from '../src/server/log.js';
import { openssh, tempDir } from './helpers.js';

describe('argv_split and percent_expand (misc.c)', () => {
  const SPLIT: Array<[string, string[]]> = [
    ['a b\tc', ['a', 'b', 'c']],
    ['  lead  trail  ', ['lead', 'trail']],
    ['"two words" x', ['two words', 'x']],
    ["it\\'s", ["it's"]],
    [`'a "b" c'`, ['a "b" c']],
    ['a\\ b', ['a b']],
    ['"a\\ b"', ['a\\ b']], // inside quotes a backslash before a space is kept
    ['a\\nb', ['a\\nb']], // an unknown escape keeps its backslash
    ['x"y z"w', ['xy zw']], // quotes may open and close mid-argument
    ['"say \\"hi\\""', ['say "hi"']],
    ['""', ['']],
    ['', []],
  ];
  for (const [text, want] of SPLIT) it(`splits ${JSON.stringify(text)}`, () => assert.deepEqual(splitArgv(text), want));
  for (const bad of ['"open', "it's", 'a "b']) {
    it(`refuses ${JSON.stringify(bad)} (unterminated quote)`, () => assert.throws(() => splitArgv(bad), ParseError));
  }

  it('expands tokens once, %% as %, and refuses unknown or dangling ones', () => {
    const v = new Map([
      ['u', 'al%uce'],
      ['h', '/home/x'],
    ]);
    assert.equal(percentExpand('%u:%h:%%u', v), 'al%uce:/home/x:%u');
    assert.throws(() => percentExpand('%z', v), /unknown token %z/);
    assert.throws(() => percentExpand('x%', v), ParseError);
    assert.deepEqual([...checkTokens('%u %f %%z', 'uf')], ['u', 'f']);
    assert.throws(() => checkTokens('%u %z', 'uf'), /unknown token %z/);
  });
});

describe('principals lines (auth_check_principals_line)', () => {
  const LINES: Array<[string, { principal: string; options: string } | null]> = [
    ['alice', { principal: 'alice', options: '' }],
    ['  alice  # comment', { principal: 'alice', options: '' }],
    ['from="1.2.3.4" alice', { principal: 'alice', options: 'from="1.2.3.4"' }],
    ['command="echo a b" alice', { principal: 'alice', options: 'command="echo a b"' }],
    ['restrict\talice', { principal: 'alice', options: 'restrict' }],
    ['# only a comment', null],
    ['ali#ce', { principal: 'ali', options: '' }], // `#` starts a comment anywhere
  ];
  for (const [line, want] of LINES) it(`splits ${JSON.stringify(line)}`, () => assert.deepEqual(splitPrincipalsLine(line), want));

  it('the first line naming a certificate principal decides; a bad options line is skipped and reported', () => {
    const text = 'ops\nno-such-option deploy\nfrom="10.0.0.1" deploy\ndeploy\n';
    const r = matchPrincipals(text, ['deploy', 'web']);
    assert.deepEqual(r.match, { line: 3, principal: 'deploy', options: 'from="10.0.0.1"' });
    assert.deepEqual(r.errors.map((e) => e.line), [2]);
    assert.equal(matchPrincipals(text, ['nobody-listed']).match, undefined, 'control: no principal, no match');
  });
});

describe('AuthorizedCommand (a real script, run as nobody)', () => {
  const dir = mkdtempSync('/run/sshkit-akc-unit-');
  const state = join(dir, 'state');
  const script = join(dir, 'keys.sh');
  const lines: string[] = [];
  const log = new Logger('text', (l) => lines.push(l));
  let pub = '';
  let blob: Buffer;
  const runLog = () => readFileSync(join(state, 'runs.log'), 'utf8').split('\n').filter(Boolean);

  before(() => {
    chmodSync(dir, 0o755);
    mkdirSync(state);
    chmodSync(state, 0o777); // nobody writes here; the script's own folder stays root's
    const key = join(dir, 'k');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
    pub = readFileSync(`${key}.pub`, 'utf8').trim();
    blob = Buffer.from(pub.split(' ')[1], 'base64');
    writeFileSync(join(dir, 'k.pub'), pub + '\n', { mode: 0o644 });
    writeFileSync(
      script,
      `#!/bin/sh\nS="$(dirname "$0")/state"\necho "$*" >> "$S/runs.log"\ntouch "$S/running.$$"\nls "$S" | grep -c '^running\\.' >> "$S/concurrency.log"\nsleep 0.3\nrm -f "$S/running.$$"\ncat "$(dirname "$0")/k.pub"\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(state, 'runs.log'), '', { mode: 0o666 });
    chmodSync(join(state, 'runs.log'), 0o666);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('identical lookups at once share one run', async () => {
    const ac = await AuthorizedCommand.create({ command: `${script} %u %f`, user: 'nobody', cacheSeconds: 0 }, log);
    const before = runLog().length;
    const got = await Promise.all(Array.from({ length: 6 }, () => ac.forKey('alice', blob)));
    assert.equal(runLog().length - before, 1);
    assert.equal(ac.counters.runs, 1);
    for (const index of got) assert.equal(index.lookup(blob).length, 1);
  });

  it(`at most ${MAX_RUNNING_COMMANDS} commands run at once; all of them run`, async () => {
    const ac = await AuthorizedCommand.create({ command: `${script} %u`, user: 'nobody', cacheSeconds: 0 }, log);
    writeFileSync(join(state, 'concurrency.log'), '');
    chmodSync(join(state, 'concurrency.log'), 0o666);
    const before = runLog().length;
    const got = await Promise.all(Array.from({ length: 10 }, (_, i) => ac.forKey(`user${i}`, blob)));
    assert.equal(runLog().length - before, 10);
    assert.ok(got.every((index) => index.size === 1));
    const seen = readFileSync(join(state, 'concurrency.log'), 'utf8').split('\n').filter(Boolean).map(Number);
    assert.equal(seen.length, 10);
    assert.ok(Math.max(...seen) <= MAX_RUNNING_COMMANDS, `running at once: ${seen.join(',')}`);
  });

  it('a user name that could read as an option or a filter is never passed; a plain one is', async () => {
    const ac = await AuthorizedCommand.create({ command: `${script} %u`, user: 'nobody', cacheSeconds: 0 }, log);
    const before = runLog().length;
    for (const name of ['-rf', '*)(uid=*', 'a b', '', 'x\ny']) assert.equal((await ac.forKey(name, blob)).size, 0, JSON.stringify(name));
    assert.equal(runLog().length, before, 'the command never ran');
    assert.equal((await ac.forKey('bob.smith@example', blob)).size, 1, 'control');
    assert.equal(runLog().at(-1), 'bob.smith@example');
  });

  it('withDirectoryKeys: the file index first, then the command; the stats count runs and reused answers', async () => {
    const file = parseAuthorizedKeys(`from="10.0.0.1" ${pub}\n`);
    const base = { perUser: false, forUser: async () => file, load: async () => file, reload: () => 0, keyCount: () => file.size, cacheStats: () => ({ files: 1, bytes: 0 }) };
    assert.equal(await withDirectoryKeys(base, {}, log), base, 'no flag: the file source itself');
    const src = await withDirectoryKeys(base, { authorizedCommand: { command: `${script} %u`, user: 'nobody', cacheSeconds: 60 } }, log);
    const index = await src.forKey!('dave', blob, 'ssh-ed25519');
    assert.deepEqual(index.lookup(blob).map((e) => e.options.from ?? null), ['10.0.0.1', null]);
    await src.forKey!('dave', blob, 'ssh-ed25519');
    assert.deepEqual((src.cacheStats() as { command?: unknown }).command, { runs: 1, hits: 1, failures: 0, cached: 1 });
  });

  it('with no argument the user name is the only one (sshd fallback)', async () => {
    const ac = await AuthorizedCommand.create({ command: script, user: 'nobody', cacheSeconds: 0 }, log);
    assert.deepEqual(ac.argvFor('carol', blob), [script, 'carol']);
    assert.equal((await ac.forKey('carol', blob)).size, 1);
    assert.equal(runLog().at(-1), 'carol');
  });
});

describe('ChainedIndex', () => {
  it('keeps the order of its parts (sshd: file, then CA, then command)', () => {
    const { dir, cleanup } = tempDir('sshkit-chain-');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]).status, 0);
    const pubLine = readFileSync(join(dir, 'k.pub'), 'utf8').trim();
    cleanup();
    const a = parseAuthorizedKeys(`from="10.0.0.1" ${pubLine}\n`);
    const b = parseAuthorizedKeys(`\n\nno-pty ${pubLine}\n`);
    const blob = Buffer.from(pubLine.split(' ')[1], 'base64');
    const chained = new ChainedIndex([a, b]);
    assert.deepEqual(chained.lookup(blob).map((e) => e.line), [1, 3]);
    assert.equal(chained.size, 2);
    assert.deepEqual(new ChainedIndex([b, a]).lookup(blob).map((e) => e.line), [3, 1]);
  });
});

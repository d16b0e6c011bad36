/**
 * sshkit-keygen on a terminal (issue 12: "prompting on a TTY as ssh-keygen does"): both tools run under
 * script(1), which gives them a pseudo-terminal as controlling terminal and stdin, so passphrases are
 * read from /dev/tty with echo off (readpassphrase(3)) rather than from stdin. Checked: the prompts
 * appear on the terminal in ssh-keygen's order, the typed passphrase is never echoed, the exit status
 * is ssh-keygen's, and ssh-keygen opens the key with that passphrase. Answers are typed when their
 * prompt shows (event-driven, no sleeps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keygenRun, SSHKIT_KEYGEN } from './keygen-compat-helper.js';
import { keygenFixtures } from './keygen-compat-fixtures.js';
import { testEnv } from './helpers.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * Runs `argv` under script(1) in a copy of the fixtures; each answer is typed once its prompt is on
 * the screen (readpassphrase flushes what was typed before it turned echo off, TCSAFLUSH).
 */
function onTerminal(which: 'openssh' | 'sshkit', argv: string[], answers: Array<[string, string]>): Promise<{ status: number | null; screen: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `kg-tty-${which}-`));
  cpSync(keygenFixtures(), dir, { recursive: true });
  const cmd = (which === 'openssh' ? ['ssh-keygen'] : [process.execPath, SSHKIT_KEYGEN]).concat(argv).map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: testEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
  let screen = '';
  let seen = 0; // how much of the screen earlier prompts used
  const todo = [...answers];
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString('utf8');
    const next = todo[0];
    const at = next ? screen.indexOf(next[0], seen) : -1;
    if (next && at >= 0) {
      seen = at + next[0].length;
      todo.shift();
      child.stdin.write(next[1]);
    }
  });
  const timer = setTimeout(() => child.kill(), 60_000); // a hang fails the test instead of stalling the suite
  return new Promise((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, screen, dir });
    });
  });
}

const PROMPTS = /Enter passphrase \(empty for no passphrase\): [\s\S]*Enter same passphrase again: [\s\S]*Your identification has been saved in k/;

test('tty: generation asks the passphrase twice on the terminal, without echo, as ssh-keygen', { skip: !hasScript && 'no script(1)' }, async () => {
  for (const which of ['openssh', 'sshkit'] as const) {
    const answers: Array<[string, string]> = [
      ['Enter passphrase (empty for no passphrase): ', 'tty-secret\n'],
      ['Enter same passphrase again: ', 'tty-secret\n'],
    ];
    const r = await onTerminal(which, ['-t', 'ed25519', '-C', 'c', '-f', 'k'], answers);
    assert.equal(r.status, 0, `${which}: ${r.screen}`);
    assert.match(r.screen, PROMPTS, which);
    assert.ok(!r.screen.includes('tty-secret'), `${which} echoed the passphrase`);
    const y = keygenRun('openssh', ['-y', '-P', 'tty-secret', '-f', 'k'], { cwd: r.dir });
    assert.equal(y.status, 0, `${which}'s key opens with the typed passphrase: ${y.stderr}`);
  }
});

test('tty: -y asks "Enter passphrase: " on the terminal; a wrong one is ssh-keygen\'s Load key error (control: right one works)', { skip: !hasScript && 'no script(1)' }, async () => {
  for (const which of ['openssh', 'sshkit'] as const) {
    const good = await onTerminal(which, ['-y', '-f', 'enc'], [['Enter passphrase: ', 'secret\n']]);
    assert.equal(good.status, 0, `${which}: ${good.screen}`);
    assert.match(good.screen, /Enter passphrase: [\s\S]*ssh-ed25519 AAAA\S+ enc/, which);
    const bad = await onTerminal(which, ['-y', '-f', 'enc'], [['Enter passphrase: ', 'wrong\n']]);
    assert.ok(!good.screen.includes('secret') && !bad.screen.includes('wrong'), `${which} echoed the passphrase`);
    assert.equal(bad.status, 255, which);
    assert.match(bad.screen, /Load key "enc": incorrect passphrase supplied to decrypt private key/, which);
  }
});

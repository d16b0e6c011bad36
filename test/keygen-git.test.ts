/**
 * git 2.39 SSH signing with `gpg.ssh.program=bin/sshkit-keygen` (issue 12), against the same run with
 * the real ssh-keygen: git runs `-Y sign -n git -f KEY.pub FILE` to sign, and `-Y find-principals … 
 * -Overify-time=…`, then `-Y verify … -Overify-time=…` (a known signer) or `-Y check-novalidate`
 * (an unknown one) to verify, parsing their output. Two repositories get the same commits and tag with
 * the same dates, one signed through each program: ed25519 signatures are deterministic, so the signed
 * objects — and so the commit and tag ids — must be identical. Then every object is verified through
 * both programs: `git verify-commit`/`verify-tag` status and `git log --format=%G?…` must agree, with
 * G for the allowed signer, U for a signer not in allowed_signers, and a tampered commit refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SSHKIT_KEYGEN } from './keygen-compat-helper.js';
import { tempDir, testEnv } from './helpers.js';

const { dir, cleanup } = tempDir('kg-git-');
const PROGRAMS = { openssh: 'ssh-keygen', sshkit: SSHKIT_KEYGEN } as const;
type Which = keyof typeof PROGRAMS;

const DATES = { GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z', GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z' };
const gitEnv = () => testEnv({ GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'me', GIT_AUTHOR_EMAIL: 'me@x', GIT_COMMITTER_NAME: 'me', GIT_COMMITTER_EMAIL: 'me@x', ...DATES });

function git(repo: string, program: string, args: string[], input = '') {
  const r = spawnSync('git', ['-c', `gpg.ssh.program=${program}`, ...args], { cwd: repo, input, env: gitEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function ok(repo: string, program: string, args: string[], input = ''): string {
  const r = git(repo, program, args, input);
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The objects each repository made: the signed commit, the stranger's commit, the tag, the tampered copy. */
const made = new Map<Which, { good: string; stranger: string; tag: string; tampered: string; repo: string }>();

before(() => {
  for (const [name, comment] of [['signer', 'me'], ['stranger', 'them']]) {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(dir, name)], { env: testEnv() });
    assert.equal(r.status, 0);
  }
  const pub = readFileSync(join(dir, 'signer.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'allowed'), `me@x ${pub}\n`);
  for (const which of Object.keys(PROGRAMS) as Which[]) {
    const repo = join(dir, which);
    mkdirSync(repo);
    const p = PROGRAMS[which];
    ok(repo, p, ['init', '-q', '-b', 'main']);
    for (const [k, v] of [['gpg.format', 'ssh'], ['user.signingkey', join(dir, 'signer.pub')], ['gpg.ssh.allowedSignersFile', join(dir, 'allowed')]]) ok(repo, p, ['config', k, v]);
    writeFileSync(join(repo, 'a'), 'a\n');
    ok(repo, p, ['add', 'a']);
    ok(repo, p, ['commit', '-q', '-S', '-m', 'signed by me']);
    const good = ok(repo, p, ['rev-parse', 'HEAD']).trim();
    ok(repo, p, ['tag', '-s', '-m', 'tag by me', 'v1']);
    const tag = ok(repo, p, ['rev-parse', 'v1']).trim();
    ok(repo, p, ['-c', `user.signingkey=${join(dir, 'stranger.pub')}`, 'commit', '-q', '-S', '--allow-empty', '-m', 'signed by a stranger']);
    const stranger = ok(repo, p, ['rev-parse', 'HEAD']).trim();
    const body = ok(repo, p, ['cat-file', 'commit', good]).replace('signed by me', 'signed by me, changed');
    const tampered = ok(repo, p, ['hash-object', '-t', 'commit', '-w', '--stdin'], body).trim();
    made.set(which, { good, stranger, tag, tampered, repo });
  }
});
after(cleanup);

describe('git 2.39 with gpg.ssh.program=bin/sshkit-keygen = git with ssh-keygen', () => {
  it('signing: the same commits and tag (deterministic ed25519 signatures, so identical ids)', () => {
    const a = made.get('openssh')!;
    const b = made.get('sshkit')!;
    assert.deepEqual({ good: b.good, stranger: b.stranger, tag: b.tag, tampered: b.tampered }, { good: a.good, stranger: a.stranger, tag: a.tag, tampered: a.tampered });
    assert.match(git(b.repo, SSHKIT_KEYGEN, ['cat-file', 'commit', b.good]).stdout, /gpgsig -----BEGIN SSH SIGNATURE-----/);
  });

  it('user.signingkey=key::… (git 2.39 writes it to a temporary file, no .pub suffix, no -U): signed through ssh-agent, the same commit id', async () => {
    const sock = join(dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      const add = spawnSync('ssh-add', ['-q', join(dir, 'signer')], { env: testEnv({ SSH_AUTH_SOCK: sock }), encoding: 'utf8' });
      assert.equal(add.status, 0, add.stderr);
      const literal = `key::${readFileSync(join(dir, 'signer.pub'), 'utf8').trim()}`;
      const ids = new Map<Which, string>();
      for (const which of Object.keys(PROGRAMS) as Which[]) {
        const repo = made.get(which)!.repo;
        const r = spawnSync('git', ['-c', `gpg.ssh.program=${PROGRAMS[which]}`, '-c', `user.signingkey=${literal}`, 'commit', '-q', '-S', '--allow-empty', '-m', 'through the agent'], {
          cwd: repo,
          env: { ...gitEnv(), SSH_AUTH_SOCK: sock },
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, `${which}: ${r.stderr}`);
        ids.set(which, ok(repo, PROGRAMS[which], ['rev-parse', 'HEAD']).trim());
        const v = git(repo, PROGRAMS[which], ['verify-commit', 'HEAD']);
        assert.equal(v.status, 0, v.stderr);
        ok(repo, PROGRAMS[which], ['reset', '-q', '--hard', 'HEAD~1']);
      }
      assert.equal(ids.get('sshkit'), ids.get('openssh'));
    } finally {
      agent.kill();
    }
  });

  for (const repoOf of Object.keys(PROGRAMS) as Which[]) {
    it(`verifying the objects signed through ${repoOf === 'sshkit' ? 'sshkit-keygen' : 'ssh-keygen'}: verify-commit, verify-tag and %G? agree`, () => {
      const o = made.get(repoOf)!;
      const results = new Map<Which, unknown>();
      for (const which of Object.keys(PROGRAMS) as Which[]) {
        const p = PROGRAMS[which];
        const v = (args: string[]) => {
          const r = git(o.repo, p, args);
          return { status: r.status, stderr: r.stderr };
        };
        results.set(which, {
          good: v(['verify-commit', o.good]),
          stranger: v(['verify-commit', o.stranger]),
          tampered: v(['verify-commit', o.tampered]),
          tag: v(['verify-tag', 'v1']),
          log: git(o.repo, p, ['log', '--format=%H %G? %GS %GK', o.stranger]).stdout,
          tamperedLog: git(o.repo, p, ['log', '-1', '--format=%G? %GS %GK', o.tampered]).stdout,
        });
      }
      const kit = results.get('sshkit') as Record<string, { status: number; stderr: string }> & { log: string; tamperedLog: string };
      assert.deepEqual(kit, results.get('openssh'));
      // and what they agree on is the right answer, not a shared failure
      assert.equal(kit.good.status, 0, kit.good.stderr);
      assert.match(kit.good.stderr, /^Good "git" signature for me@x with ED25519 key SHA256:/);
      assert.equal(kit.tag.status, 0, kit.tag.stderr);
      assert.notEqual(kit.stranger.status, 0);
      assert.notEqual(kit.tampered.status, 0);
      assert.match(kit.log, new RegExp(`^${o.stranger} U  SHA256:\\S+\\n${o.good} G me@x SHA256:\\S+\\n$`));
      assert.match(kit.tamperedLog, /^B /);
    });
  }
});

/**
 * `sshkit-keygen -Y …` against the real ssh-keygen 9.2 (issue 12), table-driven: every row runs the same
 * command line through `ssh-keygen` and `bin/sshkit-keygen` (keygen-compat-helper.ts runBoth, each in
 * its own copy of the same folder) and needs the same exit status, stdout and stderr, byte for byte, and
 * the same files left behind (ed25519 and RSA signatures are deterministic, so FILE.sig is byte-exact).
 * Each row also states the status ssh-keygen gives, so a refusal row is visibly a refusal, beside a
 * control row that succeeds on the same files. git 2.39's own invocations (GIT_TRACE: find-principals
 * and verify with `-Overify-time=`, check-novalidate, `-Y sign -n git -f KEY.pub FILE`) are rows too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { folderState, runBoth } from './keygen-compat-helper.js';
import { tempDir, testEnv } from './helpers.js';

const { dir: root, cleanup } = tempDir('kg-sig-');
const dir = join(root, 'files');
const agentDir = join(root, 'agent');
const sock = join(root, 'agent.sock');
let agent: ChildProcess | undefined;

/** Runs the real ssh-keygen in `cwd` for the setup (asserting success). */
function keygen(cwd: string, args: string[], input = ''): string {
  const r = spawnSync('ssh-keygen', args, { cwd, input, env: testEnv(), encoding: 'utf8' });
  assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const pubOf = (name: string) => readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ').slice(0, 2).join(' ');
const armor = (blob: Buffer) => `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64')}\n-----END SSH SIGNATURE-----\n`;

before(async () => {
  mkdirSync(dir);
  mkdirSync(agentDir);
  keygen(dir, ['-q', '-t', 'ed25519', '-N', '', '-C', 'me', '-f', 'k']);
  keygen(dir, ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa', '-f', 'r']);
  keygen(dir, ['-q', '-t', 'ecdsa', '-N', '', '-f', 'e']);
  keygen(dir, ['-q', '-t', 'ed25519', '-N', '', '-f', 'other']);
  keygen(dir, ['-q', '-t', 'ed25519', '-N', '', '-f', 'ca']);
  keygen(dir, ['-q', '-t', 'ed25519', '-N', 'pw', '-f', 'enc']);
  keygen(dir, ['-q', '-s', 'ca', '-I', 'cert', '-n', 'me@x,you@x', '-V', '20200101:20400101', 'k.pub']);
  writeFileSync(join(dir, 'm'), 'hello, world\n');
  writeFileSync(join(dir, 'n'), 'another message\n');
  keygen(dir, ['-Y', 'sign', '-f', 'k', '-n', 'file', 'm']);
  copyFileSync(join(dir, 'm.sig'), join(dir, 'k.sig'));
  rmSync(join(dir, 'm.sig'));
  writeFileSync(join(dir, 'git.sig'), keygen(dir, ['-Y', 'sign', '-f', 'k', '-n', 'git'], 'hello, world\n'));
  writeFileSync(join(dir, 'rsa.sig'), keygen(dir, ['-Y', 'sign', '-f', 'r', '-n', 'file'], 'hello, world\n'));
  writeFileSync(join(dir, 'ecdsa.sig'), keygen(dir, ['-Y', 'sign', '-f', 'e', '-n', 'file'], 'hello, world\n'));
  writeFileSync(join(dir, 'cert.sig'), keygen(dir, ['-Y', 'sign', '-f', 'k-cert.pub', '-n', 'file'], 'hello, world\n'));
  writeFileSync(join(dir, 'other.sig'), keygen(dir, ['-Y', 'sign', '-f', 'other', '-n', 'file'], 'hello, world\n'));
  const k = pubOf('k');
  writeFileSync(join(dir, 'allowed'), `me@x ${k}\nrsa@x ${pubOf('r')}\necdsa@x ${pubOf('e')}\n`);
  writeFileSync(
    join(dir, 'mixed'),
    `# comment\n\nbad line here\nold@x valid-before="20200101" ${k}\nlater@x valid-after="20300101" ${k}\nns@x namespaces="git" ${k}\nmulti@x,second@x ${k}\n`,
  );
  writeFileSync(join(dir, 'ca_allowed'), `*@x cert-authority ${pubOf('ca')}\n`);
  writeFileSync(join(dir, 'patterns'), `a*,b@x ${k}\nzz\n`);
  writeFileSync(join(dir, 'revoked'), `${k}\n`);
  writeFileSync(join(dir, 'krl_spec'), `${k}\n`);
  keygen(dir, ['-k', '-f', 'krl', 'krl_spec']);
  const good = Buffer.from(readFileSync(join(dir, 'k.sig'), 'utf8').split('\n').slice(1, -2).join(''), 'base64');
  writeFileSync(join(dir, 'junk.sig'), 'junk\n');
  writeFileSync(join(dir, 'short.sig'), armor(Buffer.from([0, 0, 0])));
  writeFileSync(join(dir, 'v2.sig'), armor(Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 2])])));
  writeFileSync(join(dir, 'cut.sig'), armor(good.subarray(0, 40)));
  writeFileSync(join(dir, 'b64.sig'), '-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n');
  writeFileSync(join(dir, 'nofooter.sig'), '-----BEGIN SSH SIGNATURE-----\nAAAA\n');
  mkdirSync(join(dir, 'folder'));
  // the agent folder: only public keys; the private halves live in ssh-agent
  for (const f of ['k.pub', 'r.pub', 'other.pub', 'm']) copyFileSync(join(dir, f), join(agentDir, f));
  agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(sock), 'ssh-agent did not create its socket');
  for (const key of ['k', 'r']) {
    const r = spawnSync('ssh-add', ['-q', join(dir, key)], { env: testEnv({ SSH_AUTH_SOCK: sock }), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});
after(() => {
  agent?.kill();
  cleanup();
});

const MSG = 'hello, world\n';
const T = '-Overify-time=20261201120000';

interface Row {
  readonly name: string;
  readonly args: string[];
  /** ssh-keygen 9.2's status for this row (0 for a control, non-zero for a refusal). */
  readonly status: number;
  readonly input?: string;
  /** Run in the agent folder with SSH_AUTH_SOCK (ssh-agent holds k and r). */
  readonly agent?: boolean;
}

const ROWS: Row[] = [
  // -Y sign: files → FILE.sig, stdin → stdout, hash algorithms, key forms, git's command line
  { name: 'sign a file (ed25519)', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', 'm'], status: 0 },
  { name: 'sign two files (rsa, rsa-sha2-512)', args: ['-Y', 'sign', '-f', 'r', '-n', 'file', 'm', 'n'], status: 0 },
  { name: 'sign stdin to stdout', args: ['-Y', 'sign', '-f', 'k', '-n', 'file'], status: 0, input: MSG },
  { name: 'sign - (stdin) sha256', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', '-O', 'hashalg=sha256', '-'], status: 0, input: MSG },
  { name: 'sign with HASHALG=sha512 (case-insensitive option)', args: ['-Y', 'sign', '-f', 'r', '-n', 'x', '-O', 'HASHALG=sha512', 'm'], status: 0 },
  { name: 'sign -f KEY.pub (private key beside it)', args: ['-Y', 'sign', '-n', 'git', '-f', 'k.pub', 'm'], status: 0 },
  { name: 'sign -f KEY-cert.pub carries the certificate', args: ['-Y', 'sign', '-f', 'k-cert.pub', '-n', 'file', 'm'], status: 0 },
  { name: 'sign -P with an encrypted key', args: ['-Y', 'sign', '-f', 'enc', '-P', 'pw', '-n', 'file', 'm'], status: 0 },
  { name: 'refused: wrong -P', args: ['-Y', 'sign', '-f', 'enc', '-P', 'nope', '-n', 'file', 'm'], status: 255 },
  { name: 'refused: hashalg=md5', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', '-O', 'hashalg=md5', 'm'], status: 255 },
  { name: 'refused: hashalg=md5, a missing file first (open fails before sign_one)', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', '-O', 'hashalg=md5', 'nosuch', 'm'], status: 255 },
  { name: 'refused: hashalg=md5 on stdin', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', '-O', 'hashalg=md5'], status: 255, input: MSG },
  { name: 'refused: unknown -O', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', '-O', 'print-pubkey', 'm'], status: 255 },
  { name: 'refused: missing file after a signed one', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', 'm', 'nosuch'], status: 255 },
  { name: 'refused: a folder', args: ['-Y', 'sign', '-f', 'k', '-n', 'file', 'folder'], status: 255 },
  { name: 'refused: no such key', args: ['-Y', 'sign', '-f', 'nosuch', '-n', 'file', 'm'], status: 255 },
  { name: 'refused: no private key for the .pub', args: ['-Y', 'sign', '-f', 'other.pub', '-n', 'file', 'm'], status: 255, agent: true },
  { name: 'refused: -n missing', args: ['-Y', 'sign', '-f', 'k', 'm'], status: 1 },
  { name: 'refused: -n empty', args: ['-Y', 'sign', '-f', 'k', '-n', '', 'm'], status: 1 },
  { name: 'refused: -f missing', args: ['-Y', 'sign', '-n', 'file', 'm'], status: 1 },
  { name: 'refused: -U without an agent', args: ['-Y', 'sign', '-f', 'k.pub', '-U', '-n', 'file', 'm'], status: 255 },
  { name: 'sign -Y signature (prefix of "sign" as strncmp)', args: ['-Y', 'signature', '-f', 'k', '-n', 'file', 'm'], status: 0 },
  // through ssh-agent: only KEY.pub on disk
  { name: 'agent: sign -f KEY.pub (ed25519)', args: ['-Y', 'sign', '-f', 'k.pub', '-n', 'git', 'm'], status: 0, agent: true },
  { name: 'agent: sign -U -f KEY.pub (rsa)', args: ['-Y', 'sign', '-U', '-f', 'r.pub', '-n', 'file', 'm'], status: 0, agent: true },
  { name: 'agent: sign stdin', args: ['-Y', 'sign', '-f', 'k.pub', '-n', 'file'], status: 0, input: MSG, agent: true },
  { name: 'agent refused: -U, key not in agent', args: ['-Y', 'sign', '-U', '-f', 'other.pub', '-n', 'file', 'm'], status: 255, agent: true },
  // -Y verify
  { name: 'verify good (ed25519)', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig'], status: 0, input: MSG },
  { name: 'verify good (rsa)', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'rsa@x', '-n', 'file', '-s', 'rsa.sig'], status: 0, input: MSG },
  { name: 'verify good (ecdsa)', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'ecdsa@x', '-n', 'file', '-s', 'ecdsa.sig'], status: 0, input: MSG },
  { name: 'verify -O print-pubkey', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig', '-O', 'print-pubkey'], status: 0, input: MSG },
  { name: 'verify a certificate signer (cert-authority)', args: ['-Y', 'verify', '-f', 'ca_allowed', '-I', 'me@x', '-n', 'file', '-s', 'cert.sig', T], status: 0, input: MSG },
  { name: 'refused: certificate principal not listed', args: ['-Y', 'verify', '-f', 'ca_allowed', '-I', 'them@x', '-n', 'file', '-s', 'cert.sig', T], status: 255, input: MSG },
  { name: 'refused: tampered message', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig'], status: 255, input: 'hello, World\n' },
  { name: 'refused: wrong namespace', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'git', '-s', 'k.sig'], status: 255, input: MSG },
  { name: 'refused: unknown principal', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'nobody', '-n', 'file', '-s', 'k.sig'], status: 255, input: MSG },
  { name: 'refused: signer not in allowed_signers', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'other.sig'], status: 255, input: MSG },
  { name: 'refused: expired line', args: ['-Y', 'verify', '-f', 'mixed', '-I', 'old@x', '-n', 'file', '-s', 'k.sig', T], status: 255, input: MSG },
  { name: 'refused: not yet valid line', args: ['-Y', 'verify', '-f', 'mixed', '-I', 'later@x', '-n', 'file', '-s', 'k.sig', T], status: 255, input: MSG },
  { name: 'control: verify-time inside valid-after', args: ['-Y', 'verify', '-f', 'mixed', '-I', 'later@x', '-n', 'file', '-s', 'k.sig', '-Overify-time=20310101'], status: 0, input: MSG },
  { name: 'refused: namespaces= excludes file', args: ['-Y', 'verify', '-f', 'mixed', '-I', 'ns@x', '-n', 'file', '-s', 'k.sig'], status: 255, input: MSG },
  { name: 'control: namespaces= allows git', args: ['-Y', 'verify', '-f', 'mixed', '-I', 'ns@x', '-n', 'git', '-s', 'git.sig'], status: 0, input: MSG },
  { name: 'refused: revoked (key list)', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig', '-r', 'revoked'], status: 255, input: MSG },
  { name: 'refused: revoked (KRL)', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig', '-r', 'krl'], status: 255, input: MSG },
  { name: 'control: -r KRL not listing the signer', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'rsa@x', '-n', 'file', '-s', 'rsa.sig', '-r', 'krl'], status: 0, input: MSG },
  { name: 'refused: -r missing file', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig', '-r', 'nosuch'], status: 255, input: MSG },
  { name: 'refused: allowed_signers missing', args: ['-Y', 'verify', '-f', 'nosuch', '-I', 'me@x', '-n', 'file', '-s', 'k.sig'], status: 255, input: MSG },
  { name: 'refused: signature missing', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'nosuch'], status: 255, input: MSG },
  { name: 'refused: bad verify-time', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig', '-O', 'verify-time=bad'], status: 255, input: MSG },
  { name: 'refused: not armored', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'junk.sig'], status: 255, input: MSG },
  { name: 'refused: blob too short', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'short.sig'], status: 255, input: MSG },
  { name: 'refused: version 2', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'v2.sig'], status: 255, input: MSG },
  { name: 'refused: truncated blob', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'cut.sig'], status: 255, input: MSG },
  { name: 'refused: bad base64', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'b64.sig'], status: 255, input: MSG },
  { name: 'refused: no footer', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'nofooter.sig'], status: 255, input: MSG },
  { name: 'refused: -I missing', args: ['-Y', 'verify', '-f', 'allowed', '-n', 'file', '-s', 'k.sig'], status: 1, input: MSG },
  { name: 'refused: -f missing', args: ['-Y', 'verify', '-I', 'me@x', '-n', 'file', '-s', 'k.sig'], status: 1, input: MSG },
  { name: 'refused: -s missing', args: ['-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file'], status: 1, input: MSG },
  { name: 'refused: unsupported -Y operation', args: ['-Y', 'bogus'], status: 1 },
  { name: 'quiet verify (-q)', args: ['-q', '-Y', 'verify', '-f', 'allowed', '-I', 'me@x', '-n', 'file', '-s', 'k.sig'], status: 0, input: MSG },
  // -Y check-novalidate
  { name: 'check-novalidate good', args: ['-Y', 'check-novalidate', '-n', 'file', '-s', 'other.sig'], status: 0, input: MSG },
  { name: 'refused: check-novalidate tampered', args: ['-Y', 'check-novalidate', '-n', 'file', '-s', 'other.sig'], status: 255, input: 'x' },
  { name: 'refused: check-novalidate -n missing', args: ['-Y', 'check-novalidate', '-s', 'other.sig'], status: 1, input: MSG },
  // -Y find-principals
  { name: 'find-principals', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'k.sig'], status: 0 },
  { name: 'find-principals: bad and refusing lines before the grant are logged', args: ['-Y', 'find-principals', '-f', 'mixed', '-s', 'k.sig', T], status: 0 },
  { name: 'find-principals: a certificate signer', args: ['-Y', 'find-principals', '-f', 'ca_allowed', '-s', 'cert.sig', T], status: 0 },
  { name: 'refused: find-principals unknown signer', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'other.sig'], status: 255 },
  { name: 'refused: find-principals after the certificate expired', args: ['-Y', 'find-principals', '-f', 'ca_allowed', '-s', 'cert.sig', '-Overify-time=20450101'], status: 255 },
  { name: 'refused: find-principals allowed_signers missing', args: ['-Y', 'find-principals', '-f', 'nosuch', '-s', 'k.sig'], status: 255 },
  { name: 'refused: find-principals bad blob', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'cut.sig'], status: 255 },
  { name: 'refused: find-principals version 2', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'v2.sig'], status: 255 },
  { name: 'refused: find-principals unknown -O', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'k.sig', '-O', 'bogus'], status: 255 },
  { name: 'refused: find-principals -s missing', args: ['-Y', 'find-principals', '-f', 'allowed'], status: 1 },
  // -Y match-principals
  { name: 'match-principals', args: ['-Y', 'match-principals', '-f', 'allowed', '-I', 'me@x'], status: 0 },
  { name: 'match-principals: a pattern line (printed as written)', args: ['-Y', 'match-principals', '-f', 'patterns', '-I', 'ab'], status: 0 },
  { name: 'refused: match-principals none (status 210)', args: ['-Y', 'match-principals', '-f', 'allowed', '-I', 'nobody'], status: 210 },
  { name: 'refused: match-principals bad matching line (252)', args: ['-Y', 'match-principals', '-f', 'patterns', '-I', 'zz'], status: 252 },
  { name: 'refused: match-principals missing file (232)', args: ['-Y', 'match-principals', '-f', 'nosuch', '-I', 'x'], status: 232 },
  { name: 'refused: match-principals -O (246)', args: ['-Y', 'match-principals', '-f', 'allowed', '-I', 'me@x', '-O', 'x'], status: 246 },
  // git 2.39's exact invocations (GIT_TRACE=1 git verify-commit / commit -S)
  { name: 'git: sign', args: ['-Y', 'sign', '-n', 'git', '-f', 'k.pub', 'm'], status: 0 },
  { name: 'git: find-principals -Overify-time', args: ['-Y', 'find-principals', '-f', 'allowed', '-s', 'git.sig', T], status: 0 },
  { name: 'git: verify -Overify-time', args: ['-Y', 'verify', '-n', 'git', '-f', 'allowed', '-I', 'me@x', '-s', 'git.sig', T], status: 0, input: MSG },
  { name: 'git refused: find-principals of an unknown signer', args: ['-Y', 'find-principals', '-f', 'ca_allowed', '-s', 'git.sig', T], status: 255 },
  { name: 'git: check-novalidate -Overify-time (the U case)', args: ['-Y', 'check-novalidate', '-n', 'git', '-s', 'git.sig', T], status: 0, input: MSG },
  { name: 'git refused: verify of a tampered object', args: ['-Y', 'verify', '-n', 'git', '-f', 'allowed', '-I', 'me@x', '-s', 'git.sig', T], status: 255, input: 'tampered\n' },
];

describe('sshkit-keygen -Y = ssh-keygen 9.2 -Y (same status, stdout, stderr, files)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const env = row.agent ? { SSH_AUTH_SOCK: sock } : undefined;
      const r = runBoth(row.agent ? agentDir : dir, row.args, { input: row.input ?? '', env });
      try {
        assert.equal(r.openssh.status, row.status, `ssh-keygen ${row.args.join(' ')}: ${r.openssh.stderr}`);
        assert.deepEqual(
          { status: r.sshkit.status, stdout: r.sshkit.stdout, stderr: r.sshkit.stderr },
          { status: r.openssh.status, stdout: r.openssh.stdout, stderr: r.openssh.stderr },
        );
        assert.deepEqual(folderState(r.dirs.sshkit), folderState(r.dirs.openssh));
      } finally {
        rmSync(r.dirs.openssh, { recursive: true, force: true });
        rmSync(r.dirs.sshkit, { recursive: true, force: true });
      }
    });
  }

  it("an existing FILE.sig: ssh-keygen's overwrite question, answered y and n", () => {
    writeFileSync(join(dir, 'n.sig'), 'old\n');
    try {
      for (const answer of ['y\n', 'n\n', '']) {
        const r = runBoth(dir, ['-Y', 'sign', '-f', 'k', '-n', 'file', 'n'], { input: answer });
        assert.deepEqual(r.sshkit, r.openssh, `answer ${JSON.stringify(answer)}`);
        assert.deepEqual(folderState(r.dirs.sshkit), folderState(r.dirs.openssh));
        const written = readFileSync(join(r.dirs.sshkit, 'n.sig'), 'utf8');
        assert.equal(written.startsWith('-----BEGIN SSH SIGNATURE-----'), answer === 'y\n');
        rmSync(r.dirs.openssh, { recursive: true, force: true });
        rmSync(r.dirs.sshkit, { recursive: true, force: true });
      }
    } finally {
      rmSync(join(dir, 'n.sig'));
    }
  });

  it('an ECDSA signature (random k, so checked by the other tool): ssh-keygen -Y verify accepts what sshkit-keygen signed', () => {
    const r = runBoth(dir, ['-Y', 'sign', '-f', 'e', '-n', 'file', 'm']);
    assert.equal(r.sshkit.status, 0, r.sshkit.stderr);
    assert.deepEqual({ stdout: r.sshkit.stdout, stderr: r.sshkit.stderr }, { stdout: r.openssh.stdout, stderr: r.openssh.stderr });
    for (const [input, want] of [[MSG, 0], ['tampered\n', 255]] as const) {
      const v = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'ecdsa@x', '-n', 'file', '-s', join(r.dirs.sshkit, 'm.sig')], { input, env: testEnv(), encoding: 'utf8' });
      assert.equal(v.status, want, v.stdout + v.stderr);
    }
    rmSync(r.dirs.openssh, { recursive: true, force: true });
    rmSync(r.dirs.sshkit, { recursive: true, force: true });
  });

  it('a signature sshkit-keygen made through the agent verifies with ssh-keygen -Y verify', () => {
    const r = runBoth(agentDir, ['-Y', 'sign', '-f', 'r.pub', '-n', 'file', 'm'], { env: { SSH_AUTH_SOCK: sock } });
    assert.equal(r.sshkit.status, 0, r.sshkit.stderr);
    const v = spawnSync('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', 'rsa@x', '-n', 'file', '-s', join(r.dirs.sshkit, 'm.sig')], {
      input: MSG,
      env: testEnv(),
      encoding: 'utf8',
    });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^Good "file" signature for rsa@x with RSA key SHA256:/);
    rmSync(r.dirs.openssh, { recursive: true, force: true });
    rmSync(r.dirs.sshkit, { recursive: true, force: true });
  });
});

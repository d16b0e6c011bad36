/**
 * What `serve` reads at login (authorized_keys, --passwords) must never hang it and must be trusted only
 * as sshd trusts it: a FIFO denies; StrictModes gives the real sshd's verdict (sshd -o StrictModes=yes,
 * same folders, same modes, same reason text) on a table of file and folder modes; the --passwords file
 * gets the same care; a --passwords line above the scrypt cap is refused with its file:line, the others
 * keep working (fuzz finding scale--passwords-scrypt-cost).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { parsePasswordFile, withinCap } from '../src/core/passwords.js';

const tmp = tempDir('sshkit-serve-files-');
const key = join(tmp.dir, 'id');
before(() => assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'files', '-f', key]).status, 0));
after(() => tmp.cleanup());

test('a FIFO at the authorized path denies every key and leaves the server responsive', async () => {
  const fifo = join(tmp.dir, 'authorized_fifo');
  execFileSync('mkfifo', [fifo]);
  const good = join(tmp.dir, 'good_keys');
  writeFileSync(good, readFileSync(key + '.pub'));
  const srv = await startServer({ args: ['--authorized', join(tmp.dir, '%u')] });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await sshRun(srv.port, { key, user: 'authorized_fifo', command: 'whoami' });
      assert.equal(r.status, 255);
      assert.match(r.stderr, /Permission denied/);
    }
    await srv.waitForLog(/authorized-keys-refused .*reason="?\S+authorized_fifo is not a regular file/);
    const ok = await sshRun(srv.port, { key, user: 'good_keys', command: 'whoami' }); // control: same server, a good file
    assert.equal(ok.stdout, 'good_keys\n', ok.stderr);
  } finally {
    await srv.stop();
  }
});

/** Waits until `logs()` holds a line after `from` that matches `re`; resolves with the match or null. */
async function logAfter(logs: () => string, from: number, re: RegExp, ms = 3000): Promise<RegExpExecArray | null> {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(logs().slice(from));
    if (m || Date.now() > until) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('StrictModes: the real sshd\'s verdict on the same folder and file modes', () => {
  // sshd walks up to the login user's home (pw_dir): the folders live under root's real home, and the
  // sshkit server gets that home as HOME, so both stop at the same folder.
  const home = userInfo().homedir;
  const NOBODY = 65534;
  let base: string, dirA: string, dirB: string, file: string, target: string;
  let sshd: StartedSshd;
  let srv: StartedServer;

  before(async () => {
    base = mkdtempSync(join(home, '.sshkit-strictmodes-'));
    dirA = join(base, 'a');
    dirB = join(dirA, 'b');
    file = join(dirB, 'authorized_keys');
    target = join(base, 'real_keys');
    mkdirSync(dirB, { recursive: true });
    writeFileSync(target, readFileSync(key + '.pub'), { mode: 0o600 });
    sshd = await startSshd({ args: ['-o', 'StrictModes=yes', '-o', `AuthorizedKeysFile ${file}`] });
    srv = await startServer({ args: ['--authorized', file], env: { HOME: home } });
  });
  after(async () => {
    await sshd?.stop();
    await srv?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** Every folder root's 0755 (base 0700), the file a root-owned 0600 copy of the key. */
  const reset = () => {
    rmSync(file, { force: true });
    writeFileSync(file, readFileSync(key + '.pub'), { mode: 0o600 });
    for (const p of [base, dirA, dirB, file]) chownSync(p, 0, 0);
    chmodSync(base, 0o700);
    chmodSync(dirA, 0o755);
    chmodSync(dirB, 0o755);
    chmodSync(file, 0o600);
  };

  /** One login each against sshd and sshkit; their verdicts and refusal reasons. */
  const verdicts = async () => {
    const user = userInfo().username;
    const s0 = sshd.logs().length;
    const a = await sshRun(sshd.port, { key, user, command: 'true' });
    const sshdWhy = a.status === 0 ? null : ((await logAfter(sshd.logs, s0, /Authentication refused: (.*)/))?.[1] ?? '(no reason logged)');
    const k0 = srv.logs().length;
    const b = await sshRun(srv.port, { key, user, command: 'whoami' });
    const oursWhy = b.status === 0 ? null : ((await logAfter(srv.logs, k0, /authorized-keys-refused file=\S+ reason="([^"]*)"/))?.[1] ?? '(no reason logged)');
    return { sshd: a.status === 0 ? 'accept' : 'refuse', sshkit: b.status === 0 ? 'accept' : 'refuse', sshdWhy, oursWhy };
  };

  const DEBIAN = "Debian's sshd (patch user-group-modes) accepts group-writable when the group's only member is the owner; sshkit refuses, as upstream OpenSSH";
  const cases: Array<{ name: string; set: () => void; differs?: { why: string; sshd: string; sshkit: string } }> = [
    { name: 'file 0644 (world-readable is fine)', set: () => chmodSync(file, 0o644) },
    { name: 'file 0620, group nogroup (group-writable)', set: () => (chownSync(file, 0, NOBODY), chmodSync(file, 0o620)) },
    { name: 'file 0602 (world-writable)', set: () => chmodSync(file, 0o602) },
    { name: 'file owned by nobody', set: () => chownSync(file, NOBODY, 0) },
    { name: 'file root-owned, group nogroup, 0640', set: () => (chownSync(file, 0, NOBODY), chmodSync(file, 0o640)) },
    { name: 'parent folder 0775, group nogroup (group-writable)', set: () => (chownSync(dirB, 0, NOBODY), chmodSync(dirB, 0o775)) },
    { name: 'parent folder 0757 (world-writable)', set: () => chmodSync(dirB, 0o757) },
    { name: 'parent folder owned by nobody, 0755', set: () => chownSync(dirB, NOBODY, 0) },
    { name: 'grandparent folder owned by nobody', set: () => chownSync(dirA, NOBODY, NOBODY) },
    { name: 'folder just below home 0770, group nogroup', set: () => (chownSync(base, 0, NOBODY), chmodSync(base, 0o770)) },
    { name: 'parent folder root-owned, group nogroup, 0750', set: () => (chownSync(dirB, 0, NOBODY), chmodSync(dirB, 0o750)) },
    { name: 'file 0620, group root (its only member is the owner)', set: () => chmodSync(file, 0o620), differs: { why: DEBIAN, sshd: 'accept', sshkit: 'refuse' } },
    { name: 'parent folder 0775, group root (its only member is the owner)', set: () => chmodSync(dirB, 0o775), differs: { why: DEBIAN, sshd: 'accept', sshkit: 'refuse' } },
    {
      name: 'parent folder sticky 1777 (as /tmp)',
      set: () => chmodSync(dirB, 0o1777),
      differs: { why: 'sshkit accepts a sticky root-owned folder: nobody else can rename or remove what it holds', sshd: 'refuse', sshkit: 'accept' },
    },
    {
      name: 'file is a symlink to a safe file',
      set: () => (unlinkSync(file), symlinkSync(target, file)),
      differs: { why: 'sshkit opens with O_NOFOLLOW: a symlinked authorized file is refused', sshd: 'accept', sshkit: 'refuse' },
    },
  ];

  test('control: 0700/0755 folders and a 0600 file are accepted by both', async () => {
    reset();
    const v = await verdicts();
    assert.deepEqual([v.sshd, v.sshkit], ['accept', 'accept'], JSON.stringify(v));
  });

  for (const c of cases) {
    test(`${c.name}: sshkit gives sshd's verdict${c.differs ? ' (except: documented difference)' : ''}`, async () => {
      reset();
      const control = await verdicts(); // the same folders, before the change: both let the key in
      assert.deepEqual([control.sshd, control.sshkit], ['accept', 'accept'], JSON.stringify(control));
      c.set();
      const v = await verdicts();
      if (c.differs) {
        // a deliberate difference (README): check both sides, so the test notices if either changes
        assert.deepEqual({ sshd: v.sshd, sshkit: v.sshkit }, { sshd: c.differs.sshd, sshkit: c.differs.sshkit }, `${c.differs.why}; got ${JSON.stringify(v)}`);
        return;
      }
      assert.equal(v.sshkit, v.sshd, JSON.stringify(v));
      assert.equal(v.oursWhy, v.sshdWhy, 'the refusal names what sshd names'); // both null when accepted
      if (v.sshd === 'refuse') assert.match(v.sshdWhy!, /^bad ownership or modes for (file|directory) \//);
    });
  }
});

describe('--passwords: the same care, and a cap on the scrypt cost', () => {
  const pwLine = (user: string, password: string) => {
    const r = sshkit(['passwd', user], { input: `${password}\n` });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  /** The largest cost the first release accepted (ln ≤ 20, r ≤ 32, p ≤ 16): 6 s and ≥ 1 GiB per check. */
  const HUGE = '$scrypt$ln=20,r=32,p=16$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const askpass = () => {
    const p = join(tmp.dir, 'askpass');
    writeFileSync(p, '#!/bin/sh\necho "$SSHKIT_TEST_PASSWORD"\n', { mode: 0o755 });
    return p;
  };
  const login = (port: number, user: string, password: string) =>
    sshRun(port, {
      user,
      command: 'whoami',
      batch: false,
      extra: ['-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1'],
      env: { SSH_ASKPASS: askpass(), SSH_ASKPASS_REQUIRE: 'force', SSHKIT_TEST_PASSWORD: password },
    });

  test('parse: a line above the cap is refused with its line number; the file\'s other lines and the dummy cost stay in bounds', () => {
    const good = pwLine('carol', 'pw');
    const f = parsePasswordFile(`${good}\nmallory:${HUGE}\nmax:$scrypt$ln=17,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n`);
    assert.deepEqual([...f.users.keys()], ['carol']);
    assert.deepEqual(f.errors.map((e) => e.line), [2, 3]);
    assert.match(f.errors[0].message, /scrypt cost ln=20,r=32,p=16 above the cap/);
    // a file of nothing but over-cap lines must not make the unknown-user dummy check expensive
    const only = parsePasswordFile(`a:${HUGE}\nb:${HUGE}\n`);
    assert.equal(only.users.size, 0);
    assert.ok(withinCap(only.dummyCost!), JSON.stringify(only.dummyCost));
    // control: the highest costs within the cap still parse (64 MiB; 4x the default work)
    const edge = parsePasswordFile('x:$scrypt$ln=16,r=8,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n');
    assert.deepEqual(edge.errors, []);
  });

  test('serve: the over-cap line is logged as file:line and refused, the other users log in', async () => {
    const file = join(tmp.dir, 'passwords-cap');
    writeFileSync(file, `${pwLine('carol', 'right')}\nmallory:${HUGE}\n${pwLine('dave', 'other')}\n`);
    const srv = await startServer({ args: ['--authorized', join(tmp.dir, 'none'), '--passwords', file] });
    try {
      await srv.waitForLog(/passwords-error file=\S+passwords-cap line=2 reason="scrypt cost ln=20,r=32,p=16 above the cap/);
      const ok = await login(srv.port, 'carol', 'right');
      assert.equal(ok.stdout, 'carol\n', ok.stderr);
      assert.equal((await login(srv.port, 'mallory', 'anything')).status, 255);
      assert.equal((await login(srv.port, 'nosuchuser', 'anything')).status, 255);
      assert.equal((await login(srv.port, 'dave', 'other')).stdout, 'dave\n');
    } finally {
      await srv.stop();
    }
  });

  test('serve: a world-writable or foreign-owned --passwords file is refused (StrictModes); the fixed file works', async () => {
    const dir = mkdtempSync(join(tmp.dir, 'pw-'));
    const file = join(dir, 'passwords');
    writeFileSync(file, `${pwLine('carol', 'right')}\n`, { mode: 0o600 });
    chmodSync(file, 0o666);
    const srv = await startServer({ args: ['--authorized', join(tmp.dir, 'none'), '--passwords', file] });
    try {
      assert.equal((await login(srv.port, 'carol', 'right')).status, 255);
      await srv.waitForLog(/passwords-refused file=\S+ reason="bad ownership or modes for file \S+passwords" effect="all passwords denied"/);
      chmodSync(file, 0o600); // control: the same file with sane modes
      assert.equal((await login(srv.port, 'carol', 'right')).stdout, 'carol\n');
      chownSync(file, 65534, 65534);
      assert.equal((await login(srv.port, 'carol', 'right')).status, 255);
      await srv.waitForLog(/passwords-refused file=\S+ reason="bad ownership or modes for file/);
    } finally {
      await srv.stop();
    }
  });
});

/**
 * `sshkit serve --authorized-command` (issue 17) against the real OpenSSH: one shell script, run by
 * sshkit and by sshd 9.2 (`AuthorizedKeysCommand SCRIPT %u %f %t %k "two words" it\'s` with
 * `AuthorizedKeysCommandUser nobody`), records its argument vector and its user, and prints what a
 * `mode` file says (the key, another key, the key with from=/expiry-time=, a bad line, exit 3, …).
 * Both servers get the same script and mode; their verdicts and recorded argv must agree. sshkit-only
 * cases (timeout, output cap, unrunnable program, cache, start refusals) each sit beside a passing
 * control on the same server. Runs as root (the script runs as `nobody`); the script's folder is under
 * /run, because sshd refuses a command below a world-writable folder such as /tmp.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openssh, runAsync, SSHKIT, testEnv } from './helpers.js';
import { sshArgs, sshRun, startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';

const SCRIPT = `#!/bin/sh
D="$(dirname "$0")"
printf '%s %s %s\\n' "$(id -un)" "$#" "$*" >> "$D/argv.log"
K="$(cat "$D/id_user.pub")"
case "$(cat "$D/mode")" in
  ok) echo "$K" ;;
  other) cat "$D/other.pub" ;;
  fail) echo "$K"; exit 3 ;;
  signal) echo "$K"; kill -9 $$ ;;
  from-ok) echo "from=\\"127.0.0.1\\" $K" ;;
  from-no) echo "from=\\"10.9.9.9\\" $K" ;;
  expired) echo "expiry-time=\\"20200101\\" $K" ;;
  badline) echo "this is not a key"; echo "$K" ;;
  offered) echo "$3 $4" ;;
  ca) echo "cert-authority $(cat "$D/ca.pub")" ;;
  ca-deploy) echo "cert-authority,principals=\"deploy\" $(cat "$D/ca.pub")" ;;
  slow) sleep 37; echo "$K" ;;
  big) echo "$K"; yes '# padding line' | head -c 1100000 ;;
  almost) echo "$K"; yes '# padding line' | head -c 900000 ;;
esac
exit 0
`;

describe('--authorized-command, beside sshd AuthorizedKeysCommand', () => {
  const dir = mkdtempSync('/run/sshkit-akc-');
  const script = join(dir, 'akc.sh');
  const key = join(dir, 'id_user');
  const command = `${script} %u %f %t %k "two words" it\\'s`;
  let fp = '';
  let sshd: StartedSshd;
  let srv: StartedServer;
  let user = '';
  const setMode = (m: string) => writeFileSync(join(dir, 'mode'), m + '\n');
  const runs = () => readFileSync(join(dir, 'argv.log'), 'utf8').split('\n').filter(Boolean);
  const loginSshkit = (s: StartedServer = srv) => sshRun(s.port, { key, user, command: 'echo logged-in' });
  const loginSshd = () => runAsync('ssh', sshArgs(sshd.port, { key, user, command: 'echo logged-in' }));

  before(async () => {
    chmodSync(dir, 0o755);
    for (const k of [key, join(dir, 'other')]) {
      const r = openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'akc-test', '-f', k]);
      assert.equal(r.status, 0, r.stderr);
    }
    writeFileSync(script, SCRIPT, { mode: 0o755 });
    writeFileSync(join(dir, 'argv.log'), '');
    chmodSync(join(dir, 'argv.log'), 0o666);
    writeFileSync(join(dir, 'authorized_keys'), '', { mode: 0o600 });
    setMode('ok');
    // the expected %f: what ssh-keygen -l prints for the key
    fp = openssh('ssh-keygen', ['-l', '-f', `${key}.pub`]).stdout.split(' ')[1];
    sshd = await startSshd({ config: [`AuthorizedKeysCommand ${command}`, 'AuthorizedKeysCommandUser nobody'] });
    user = sshd.user;
    srv = await startServer({
      args: ['--authorized', join(dir, 'authorized_keys'), '--authorized-command', command, '--authorized-command-user', 'nobody', '--authorized-command-cache', '0'],
    });
  });
  after(async () => {
    await srv?.stop();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the tokens reach the command as sshd passes them (argv recorded), run as nobody', async () => {
    setMode('ok');
    const before = runs().length;
    const a = await loginSshd();
    assert.equal(a.status, 0, a.stderr + sshd.logs());
    const fromSshd = runs().slice(before);
    const b = await loginSshkit();
    assert.equal(b.status, 0, b.stderr + srv.logs());
    assert.equal(b.stdout, 'logged-in\n');
    const fromSshkit = runs().slice(before + fromSshd.length);
    const blob = readFileSync(`${key}.pub`, 'utf8').split(' ')[1];
    const expected = `nobody 6 ${user} ${fp} ssh-ed25519 ${blob} two words it's`;
    assert.equal(fromSshd.at(-1), expected, 'sshd 9.2 recorded this argv');
    assert.equal(fromSshkit.at(-1), expected, 'sshkit recorded the same argv');
  });

  it('a harder command line (quotes, escapes, %% and tokens inside quotes) splits and expands as sshd does', async () => {
    const tricky = `${script} 'single %u' "a\\"b" x\\ y %%u pre%u"post %t" '' tail`;
    const d = await startSshd({ config: [`AuthorizedKeysCommand ${tricky}`, 'AuthorizedKeysCommandUser nobody'] });
    const k = await startServer({ args: ['--authorized', join(dir, 'authorized_keys'), '--authorized-command', tricky, '--authorized-command-user', 'nobody'] });
    try {
      setMode('ok');
      const before = runs().length;
      assert.equal((await runAsync('ssh', sshArgs(d.port, { key, user, command: 'echo logged-in' }))).status, 0, d.logs());
      const fromSshd = runs().slice(before).at(-1);
      const mid = runs().length;
      assert.equal((await sshRun(k.port, { key, user, command: 'echo logged-in' })).status, 0, k.logs());
      const fromSshkit = runs().slice(mid).at(-1);
      assert.ok(fromSshd && /^nobody 7 /.test(fromSshd), `sshd recorded ${fromSshd}`);
      assert.equal(fromSshkit, fromSshd);
    } finally {
      await k.stop();
      await d.stop();
    }
  });

  // mode → what sshd 9.2 answers decides what sshkit must answer (both print `logged-in` or refuse)
  const CASES = ['ok', 'other', 'fail', 'signal', 'from-ok', 'from-no', 'expired', 'badline', 'offered'];
  it(`same verdicts as sshd for: ${CASES.join(', ')}`, async () => {
    const verdicts: string[] = [];
    for (const mode of CASES) {
      setMode(mode);
      const [a, b] = await Promise.all([loginSshd(), loginSshkit()]);
      verdicts.push(`${mode}:${a.status}`);
      assert.equal(b.status, a.status, `${mode}: sshd exit ${a.status}, sshkit exit ${b.status}\n${b.stderr}`);
    }
    // the cases are not all one answer: some log in, some are refused (else the comparison proves nothing)
    assert.ok(verdicts.includes('ok:0') && verdicts.includes('fail:255') && verdicts.includes('from-no:255') && verdicts.includes('from-ok:0'), verdicts.join(' '));
  });

  it('a cert-authority line from the command admits a certificate as sshd does (principals= honoured)', async () => {
    const cert = join(dir, 'id_cert');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]).status, 0);
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', cert]).status, 0);
    const signed = openssh('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', 'akc', '-n', user, `${cert}.pub`]);
    assert.equal(signed.status, 0, signed.stderr);
    const withCert = (port: number) => runAsync('ssh', sshArgs(port, { key: cert, user, command: 'echo logged-in', extra: ['-o', `CertificateFile=${cert}-cert.pub`] }));
    const verdicts: string[] = [];
    for (const mode of ['ca', 'ca-deploy', 'ok']) {
      setMode(mode);
      const [a, b] = await Promise.all([withCert(sshd.port), withCert(srv.port)]);
      verdicts.push(`${mode}:${a.status}`);
      assert.equal(b.status, a.status, `${mode}: sshd exit ${a.status}, sshkit exit ${b.status}\n${srv.logs().split('\n').slice(-5).join('\n')}`);
    }
    assert.deepEqual(verdicts, ['ca:0', 'ca-deploy:255', 'ok:255'], 'sshd 9.2 answered this');
  });

  it('a failing command is logged; a bad line is logged with its number and the rest still works', async () => {
    setMode('fail');
    assert.equal((await loginSshkit()).status, 255);
    await srv.waitForLog(/authorized-command-failed .*reason="exited with status 3"/);
    setMode('badline');
    assert.equal((await loginSshkit()).status, 0);
    await srv.waitForLog(/authorized-command-error .*line=1 /);
  });

  it('a command slower than 5 s is killed and denies; a prompt one admits', async () => {
    setMode('slow');
    const r = await loginSshkit();
    assert.equal(r.status, 255, r.stderr);
    await srv.waitForLog(/authorized-command-failed .*timed out after 5000 ms/);
    // the whole process group was killed: the script's `sleep 37` child is gone too (pgrep exits 1: none)
    let left = 0;
    for (let i = 0; i < 20 && (left = spawnSync('pgrep', ['-u', 'nobody', '-f', 'sleep 37']).status ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(left, 1, 'a sleep 37 run by nobody is still alive');
    setMode('ok');
    assert.equal((await loginSshkit()).status, 0, 'control');
  });

  it('output over 1 MiB denies even though the key comes first; 900 kB admits', async () => {
    setMode('big');
    assert.equal((await loginSshkit()).status, 255);
    await srv.waitForLog(/authorized-command-failed .*printed more than 1048576 bytes/);
    setMode('almost');
    assert.equal((await loginSshkit()).status, 0, 'control below the cap');
  });

  it('a program that cannot be run denies (logged); runnable again, it admits', async () => {
    setMode('ok');
    chmodSync(script, 0o644);
    try {
      assert.equal((await loginSshkit()).status, 255);
      await srv.waitForLog(/authorized-command-failed .*cannot run .*EACCES/);
    } finally {
      chmodSync(script, 0o755);
    }
    assert.equal((await loginSshkit()).status, 0);
  });

  it('the authorized file is consulted first: its key logs in while the command fails', async () => {
    const other = await startServer({
      args: ['--authorized', `${key}.pub`, '--authorized-command', command, '--authorized-command-user', 'nobody'],
    });
    try {
      setMode('fail');
      assert.equal((await loginSshkit(other)).status, 0, other.logs());
      setMode('ok');
    } finally {
      await other.stop();
    }
  });

  it('keys from a small HTTP service through curl (the README example): a listed user logs in, a 404 denies', async () => {
    const pubLine = readFileSync(`${key}.pub`, 'utf8');
    const http = createServer((req, res) => {
      if (req.url === `/keys/${user}`) res.end(pubLine);
      else res.writeHead(404).end('no such user\n');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const curl = join(dir, 'keys-from-http.sh');
    writeFileSync(curl, `#!/bin/sh\nexec curl -fsS --max-time 3 "http://127.0.0.1:${port}/keys/$1"\n`, { mode: 0o755 });
    const web = await startServer({
      args: ['--authorized', join(dir, 'authorized_keys'), '--authorized-command', `${curl} %u`, '--authorized-command-user', 'nobody'],
    });
    try {
      const ok = await sshRun(web.port, { key, user, command: 'echo logged-in' });
      assert.equal(ok.status, 0, ok.stderr + web.logs());
      assert.equal((await sshRun(web.port, { key, user: 'mallory', command: 'echo logged-in' })).status, 255);
      await web.waitForLog(/authorized-command-failed user=mallory .*exited with status 22/);
    } finally {
      await web.stop();
      http.close();
    }
  });

  it('an answer is cached for --authorized-command-cache seconds: one run for two logins', async () => {
    setMode('ok');
    const cached = await startServer({
      args: ['--authorized', join(dir, 'authorized_keys'), '--authorized-command', command, '--authorized-command-user', 'nobody', '--authorized-command-cache', '60'],
    });
    try {
      const before = runs().length;
      assert.equal((await loginSshkit(cached)).status, 0);
      setMode('fail'); // the cached answer still admits: the command is not asked again
      assert.equal((await loginSshkit(cached)).status, 0, cached.logs());
      assert.equal(runs().length - before, 1, 'one run for a query and two logins');
      assert.equal((await loginSshkit()).status, 255, 'control: the uncached server asks and is refused');
    } finally {
      setMode('ok');
      await cached.stop();
    }
  });

  it('a server not running as root runs the command as itself without the user flag, and refuses another user', async () => {
    // the server itself as nobody (setpriv), in a HOME nobody owns
    const home = join(dir, 'nobody-home');
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const serve = (extra: string[]) =>
      spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, SSHKIT, 'serve', '--port', '0', '--authorized', join(dir, 'authorized_keys'), '--authorized-command', `${script} %u`, ...extra], {
        env: testEnv({ HOME: home, XDG_CONFIG_HOME: home }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    const refused = serve(['--authorized-command-user', 'root']);
    let said = '';
    refused.stderr!.on('data', (d) => (said += d));
    assert.equal(await new Promise((r) => refused.once('exit', r)), 2);
    assert.match(said, /--authorized-command-user root: running a command as another user needs root/);
    const child = serve([]);
    try {
      let log = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stderr!.setEncoding('utf8').on('data', (d: string) => {
          log += d;
          const m = /listening .*port=(\d+)/.exec(log);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${log}`)));
      });
      setMode('ok');
      const before = runs().length;
      const r = await sshRun(port, { key, user, command: 'echo logged-in' });
      assert.equal(r.status, 0, r.stderr + log);
      assert.match(runs().slice(before).at(-1) ?? '', /^nobody 1 /, 'ran as the server user (nobody)');
    } finally {
      child.kill('SIGTERM');
    }
  });

  for (const [what, args, why] of [
    ['an unknown token', ['--authorized-command', `${script} %u %z`, '--authorized-command-user', 'nobody'], /unknown token %z/],
    ['a relative program', ['--authorized-command', 'akc.sh %u', '--authorized-command-user', 'nobody'], /path is not absolute/],
    ['no user while root', ['--authorized-command', `${script} %u`], /--authorized-command-user is required/],
    ['an unknown user', ['--authorized-command', `${script} %u`, '--authorized-command-user', 'no-such-user-xyz'], /no such user/],
    ['an unterminated quote', ['--authorized-command', `${script} "%u`, '--authorized-command-user', 'nobody'], /invalid quotes/],
    ['a user flag alone', ['--authorized-command-user', 'nobody'], /needs --authorized-command/],
  ] as const) {
    it(`refuses to start with ${what} (one line, exit 2); the good command starts (control: the suite's server)`, async () => {
      const started = await startServer({ args: ['--authorized', join(dir, 'authorized_keys'), ...args] }).then(
        (s) => s.stop().then(() => 'started'),
        (err: Error) => err.message,
      );
      assert.match(started, /server exited \(2\)/);
      assert.match(started, why);
      assert.doesNotMatch(started, /\n\s+at /, 'no stack trace');
      assert.ok(srv.port > 0);
    });
  }
});

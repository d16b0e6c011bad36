/**
 * authorized_keys options and per-user files with the real ssh client: `%u` files, from= (CIDR, patterns,
 * negation, unparsable lists deny), expiry-time=, command=, no-pty, restrict, cert-authority (+ principals=)
 * with certificates made by the real `ssh-keygen -s` (source-address and force-command critical options;
 * the CA key itself is no user key), hot reload of a changed file, password auth on and off.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { startServer, sshRun, type StartedServer } from './server-helper.js';

const tmp = tempDir('sshkit-serve-opt-');
const keyFile = (name: string) => {
  const file = join(tmp.dir, name);
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]).status, 0);
  return file;
};
const pub = (file: string) => readFileSync(file + '.pub', 'utf8').trim();
/** Writes a user's file atomically (rename), as editors and config tools do. */
const userFile = (user: string, lines: string[]) => {
  const p = join(tmp.dir, `${user}.keys`);
  writeFileSync(p + '.tmp', lines.join('\n') + '\n');
  renameSync(p + '.tmp', p);
};
const cert = (key: string, ca: string, principals: string, out: string, options: string[] = []) => {
  const r = openssh('ssh-keygen', ['-q', '-s', ca, '-I', `id-${principals}`, '-n', principals, '-V', '-5m:+1h', ...options.flatMap((o) => ['-O', o]), key + '.pub']);
  assert.equal(r.status, 0, r.stderr);
  // ssh loads KEY-cert.pub next to KEY: copy the key under a name per certificate
  writeFileSync(out, readFileSync(key));
  chmodSync(out, 0o600);
  writeFileSync(out + '.pub', readFileSync(key + '.pub'));
  writeFileSync(out + '-cert.pub', readFileSync(key + '-cert.pub'));
  return out;
};

let a: string, b: string, ca: string;
let srv: StartedServer;
let pwSrv: StartedServer;

before(async () => {
  a = keyFile('a');
  b = keyFile('b');
  ca = keyFile('ca');
  userFile('plain', [pub(a)]);
  userFile('other', [pub(b)]);
  userFile('fromno', [`from="10.0.0.0/8" ${pub(a)}`]);
  userFile('fromyes', [`from="10.0.0.0/8,127.0.0.0/8" ${pub(a)}`]);
  userFile('frompat', [`from="127.0.0.*" ${pub(a)}`]);
  userFile('fromneg', [`from="!127.0.0.1,*" ${pub(a)}`]);
  userFile('frombadcidr', [`from="10.1.2.3/8" ${pub(a)}`]); // host bits set: invalid for the core
  userFile('frombadmask', [`from="127.0.0.0/33,*" ${pub(a)}`]); // a bad entry must not let `*` grant
  userFile('expired', [`expiry-time="20000101" ${pub(a)}`]);
  userFile('notexpired', [`expiry-time="29990101Z" ${pub(a)}`]);
  userFile('forced', [`command="echo forced here" ${pub(a)}`]);
  userFile('nopty', [`no-pty ${pub(a)}`]);
  userFile('restricted', [`restrict,environment="X=1" ${pub(a)}`]);
  userFile('certuser', [`cert-authority ${pub(ca)}`]);
  userFile('ops', [`cert-authority,principals="ops,admins" ${pub(ca)}`]);
  userFile('certforced', [`cert-authority,command="echo from-line" ${pub(ca)}`]);
  userFile('reload', [`# empty for now`]);
  srv = await startServer({ args: ['--authorized', join(tmp.dir, '%u.keys')] });
  const pw = sshkit(['passwd', 'carol'], { input: 'correct horse\n' });
  assert.equal(pw.status, 0, pw.stderr);
  writeFileSync(join(tmp.dir, 'passwords'), `# users\n${pw.stdout}bad line\n`);
  writeFileSync(join(tmp.dir, 'askpass'), '#!/bin/sh\necho "$SSHKIT_TEST_PASSWORD"\n', { mode: 0o755 });
  pwSrv = await startServer({ args: ['--authorized', join(tmp.dir, 'plain.keys'), '--passwords', join(tmp.dir, 'passwords')] });
});

after(async () => {
  await srv?.stop();
  await pwSrv?.stop();
  tmp.cleanup();
});

const who = (user: string, key = a, extra: string[] = []) => sshRun(srv.port, { key, user, command: 'whoami', extra });

describe('sshkit serve: per-user files and authorized_keys options', () => {
  test('%u picks the user\'s file: listed key in, other user\'s key and users without a file refused', async () => {
    assert.equal((await who('plain')).stdout, 'plain\n');
    assert.equal((await who('other')).status, 255);
    assert.equal((await who('other', b)).stdout, 'other\n');
    assert.equal((await who('nobody')).status, 255);
    assert.equal((await who('../plain')).status, 255);
    await srv.waitForLog(/authorized-keys-missing file=\S+nobody\.keys reason=ENOENT effect="all keys denied"/);
  });

  test('from=: CIDR, wildcard and negation', async () => {
    assert.equal((await who('fromno')).status, 255);
    assert.equal((await who('fromyes')).status, 0);
    assert.equal((await who('frompat')).status, 0);
    assert.equal((await who('fromneg')).status, 255);
    await srv.waitForLog(/user=fromno .*reason="address 127\.0\.0\.1 not permitted by from=/);
  });

  test('expiry-time=: past refused, future accepted', async () => {
    assert.equal((await who('expired')).status, 255);
    assert.equal((await who('notexpired')).status, 0);
    await srv.waitForLog(/user=expired .*reason="key expired \(expiry-time\)"/);
  });

  test('command= replaces the requested command (exec and shell)', async () => {
    const r = await who('forced');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'forced here\n');
    const shell = await sshRun(srv.port, { key: a, user: 'forced', extra: ['-T'] });
    assert.equal(shell.stdout, 'forced here\n');
    await srv.waitForLog(/user=forced kind=exec command="echo forced here" forced=true/);
  });

  test('no-pty and restrict refuse a pty (ssh -tt then gives up, as with sshd); without -t the key works', async () => {
    for (const user of ['nopty', 'restricted']) {
      const r = await who(user, a, ['-tt']);
      assert.equal(r.status, 255);
      assert.match(r.stderr, /PTY allocation request failed/);
      assert.equal((await who(user)).stdout, `${user}\n`);
    }
    await srv.waitForLog(/pty-refused conn=\d+ session=\d+ user=nopty reason=no-pty\/restrict/);
    await srv.waitForLog(/user=restricted .*result=ok ignored=environment/);
  });

  test('cert-authority: a user certificate for the user logs in; wrong principal refused; principals=', async () => {
    const good = cert(b, join(tmp.dir, 'ca'), 'certuser', join(tmp.dir, 'cert-good'));
    assert.equal((await who('certuser', good)).stdout, 'certuser\n');
    const wrong = cert(b, join(tmp.dir, 'ca'), 'someone', join(tmp.dir, 'cert-wrong'));
    assert.equal((await who('certuser', wrong)).status, 255);
    const ops = cert(b, join(tmp.dir, 'ca'), 'ops', join(tmp.dir, 'cert-ops'));
    assert.equal((await who('ops', ops)).stdout, 'ops\n');
    assert.equal((await who('ops', wrong)).status, 255);
    // the plain key behind a certificate is not itself authorized by a cert-authority line
    assert.equal((await who('certuser', b)).status, 255);
    await srv.waitForLog(/user=certuser method=publickey key=ssh-ed25519-cert-v01@openssh\.com .* line=1 cert=id-certuser result=ok/);
  });

  test('an unparsable from= list denies (never fails open)', async () => {
    for (const user of ['frombadcidr', 'frombadmask']) {
      const r = await who(user);
      assert.equal(r.status, 255, `${user}: ${r.stdout}`);
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      await srv.waitForLog(new RegExp(`user=${user} .*reason="address 127\\.0\\.0\\.1 not permitted by from=.*result=fail`));
    }
    assert.doesNotMatch(srv.logs(), /user=frombad\w* .*result=ok/);
  });

  test('cert-authority: the CA key itself is no user key', async () => {
    const r = await who('certuser', ca);
    assert.equal(r.status, 255, r.stdout);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    const fp = openssh('ssh-keygen', ['-l', '-f', ca + '.pub']).stdout.split(' ')[1];
    await srv.waitForLog(new RegExp(`user=certuser method=publickey key=ssh-ed25519 fingerprint=${fp.replace(/[+/]/g, '\\$&')} .*reason="key not authorized" result=fail`));
  });

  test('cert-authority: source-address critical option is enforced', async () => {
    const ok = cert(b, ca, 'certuser', join(tmp.dir, 'cert-src-ok'), ['source-address=127.0.0.0/8']);
    assert.equal((await who('certuser', ok)).stdout, 'certuser\n'); // control: same CA and principal
    const far = cert(b, ca, 'certuser', join(tmp.dir, 'cert-src-far'), ['source-address=10.0.0.0/8']);
    const r = await who('certuser', far);
    assert.equal(r.status, 255, r.stdout);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    await srv.waitForLog(/user=certuser .*reason="certificate source-address does not permit this client" result=fail/);
  });

  test('cert-authority: a certificate force-command differing from the line\'s command= is refused', async () => {
    const same = cert(b, ca, 'certforced', join(tmp.dir, 'cert-fc-same'), ['force-command=echo from-line']);
    const ok = await who('certforced', same);
    assert.equal(ok.status, 0, ok.stderr); // control: the same command in both is fine
    assert.equal(ok.stdout, 'from-line\n');
    const other = cert(b, ca, 'certforced', join(tmp.dir, 'cert-fc-other'), ['force-command=echo from-cert']);
    const r = await who('certforced', other);
    assert.equal(r.status, 255, r.stdout);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    await srv.waitForLog(/user=certforced .*reason="forced command in certificate and authorized_keys differ" result=fail/);
  });

  test('hot reload: a changed file takes effect without restart; a broken line keeps the others working', async () => {
    assert.equal((await who('reload')).status, 255);
    userFile('reload', [pub(a)]);
    assert.equal((await who('reload')).stdout, 'reload\n');
    userFile('reload', ['ssh-ed25519 AAAA-broken', pub(b)]);
    assert.equal((await who('reload')).status, 255);
    assert.equal((await who('reload', b)).stdout, 'reload\n');
    await srv.waitForLog(/authorized-keys-error file=\S+reload\.keys line=1 /);
  });
});

describe('sshkit serve: password auth', () => {
  const pw = (port: number, user: string, password: string) =>
    sshRun(port, {
      user,
      command: 'whoami',
      batch: false,
      extra: ['-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1'],
      env: { SSH_ASKPASS: join(tmp.dir, 'askpass'), SSH_ASKPASS_REQUIRE: 'force', SSHKIT_TEST_PASSWORD: password },
    });

  test('--passwords: right password in, wrong password and unknown user refused', async () => {
    const ok = await pw(pwSrv.port, 'carol', 'correct horse');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'carol\n');
    assert.equal((await pw(pwSrv.port, 'carol', 'wrong')).status, 255);
    assert.equal((await pw(pwSrv.port, 'mallory', 'correct horse')).status, 255);
    await pwSrv.waitForLog(/passwords-error file=\S+passwords line=3 /);
    // both methods at once: the key still works on the same server
    assert.equal((await sshRun(pwSrv.port, { key: a, command: 'whoami' })).status, 0);
  });

  test('without --passwords, password auth is not offered', async () => {
    const r = await pw(srv.port, 'plain', 'anything');
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
  });
});

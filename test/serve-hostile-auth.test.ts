/**
 * Hostile clients before and around authentication (issue 9 items 1 and 6, fuzz findings
 * net--server-exception-1/-2), each driven by test/raw-client.ts (ssh2's protocol layer) against a real
 * `sshkit serve` child process. Every attack is followed by a control on the same server: a normal
 * OpenSSH login still works, so "the server survived" is proven, not assumed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { isAuthReply, rawConnect, type RawEvent } from './raw-client.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { startSshd } from './sshd-helper.js';
import { strvis } from '../src/core/escape.js';

const tmp = tempDir('sshkit-hostile-auth-');
let key: string;
let pub: string;
let srv: StartedServer;

/** The control: a real `ssh` login with the listed key on the same server still works. */
async function controlLogin(): Promise<void> {
  const r = await sshRun(srv.port, { key, user: 'alice', command: 'whoami' });
  assert.equal(r.status, 0, r.stderr + srv.logs().slice(-2000));
  assert.equal(r.stdout.trim(), 'alice');
  assert.equal(srv.child.exitCode, null, 'server still running');
}

/** Resolves once the log written after offset `mark` matches `re` (the attack's own lines, not earlier ones). */
async function logAfter(mark: number, re: RegExp, ms = 10_000): Promise<string> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    const log = srv.logs().slice(mark);
    if (re.test(log)) return log;
  }
  throw new Error(`no ${re} in the log after the attack:\n${srv.logs().slice(mark)}`);
}

/** A logged-in connection with one session channel open and nothing run yet (a bystander). */
async function bystander() {
  const c = await rawConnect(srv.port);
  c.pkSign('alice', readFileSync(key, 'utf8'));
  await c.until((e) => e.some((x) => x.kind === 'success'));
  c.session(0);
  await c.until((e) => e.some((x) => x.kind === 'open-ok'));
  return c;
}

/** The bystander's session still works after the attack: `whoami` on its open channel. */
async function bystanderServed(c: Awaited<ReturnType<typeof bystander>>): Promise<void> {
  c.exec(0, 'whoami');
  await c.until((e) => e.some((x) => x.kind === 'close' && x.channel === 0));
  const out = Buffer.concat(c.events.flatMap((e) => (e.kind === 'data' ? [e.data] : []))).toString();
  assert.equal(out.trim(), 'alice');
  c.end();
  await c.closed;
}

before(async () => {
  key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  pub = readFileSync(key + '.pub', 'utf8').trim();
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, pub + '\n');
  const line = sshkit(['passwd', 'alice'], { input: 'right-password\n' });
  assert.equal(line.status, 0, line.stderr);
  const pw = join(tmp.dir, 'passwords');
  writeFileSync(pw, line.stdout);
  srv = await startServer({ args: ['--authorized', ak, '--passwords', pw, '--max-auth-tries', '6'] });
});
after(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe('pipelined USERAUTH requests (issue 9 item 1)', () => {
  for (const second of ['none', 'password'] as const) {
    test(`wrong password, then ${second}, then a publickey query: answered in order, server keeps serving`, async () => {
      const other = await bystander();
      const c = await rawConnect(srv.port);
      c.password('alice', 'wrong');
      if (second === 'none') c.none('alice');
      else c.password('alice', 'also-wrong');
      c.pkQuery('alice', pub);
      const evs = await c.until((e) => e.filter(isAuthReply).length >= 3);
      const replies = evs.filter(isAuthReply).map((e) => e.kind);
      // RFC 4252 §5: requests are answered in the order sent; the key is listed, so the query gets PK_OK.
      assert.deepEqual(replies, ['failure', 'failure', 'pk-ok']);
      c.end();
      await c.closed;
      await bystanderServed(other);
      await controlLogin();
    });
  }

  test('a signed publickey login pipelined behind a pending wrong password succeeds', async () => {
    const c = await rawConnect(srv.port);
    c.password('alice', 'wrong');
    c.pkSign('alice', readFileSync(key, 'utf8'));
    const evs = await c.until((e) => e.filter(isAuthReply).length >= 2);
    assert.deepEqual(evs.filter(isAuthReply).map((e) => e.kind), ['failure', 'success']);
    c.end();
    await c.closed;
    await controlLogin();
  });

  test('many pipelined requests of every kind never end the process', async () => {
    const c = await rawConnect(srv.port);
    for (let i = 0; i < 4; i++) {
      c.password('alice', 'wrong' + i);
      c.pkQuery('alice', pub);
      c.none('alice');
    }
    await c.closed; // cut by --max-auth-tries (or answered and then cut): either way, the connection alone
    assert.equal(srv.child.exitCode, null);
    await controlLogin();
  });

  test('200 pipelined passwords (each checked asynchronously): that connection is cut, the server serves on', async () => {
    const c = await rawConnect(srv.port);
    c.socket.cork();
    for (let i = 0; i < 200; i++) c.password('alice', 'wrong' + i);
    c.socket.uncork();
    await c.closed;
    assert.ok(c.events.filter(isAuthReply).length <= 11, JSON.stringify(c.events));
    await controlLogin();
  });
});

export type { RawEvent };

describe('untrusted text in the log is escaped (issue 9 item 6)', () => {
  const ESC = '\x1b';
  const evilUser = `bob${ESC}[31m\r\nFAKE auth ok\u2028\u0085\u009b`;
  const evilMethod = `m${ESC}]0;title\x07`;
  const evilCommand = `echo ${ESC}]0;pwned\x07 done`;

  /** Logs in with the key and runs `command` on one session channel; resolves once it exited. */
  async function attack(port: number): Promise<void> {
    const c = await rawConnect(port, { ident: Buffer.from(`evil${ESC}[2J`, 'latin1') });
    c.none(evilUser);
    c.method(evilUser, evilMethod);
    c.password(evilUser, 'x');
    await c.until((e) => e.filter(isAuthReply).length >= 3);
    c.pkSign(evilUser, readFileSync(key, 'utf8')); // one shared authorized file admits any user name
    await c.until((e) => e.some((x) => x.kind === 'success'));
    c.session(0);
    await c.until((e) => e.some((x) => x.kind === 'open-ok'));
    c.exec(0, evilCommand);
    await c.until((e) => e.some((x) => x.kind === 'close'));
    c.end();
    await c.closed;
  }

  test('strvis escapes user names exactly as sshd logs them ("Invalid user …", differential: sshd -D -e)', async () => {
    // sshd on stderr uses VIS_SAFE|VIS_OCTAL, which lets TAB, LF, CR, BS and BEL through raw; sshkit
    // escapes those too (a log line must stay one line), so the table leaves them out; sshd also cuts a
    // name at NUL (a C string) where sshkit writes \000.
    const names = [`bob${ESC}[31m`, 'x\x01\x02\x1f', 'caf\u00e9', 'back\\slash', 'del\x7f', 'q"uote', 'ls\u2028\u0085'];
    const sshd = await startSshd({ authorizedKeys: [] });
    try {
      for (const name of names) {
        const c = await rawConnect(sshd.port);
        c.none(name);
        await c.until((e) => e.filter(isAuthReply).length >= 1).catch(() => undefined);
        c.socket.destroy();
        await c.closed;
      }
      await new Promise((r) => setTimeout(r, 300));
      const logged = sshd.logs().split(/\r?\n/).flatMap((l) => /^Invalid user (.*) from 127\.0\.0\.1 port \d+$/.exec(l)?.[1] ?? []);
      assert.deepEqual(logged, names.map((n) => strvis(n)));
    } finally {
      await sshd.stop();
    }
  });

  test('text log: OpenSSH-style \\ooo escapes, no raw control bytes, no forged lines', async () => {
    const mark = srv.logs().length;
    await attack(srv.port);
    const log = await logAfter(mark, /disconnect conn=\d+ user="bob/);
    assert.doesNotMatch(log, /[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]/, 'no raw control character in the text log');
    assert.ok(!/^\S+ FAKE/m.test(log), 'no forged log line');
    // strvis(3) VIS_OCTAL as OpenSSH's log: ESC → \033, CR → \015, U+2028 → its UTF-8 bytes in octal.
    assert.match(log, /client .*version=evil\\033\[2J/);
    assert.match(log, /user="bob\\033\[31m\\015\\012FAKE auth ok\\342\\200\\250\\302\\205\\302\\233"/);
    assert.match(log, /method=m\\033\]0;title\\007/);
    assert.match(log, /echo \\033\]0;pwned\\007 done/);
  });

  test('a certificate key id with escape sequences (made by ssh-keygen -s -I) is logged escaped', async () => {
    const ca = join(tmp.dir, 'ca');
    const uk = join(tmp.dir, 'certuser');
    for (const f of [ca, uk]) assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]).status, 0);
    const signed = openssh('ssh-keygen', ['-q', '-s', ca, '-I', `id${ESC}]0;owned\x07\nFAKE`, '-n', 'alice', uk + '.pub']);
    assert.equal(signed.status, 0, signed.stderr);
    const cak = join(tmp.dir, 'ca_authorized');
    writeFileSync(cak, `cert-authority ${readFileSync(ca + '.pub', 'utf8').trim()}\n`);
    const s = await startServer({ args: ['--authorized', cak] });
    try {
      const r = await sshRun(s.port, { key: uk, user: 'alice', command: 'whoami', extra: ['-o', `CertificateFile=${uk}-cert.pub`] });
      assert.equal(r.status, 0, r.stderr + s.logs());
      const line = s.logs().split('\n').find((l) => / auth .*result=ok/.test(l));
      assert.ok(line, s.logs());
      assert.match(line, / cert=id\\033\]0;owned\\007\\012FAKE /);
      assert.doesNotMatch(s.logs(), /[\x00-\x09\x0b-\x1f]/);
    } finally {
      await s.stop();
    }
  });

  test('JSON log: one parsable object a line, U+0085/U+2028/U+2029 escaped, values intact', async () => {
    const ak = join(tmp.dir, 'authorized_keys');
    const j = await startServer({ args: ['--authorized', ak, '--log-format', 'json'] });
    try {
      await attack(j.port);
      await j.waitForLog(/"event":"disconnect"/);
      const lines = j.logs().split('\n').filter(Boolean);
      for (const l of lines) assert.doesNotMatch(l, /[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]/, `raw control character in ${JSON.stringify(l)}`);
      const objs = lines.map((l) => JSON.parse(l));
      assert.ok(objs.some((o) => o.user === evilUser), 'the user name survives JSON escaping unchanged');
      assert.ok(objs.some((o) => o.method === evilMethod));
      assert.ok(objs.some((o) => typeof o.command === 'string' && o.command.includes(evilCommand)) || lines.some((l) => JSON.parse(l).event === 'session'), 'session logged');
    } finally {
      await j.stop();
    }
  });
});

describe('fuzz findings net--server-exception-1/-2: typed handling, the server serves on', () => {
  test('two malformed USERAUTH_REQUESTs in one TCP chunk: one protocol error, no "_destruct is not a function"', async () => {
    const mark = srv.logs().length;
    const other = await bystander();
    const c = await rawConnect(srv.port);
    const bad = Buffer.from([50, 0, 0, 0, 5, 0x61]); // user name claims 5 bytes, has 1
    c.socket.cork();
    c.send(bad);
    c.send(bad);
    c.socket.uncork();
    await c.closed;
    const log = await logAfter(mark, /Malformed USERAUTH_REQUEST[\s\S]*disconnect/);
    assert.match(log, /Malformed USERAUTH_REQUEST/, 'the first bad packet is reported as what it is');
    assert.doesNotMatch(log, /is not a function|Cannot read properties/, log);
    await bystanderServed(other);
    await controlLogin();
  });

  test('a second exec on one session channel gets CHANNEL_FAILURE; the first runs; the connection lives on', async () => {
    const mark = srv.logs().length;
    const c = await rawConnect(srv.port);
    c.pkSign('alice', readFileSync(key, 'utf8'));
    await c.until((e) => e.some((x) => x.kind === 'success'));
    c.session(0);
    await c.until((e) => e.some((x) => x.kind === 'open-ok'));
    c.socket.cork();
    c.exec(0, 'echo one');
    c.exec(0, 'echo two');
    c.socket.uncork();
    await c.until((e) => e.some((x) => x.kind === 'close' && x.channel === 0));
    const on0 = c.events.filter((e) => 'channel' in e && e.channel === 0);
    assert.deepEqual(on0.filter((e) => e.kind === 'chan-success' || e.kind === 'chan-failure').map((e) => e.kind), ['chan-success', 'chan-failure']);
    const out = Buffer.concat(on0.flatMap((e) => (e.kind === 'data' ? [e.data] : []))).toString();
    assert.match(out, /one/);
    assert.doesNotMatch(out, /two/);
    // Same connection, a new channel: still served.
    c.session(1);
    await c.until((e) => e.some((x) => x.kind === 'open-ok' && x.channel === 1));
    c.exec(1, 'whoami');
    await c.until((e) => e.some((x) => x.kind === 'close' && x.channel === 1));
    const who = Buffer.concat(c.events.flatMap((e) => (e.kind === 'data' && e.channel === 1 ? [e.data] : []))).toString();
    assert.equal(who.trim(), 'alice');
    c.end();
    await c.closed;
    assert.doesNotMatch(srv.logs().slice(mark), /Cannot read properties|conn-error/);
  });
});

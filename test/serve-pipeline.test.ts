/**
 * The session pipeline (src/server/pipeline.ts, session.ts) unit-tested in process with
 * test/session-harness.ts: no ssh, no ssh2, no socket. Each middleware and handler is driven through
 * a typed Session; refusals have their passing control beside them. What sshd does is cited where a
 * behaviour copies it (session.c); the end-to-end behaviour with the real `ssh` stays in serve-*.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { runHandler, SessionHarness } from './session-harness.js';
import { compose, type ExitStatus, type Handler, type Middleware, type Session } from '../src/server/pipeline.js';
import { cliPolicy, cliSessions, CLI_MIDDLEWARES } from '../src/server/session.js';
import { builtin } from '../src/server/handlers/builtin.js';
import { execOs } from '../src/server/handlers/exec-os.js';
import { isLegacyScp, route } from '../src/server/handlers/route.js';
import { sftpHandler, type ServeSftp, type SftpServeOptions } from '../src/server/handlers/sftp.js';
import { permissions } from '../src/server/middleware/permissions.js';
import { logging } from '../src/server/middleware/logging.js';
import { recover } from '../src/server/middleware/recover.js';
import { sessionEnv } from '../src/server/middleware/env.js';
import { idleTimer } from '../src/server/middleware/idle.js';
import { execSessionHandler } from '../src/server/library-session.js';

/** A handler that records the session it was given and answers `st`. */
function capture(st: ExitStatus = 0): { handler: Handler; seen: Session[] } {
  const seen: Session[] = [];
  return { seen, handler: async (s) => (seen.push(s), st) };
}

/** A stand-in serveSftp that records its calls and ends at once. */
function fakeSftp(): { load: () => Promise<ServeSftp>; calls: Array<{ stream: object; opts: SftpServeOptions }> } {
  const calls: Array<{ stream: object; opts: SftpServeOptions }> = [];
  return { calls, load: async () => async (stream, opts) => void calls.push({ stream, opts }) };
}

describe('compose', () => {
  test('middlewares run in the order listed (the first is outermost), results come back in reverse', async () => {
    const order: string[] = [];
    const mw = (name: string): Middleware => (next) => async (s) => {
      order.push(`in ${name}`);
      const st = await next(s);
      order.push(`out ${name}`);
      return st;
    };
    const h = compose([mw('a'), mw('b'), mw('c')], async () => (order.push('handler'), 0));
    assert.equal((await runHandler(h)).status, 0);
    assert.deepEqual(order, ['in a', 'in b', 'in c', 'handler', 'out c', 'out b', 'out a']);
  });
  test("the CLI's list reads permissions, logging, recover, env, idle", () => {
    assert.deepEqual(CLI_MIDDLEWARES, [permissions, logging, recover, sessionEnv, idleTimer]);
  });
});

describe('builtin handlers', () => {
  test('exec runs one builtin command: stdout and status 0; an unknown command is 127 on stderr', async () => {
    const ok = await runHandler(builtin, { request: { kind: 'exec', command: 'whoami' }, user: 'bob' });
    assert.equal(ok.status, 0);
    assert.equal(ok.h.stdout(), 'bob\n');
    const bad = await runHandler(builtin, { request: { kind: 'exec', command: 'nosuch' } });
    assert.equal(bad.status, 127);
    assert.match(bad.h.stderr(), /^nosuch: command not found/);
  });
  test('the shell without a pty reads lines, with no prompt and no echo; EOF ends it with 0', async () => {
    const r = await runHandler(builtin, { input: 'echo one two\nwhoami\n' });
    assert.equal(r.status, 0);
    assert.equal(r.h.stdout(), 'one two\nalice\n');
  });
  test('on a pty the shell greets, edits and answers with CRLF; quit ends it with 0', async () => {
    const h = new SessionHarness({ pty: { term: 'xterm', rows: 24, cols: 80 } });
    const done = builtin(h.session);
    await h.waitFor(/alice@sshkit\$ $/);
    assert.match(h.stdout(), /^Welcome to sshkit, alice\./);
    h.type('echo hi\r');
    await h.waitFor(/\r\nhi\r\n/);
    h.type('quit\r');
    assert.equal(await done, 0);
  });
  test('a server shutdown ends a builtin shell: one stderr line, status TERM', async () => {
    const h = new SessionHarness();
    const done = builtin(h.session);
    h.type('echo ready\n');
    await h.waitFor(/^ready\n$/);
    h.shutdown();
    assert.deepEqual(await done, { signal: 'TERM' });
    assert.equal(h.stderr(), 'sshkit: server shutting down\n');
  });
});

describe('--exec os handler (a real /bin/sh, no ssh)', () => {
  test('stdout, stderr, stdin and the exit status', async () => {
    const r = await runHandler(execOs, { exec: 'os', request: { kind: 'exec', command: 'read x; echo "got $x"; echo err >&2; exit 3' }, input: 'line\n' });
    assert.equal(r.status, 3);
    assert.equal(r.h.stdout(), 'got line\n');
    assert.equal(r.h.stderr(), 'err\n');
  });
  test("the session's env reaches the command; a client signal ends it with that signal", async () => {
    const h = new SessionHarness({ exec: 'os', request: { kind: 'exec', command: 'echo "$LANG"; exec sleep 30' }, env: { LANG: 'C.UTF-8' } });
    const done = execOs(h.session);
    await h.waitFor(/C\.UTF-8\n/);
    h.signal('TERM');
    assert.deepEqual(await done, { signal: 'TERM' });
  });
});

describe('middlewares', () => {
  test('permissions: a forced command replaces the exec; the asked one is originalCommand (sshd session.c do_exec)', async () => {
    const c = capture();
    await runHandler(permissions(c.handler), { request: { kind: 'exec', command: 'ls' }, grant: { command: 'echo forced' } });
    assert.deepEqual(c.seen[0].request, { kind: 'exec', command: 'echo forced' });
    assert.equal(c.seen[0].originalCommand, 'ls');
    const control = capture();
    await runHandler(permissions(control.handler), { request: { kind: 'exec', command: 'ls' } });
    assert.deepEqual(control.seen[0].request, { kind: 'exec', command: 'ls' });
    assert.equal(control.seen[0].originalCommand, undefined);
  });
  test('permissions: a forced command wins over the sftp subsystem (it runs instead, as sshd)', async () => {
    const sftp = fakeSftp();
    const root = tempDir('sshkit-pipe-sftp-').dir;
    const r = await runHandler(cliSessions(sftp.load), { request: { kind: 'subsystem', name: 'sftp' }, grant: { command: 'echo forced' }, sftp: { root, readOnly: false } });
    assert.equal(r.status, 0);
    assert.equal(r.h.stdout(), 'forced\n');
    assert.equal(sftp.calls.length, 0);
    assert.equal(r.h.opened, 'channel');
  });
  test('permissions: forced internal-sftp serves only SFTP; a shell gets sshd\'s "This service allows sftp connections only."', async () => {
    const root = tempDir('sshkit-pipe-sftp-').dir;
    const cfg = { root, readOnly: false };
    const shell = await runHandler(cliSessions(fakeSftp().load), { grant: { command: 'internal-sftp' }, sftp: cfg });
    assert.equal(shell.status, 1);
    assert.equal(shell.h.stderr(), 'This service allows sftp connections only.\n');
    const sftp = fakeSftp();
    const ok = await runHandler(cliSessions(sftp.load), { request: { kind: 'subsystem', name: 'sftp' }, grant: { command: 'internal-sftp -R' }, sftp: cfg });
    assert.equal(ok.status, 0);
    assert.equal(sftp.calls.length, 1);
  });
  test('env: SSH_CONNECTION, SSH_CLIENT, SSHKIT_USER and SSH_ORIGINAL_COMMAND join the client\'s variables', async () => {
    const c = capture();
    await runHandler(compose([permissions, sessionEnv], c.handler), { request: { kind: 'exec', command: 'asked' }, grant: { command: 'forced' }, env: { LANG: 'C' } });
    assert.deepEqual(Object.fromEntries(c.seen[0].env), {
      LANG: 'C',
      SSH_CONNECTION: '192.0.2.7 50000 127.0.0.1 2222',
      SSH_CLIENT: '192.0.2.7 50000 2222',
      SSHKIT_USER: 'alice',
      SSH_ORIGINAL_COMMAND: 'asked',
    });
  });
  test('logging: one session line (what runs) and one session-end line with the status', async () => {
    const r = await runHandler(logging(async () => 7), { request: { kind: 'exec', command: 'x' } });
    assert.equal(r.status, 7);
    assert.deepEqual(r.h.log.map((l) => [l.event, l.kind ?? l.status]), [['session', 'exec'], ['session-end', 7]]);
    assert.equal(r.h.events('session')[0].command, 'x');
  });
  test('recover: a throwing handler ends its session with 1, a session-error line and one stderr line; control passes through', async () => {
    const boom: Handler = async (s) => {
      s.open();
      throw new Error('kaput');
    };
    const r = await runHandler(recover(boom));
    assert.equal(r.status, 1);
    assert.equal(r.h.events('session-error')[0].reason, 'kaput');
    assert.equal(r.h.stderr(), 'sshkit: internal error in this session (logged)\n');
    const control = await runHandler(recover(async () => 0));
    assert.equal(control.status, 0);
    assert.equal(control.h.log.length, 0);
  });
  test('idle: the start and each touch() reach the connection\'s idle timer; without it they do not', async () => {
    const touching: Handler = async (s) => (s.touch(), s.touch(), 0);
    assert.equal((await runHandler(idleTimer(touching))).h.touches, 3);
    assert.equal((await runHandler(touching)).h.touches, 0);
  });
});

describe('request policy (answered before the start)', () => {
  test('pty-req: refused under no-pty/restrict, allowed otherwise', () => {
    const h = new SessionHarness({ grant: { pty: false } });
    assert.equal(cliPolicy.pty(h.session.ctx), 'no-pty/restrict');
    assert.equal(cliPolicy.pty(new SessionHarness().session.ctx), null);
  });
  test('env: the locale passes (sshd AcceptEnv LANG LC_*), others do not', () => {
    assert.equal(cliPolicy.env('LC_ALL', 'C', 0), true);
    assert.equal(cliPolicy.env('LANG', 'C', 63), true);
    assert.equal(cliPolicy.env('LANG', 'C', 64), false);
    assert.equal(cliPolicy.env('LD_PRELOAD', '/x.so', 0), false);
  });
  test('subsystems: sftp only with --sftp; restrict without command= still gets it; command= gets a plain channel', () => {
    const sftp = { root: '/srv', readOnly: false };
    const req = { kind: 'subsystem', name: 'sftp' } as const;
    assert.equal(cliPolicy.starts(req, new SessionHarness().session.ctx), false);
    assert.equal(cliPolicy.starts({ kind: 'subsystem', name: 'other' }, new SessionHarness({ sftp }).session.ctx), false);
    const restricted = new SessionHarness({ sftp, grant: { pty: false } }).session.ctx;
    assert.equal(cliPolicy.starts(req, restricted), true);
    assert.equal(cliPolicy.sftp(restricted), true);
    assert.equal(cliPolicy.sftp(new SessionHarness({ sftp, grant: { command: 'echo x' } }).session.ctx), false);
  });
});

describe('sftp handler', () => {
  const base = tempDir('sshkit-pipe-root-').dir;
  mkdirSync(join(base, 'alice'));
  const sftp = { root: join(base, '%u'), readOnly: true };
  const req = { kind: 'subsystem', name: 'sftp' } as const;
  test('control: %u names the user\'s folder; serveSftp gets the stream, the root and read-only', async () => {
    const f = fakeSftp();
    const r = await runHandler(sftpHandler(f.load), { request: req, sftp });
    assert.equal(r.status, 0);
    assert.equal(r.h.opened, 'sftp');
    assert.equal(f.calls[0].stream, r.h.sftpStream);
    assert.equal(f.calls[0].opts.root, join(base, 'alice'));
    assert.equal(f.calls[0].opts.readOnly, true);
  });
  test('a missing %u folder refuses the subsystem before its reply (policy), with an sftp-refused log line', () => {
    const carol = new SessionHarness({ request: req, sftp, user: 'carol' });
    assert.equal(cliPolicy.starts(req, carol.session.ctx), false);
    assert.equal(carol.events('sftp-refused')[0].reason, `sftp root ${join(base, 'carol')} is missing`);
    const alice = new SessionHarness({ request: req, sftp });
    assert.equal(cliPolicy.starts(req, alice.session.ctx), true);
    assert.equal(alice.log.length, 0);
  });
  test('a folder gone between the reply and the handler: the stream is ended, serveSftp never called', async () => {
    const f = fakeSftp();
    const r = await runHandler(sftpHandler(f.load), { request: req, sftp, user: 'carol' });
    assert.deepEqual(r.status, { refused: `sftp root ${join(base, 'carol')} is missing` });
    assert.equal(r.h.sftpStream.ended, true);
    assert.equal(r.h.events('sftp-refused').length, 1);
    assert.equal(f.calls.length, 0);
  });
  test('a user name that cannot name a folder (.., a slash) is refused, as authorized.ts refuses it for %u', async () => {
    for (const user of ['..', 'a/b']) {
      const f = fakeSftp();
      const r = await runHandler(sftpHandler(f.load), { request: req, sftp, user });
      assert.ok(typeof r.status === 'object' && 'refused' in r.status, user);
      assert.equal(cliPolicy.starts(req, new SessionHarness({ request: req, sftp, user }).session.ctx), false, user);
      assert.equal(f.calls.length, 0);
    }
  });
});

describe('legacy scp (rcp protocol)', () => {
  test('which exec lines are the rcp protocol (scp.c: the remote runs scp -t / scp -f)', () => {
    for (const c of ['scp -t /x', 'scp -v -r -p -d -t -- /x', 'scp -f file', '/usr/bin/scp -pt .']) assert.equal(isLegacyScp(c), true, c);
    for (const c of ['scp', 'echo scp -t', 'scp -- -t', 'scp file host:', 'whoami']) assert.equal(isLegacyScp(c), false, c);
  });
  test('under --exec builtin it is refused with one clear line, status 1; a builtin exec beside it runs', async () => {
    const r = await runHandler(route(sftpHandler(fakeSftp().load)), { request: { kind: 'exec', command: 'scp -t /tmp' } });
    assert.equal(r.status, 1);
    assert.match(r.h.stderr(), /^sshkit: scp -O \(the legacy rcp protocol\) needs a real scp and runs only under --exec os/);
    const control = await runHandler(route(sftpHandler(fakeSftp().load)), { request: { kind: 'exec', command: 'echo ok' } });
    assert.equal(control.status, 0);
    assert.equal(control.h.stdout(), 'ok\n');
  });
});

describe('library exec handler', () => {
  test('forced command and originalCommand; a throw is status 1 with exec-error; a value outside 0–255 is 1', async () => {
    const seen: Array<{ command: string; originalCommand?: string }> = [];
    const ok = await runHandler(execSessionHandler((x) => (seen.push({ command: x.command, originalCommand: x.originalCommand }), x.stdout.write('hi'), 5)), {
      request: { kind: 'exec', command: 'asked' },
      grant: { command: 'forced' },
    });
    assert.equal(ok.status, 5);
    assert.equal(ok.h.stdout(), 'hi');
    assert.deepEqual(seen, [{ command: 'forced', originalCommand: 'asked' }]);
    const thrown = await runHandler(execSessionHandler(() => {
      throw new Error('nope');
    }), { request: { kind: 'exec', command: 'x' } });
    assert.equal(thrown.status, 1);
    assert.equal(thrown.h.events('exec-error')[0].reason, 'nope');
    assert.equal((await runHandler(execSessionHandler(() => 256), { request: { kind: 'exec', command: 'x' } })).status, 1);
  });
});

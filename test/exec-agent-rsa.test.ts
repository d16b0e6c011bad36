/**
 * Issue 9 item 11: `sshkit exec` never makes a SHA-1 `ssh-rsa` signature, through a real ssh-agent or
 * with its own `-i` key, even against a server that sends no `server-sig-algs` (RFC 8308 §3.1, RFC 8332
 * §3.3). The server here is a small ssh2 Server that logs every publickey request (algorithm named,
 * signature or query) and accepts any valid signature, SHA-1 included, so only the client's choice is
 * tested; with `sigAlgs: false` it sends no EXT_INFO at all. The real ssh 9.2 runs beside it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type * as Ssh2 from 'ssh2';
import { runAsync, tempDir } from './helpers.js';
import { clientKey, execCli } from './exec-helper.js';
import { sha2OnlyAgent } from '../src/client/agents.js';

const ssh2 = createRequire(import.meta.url)('ssh2') as typeof Ssh2;
const tmp = tempDir('sshkit-exec-rsa-');
const home = join(tmp.dir, 'home'); // no ~/.ssh: only the agent or -i offers keys
let rsa: { path: string; pub: string };
let agentSock: string;
let agentPid = 0;

interface Attempt {
  algo: string;
  signed: boolean;
}
interface TestServer {
  port: number;
  attempts: Attempt[];
  close(): Promise<void>;
}

/** An ssh2 Server with an ed25519 host key; `sigAlgs: false` suppresses its EXT_INFO (server-sig-algs). */
async function startServer(sigAlgs: boolean): Promise<TestServer> {
  const hostKey = clientKey(tmp.dir, `host-${Math.random().toString(36).slice(2)}`);
  const allowed = ssh2.utils.parseKey(rsa.pub) as Ssh2.ParsedKey;
  const attempts: Attempt[] = [];
  const conns = new Set<Ssh2.Connection>();
  const srv = new ssh2.Server({ hostKeys: [readFileSync(hostKey.path)] }, (conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    if (!sigAlgs) {
      // ssh2 sends EXT_INFO after the first NEWKEYS when its KeyExchange says the client offered
      // ext-info-c; pin that flag to false on every KeyExchange this connection creates.
      const proto = (conn as unknown as { _protocol: Record<string, unknown> })._protocol;
      let kex: unknown;
      Object.defineProperty(proto, '_kex', {
        configurable: true,
        get: () => kex,
        set: (v) => {
          kex = v;
          if (v) Object.defineProperty(v, 'remoteExtInfoEnabled', { get: () => false, set: () => {} });
        },
      });
    }
    conn.on('error', () => {});
    conn.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      // ssh2 reports rsa-sha2-256/512 requests as key algo `ssh-rsa` plus a hash; undefined means SHA-1.
      const algo = ctx.key.algo === 'ssh-rsa' && ctx.hashAlgo ? `rsa-sha2-${ctx.hashAlgo.slice(3)}` : ctx.key.algo;
      attempts.push({ algo, signed: !!ctx.signature });
      if (!ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject(['publickey']);
      if (!ctx.signature) return ctx.accept();
      if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      ctx.reject(['publickey']);
    });
    conn.on('ready', () =>
      conn.on('session', (accept) =>
        accept().on('exec', (ok, _no, info) => {
          const s = ok();
          s.write(`ran ${info.command}\n`);
          s.exit(0);
          s.end();
        }),
      ),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      srv.close(() => r());
      for (const c of conns) c.end();
    });
  return { port: (srv.address() as AddressInfo).port, attempts, close };
}

/** sshkit exec with the agent's keys (or, with `-i`, that key alone: no SSH_AUTH_SOCK then). */
function sshkit(port: number, extra: string[] = []) {
  const agent = extra.includes('-i') ? undefined : agentSock;
  return execCli([...extra, '-p', String(port), '-o', 'StrictHostKeyChecking=accept-new', '--known-hosts', join(tmp.dir, `kh-${port}`), 'u@127.0.0.1', '--', 'hello'], { home, agent });
}

/** The real ssh 9.2 with the agent's keys only (asynchronous: the server runs in this process). */
function ssh(port: number) {
  return runAsync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=20', '-p', String(port), 'u@127.0.0.1', 'hello'], { env: { SSH_AUTH_SOCK: agentSock } });
}

const sha1Signatures = (s: TestServer) => s.attempts.filter((a) => a.signed && a.algo === 'ssh-rsa');

before(() => {
  rsa = clientKey(tmp.dir, 'rsa', 'rsa');
  agentSock = join(tmp.dir, 'agent.sock');
  // Without -D, ssh-agent binds the socket and only then forks: when it returns, the socket exists.
  const started = spawnSync('ssh-agent', ['-s', '-a', agentSock], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(started.status, 0, started.stderr);
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(started.stdout)?.[1]);
  assert.ok(agentPid > 0, started.stdout);
  const add = spawnSync('ssh-add', [rsa.path], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, encoding: 'utf8' });
  assert.equal(add.status, 0, add.stderr);
});
after(() => {
  if (agentPid > 0) process.kill(agentPid);
  tmp.cleanup();
});

describe('no SHA-1 ssh-rsa signatures', () => {
  test('the agent guard alone (whatever ssh2 asks): no hash or sha1 is refused before the agent; sha512 signs', async () => {
    const agent = sha2OnlyAgent(agentSock);
    const keys = await new Promise<Ssh2.ParsedKey[]>((res, rej) => agent.getIdentities((e, k) => (e ? rej(e) : res(k as Ssh2.ParsedKey[]))));
    assert.equal(keys.length, 1);
    const data = Buffer.from('session id and request');
    const sign = (opts: { hash?: string }) =>
      new Promise<{ err?: Error; sig?: Buffer }>((res) => agent.sign(keys[0], data, opts as never, (err?: Error | null, sig?: Buffer) => res({ err: err ?? undefined, sig })));
    for (const opts of [{}, { hash: 'sha1' }]) {
      const r = await sign(opts);
      assert.match(String(r.err?.message), /ssh-rsa \(SHA-1\) signature, which sshkit never makes/);
      assert.equal(r.sig, undefined);
    }
    const ok = await sign({ hash: 'sha512' });
    assert.equal(ok.err, undefined);
    assert.equal((ssh2.utils.parseKey(rsa.pub) as Ssh2.ParsedKey).verify(data, ok.sig!, 'sha512'), true);
  });

  test('ssh-agent RSA key, server without server-sig-algs: an rsa-sha2 signature, never ssh-rsa', async () => {
    const srv = await startServer(false);
    try {
      const r = await sshkit(srv.port);
      assert.deepEqual(sha1Signatures(srv), [], `SHA-1 signature made: ${JSON.stringify(srv.attempts)}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'ran hello\n');
      assert.ok(srv.attempts.some((a) => a.signed && /^rsa-sha2-(256|512)$/.test(a.algo)), JSON.stringify(srv.attempts));
      // ssh 9.2 makes no SHA-1 signature either: without server-sig-algs it skips the RSA key
      // (key_sig_algorithm: "ssh-rsa" is not in its PubkeyAcceptedAlgorithms), so it is refused.
      srv.attempts.length = 0;
      const real = await ssh(srv.port);
      assert.equal(real.status, 255, real.stderr);
      assert.deepEqual(sha1Signatures(srv), []);
    } finally {
      await srv.close();
    }
  });

  test('-i RSA key (signed by the core), server without server-sig-algs: rsa-sha2, logged in', async () => {
    const srv = await startServer(false);
    try {
      const r = await sshkit(srv.port, ['-i', rsa.path]);
      assert.deepEqual(sha1Signatures(srv), []);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(srv.attempts.some((a) => a.signed && /^rsa-sha2-(256|512)$/.test(a.algo)), JSON.stringify(srv.attempts));
    } finally {
      await srv.close();
    }
  });

  test('control: the same server sending server-sig-algs; sshkit and ssh 9.2 both log in with rsa-sha2', async () => {
    const srv = await startServer(true);
    try {
      const r = await sshkit(srv.port);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.toString(), 'ran hello\n');
      const real = await ssh(srv.port);
      assert.equal(real.status, 0, real.stderr);
      assert.deepEqual(sha1Signatures(srv), []);
      assert.ok(srv.attempts.every((a) => !a.signed || /^rsa-sha2-(256|512)$/.test(a.algo)), JSON.stringify(srv.attempts));
    } finally {
      await srv.close();
    }
  });
});

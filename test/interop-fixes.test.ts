/**
 * Issue 10 items 1–4, each with the real peer that failed against `sshkit serve`, and the same cell
 * against OpenSSH 9.2's sshd (test/sshd-helper.ts) as the differential: what sshd accepts, sshkit must.
 *  1. PK_OK echoes the requested algorithm (RFC 4252 §7, RFC 8332): AsyncSSH, Go, dbclient, RSA user key.
 *  2. dbclient's right first-KEX guess is kept (it hung on the default ed25519 host key); a wrong guess
 *     (RSA host key: first host-key algorithms differ) is still skipped.
 *  3. no SHA-1 `ssh-rsa` host-key signature: `ssh -o HostKeyAlgorithms=ssh-rsa` fails to negotiate.
 *  4. hmac-sha2-256/512 after the -etm MACs: Twisted Conch 22.4 connects; dbclient -c aes128-ctr too.
 * And one found on the way: EXT_INFO must follow the server's NEWKEYS at once (RFC 8308 §2.4), or
 * libssh 0.10 signs with SHA-1 `ssh-rsa` and gives up; rekeys (every 64 KiB) still work after that change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, openssh, tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { STARTUP_MS, goPeer, libsshPeer, makeKey, mebibyte, peerRun, pinnedHome, show, type KeyPair, type PeerResult } from './interop-peers.js';
import { guessIsRight, parseKexInit } from '../src/server/protocol-kex.js';

const tmp = tempDir('sshkit-interop-fixes-');
let userEd: KeyPair;
let userRsa: KeyPair;
let hostRsa: KeyPair;
let defaultHostPub: string;
/** Default host key (generated ed25519), as `npm start` runs. */
let plain: StartedServer;
/** RSA host key only. */
let rsaHost: StartedServer;
let sshd: StartedSshd;

const PY = join(ROOT, 'test/peers/py-client.py');
const OK = 'interop-ok';

before(async () => {
  userEd = makeKey(tmp.dir, 'user_ed25519', 'ed25519');
  userRsa = makeKey(tmp.dir, 'user_rsa', 'rsa3072');
  hostRsa = makeKey(tmp.dir, 'host_rsa', 'rsa3072');
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, `${userEd.pub}\n${userRsa.pub}\n`);
  const cfg = join(tmp.dir, 'cfg');
  [plain, rsaHost, sshd] = await Promise.all([
    startServer({ timeoutMs: STARTUP_MS, args: ['--authorized', ak], env: { XDG_CONFIG_HOME: cfg } }),
    startServer({ timeoutMs: STARTUP_MS, args: ['--authorized', ak, '--host-key', hostRsa.path, '--exec', 'os'] }),
    startSshd({ timeoutMs: STARTUP_MS, authorizedKeys: [userEd.pub, userRsa.pub], hostKeys: [makeKey(tmp.dir, 'sshd_ed25519', 'ed25519').path, hostRsa.path] }),
  ]);
  const y = openssh('ssh-keygen', ['-y', '-f', join(cfg, 'sshkit', 'host_ed25519')]);
  assert.equal(y.status, 0, y.stderr);
  defaultHostPub = y.stdout.trim();
  await Promise.all([goPeer(), libsshPeer()]);
});

after(async () => {
  await Promise.all([plain?.stop(), rsaHost?.stop(), sshd?.stop()]);
  tmp.cleanup();
});

/** The server under test or sshd, as one target (sshd logs in the current user, sshkit any name). */
interface Target {
  name: string;
  port: number;
  user: string;
  hostPub: string;
}
const sshkitPlain = (): Target => ({ name: 'sshkit serve (default ed25519 host key)', port: plain.port, user: 'alice', hostPub: defaultHostPub });
const sshkitRsa = (): Target => ({ name: 'sshkit serve --host-key rsa', port: rsaHost.port, user: 'alice', hostPub: hostRsa.pub });
const sshdTarget = (): Target => ({ name: 'OpenSSH sshd', port: sshd.port, user: sshd.user, hostPub: sshd.hostKeyPub });

/** A Dropbear-format copy of an OpenSSH private key (dropbearconvert). */
function dropbearKey(k: KeyPair): string {
  const out = `${k.path}.dropbear`;
  const r = openssh('/usr/lib/dropbear/dropbearconvert', ['openssh', 'dropbear', k.path, out]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

async function dbclient(t: Target, key: KeyPair, extra: string[] = []): Promise<PeerResult> {
  const home = pinnedHome(tmp.dir, t.port, t.hostPub);
  return peerRun('dbclient', [...extra, '-i', dropbearKey(key), '-p', String(t.port), `${t.user}@127.0.0.1`, `echo ${OK}`], { env: { HOME: home }, timeoutMs: 30_000 });
}

function asyncssh(t: Target, key: KeyPair): Promise<PeerResult> {
  return peerRun('/usr/bin/python3', [PY, 'asyncssh', '--port', String(t.port), '--user', t.user, '--key', key.path, '--host-pub', pinPub(t), '--cmd', `echo ${OK}`], { timeoutMs: 60_000 });
}

async function go(t: Target, key: KeyPair): Promise<PeerResult> {
  // Go does not narrow its host-key algorithms to the pinned key's: name it, as a Go program would.
  return peerRun(await goPeer(), ['client', '-port', String(t.port), '-user', t.user, '-key', key.path, '-host-pub', pinPub(t), '-host-alg', hostAlg(t.hostPub), '-cmd', `echo ${OK}`], { timeoutMs: 60_000 });
}

/** The host-key algorithm for a pinned public key line (RSA: the SHA-512 signature). */
function hostAlg(pub: string): string {
  const type = pub.split(' ')[0];
  return type === 'ssh-rsa' ? 'rsa-sha2-512' : type;
}

/** The real ssh at log level INFO (negotiation failures are logged at INFO), pinned to the target's key. */
function ssh(t: Target, extra: string[]): Promise<PeerResult> {
  const kh = join(tmp.dir, `kh-${t.port}-${extra.join('_').replace(/[^a-z0-9]/gi, '')}`);
  writeFileSync(kh, `[127.0.0.1]:${t.port} ${t.hostPub}\n`);
  return peerRun('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', userEd.path, '-o', `UserKnownHostsFile=${kh}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'LogLevel=INFO', '-p', String(t.port), ...extra, `${t.user}@127.0.0.1`, `echo ${OK}`], { timeoutMs: 30_000 });
}

/** The target's host public key written to a file (for peers that pin from a file). */
function pinPub(t: Target): string {
  const f = join(tmp.dir, `pin-${t.port}.pub`);
  writeFileSync(f, t.hostPub + '\n');
  return f;
}

function assertOk(r: PeerResult, what: string): void {
  assert.equal(r.timedOut, false, `${what} hung: ${show(r)}`);
  assert.equal(r.status, 0, `${what}: ${show(r)}`);
  assert.equal(r.stdout.toString(), `${OK}\n`, `${what}: ${show(r)}`);
}

describe('1. PK_OK echoes rsa-sha2-256/512 (RFC 4252 §7, RFC 8332 §3)', { concurrency: 3 }, () => {
  const peers: Array<[string, (t: Target, k: KeyPair) => Promise<PeerResult>, () => Target]> = [
    ['AsyncSSH 2.10', asyncssh, sshkitPlain],
    ['Go x/crypto/ssh', go, sshkitPlain],
    // dbclient against the RSA host key, so that item 2 (its hang on ed25519) does not mask this one.
    ['dbclient', (t, k) => dbclient(t, k), sshkitRsa],
  ];
  for (const [peer, run, target] of peers) {
    test(`${peer}, RSA user key: sshd accepts it, and so does sshkit serve`, async () => {
      assertOk(await run(sshdTarget(), userRsa), `${peer} → sshd (control)`);
      const t = target();
      assertOk(await run(t, userRsa), `${peer} → ${t.name}`);
      // The key-only query and the login used rsa-sha2-*, never SHA-1 ssh-rsa.
      const log = (t.port === plain.port ? plain : rsaHost).logs();
      assert.match(log, /key=ssh-rsa \S+ algorithm=rsa-sha2-(256|512) result=pk-ok/);
      assert.match(log, /key=ssh-rsa \S+ algorithm=rsa-sha2-(256|512) line=2 result=ok/);
      assert.doesNotMatch(log, /algorithm=ssh-rsa\b/);
    });
  }
});

describe('EXT_INFO as the next packet after NEWKEYS (RFC 8308 §2.4)', { concurrency: 2 }, () => {
  async function libssh(t: Target): Promise<PeerResult> {
    return peerRun(await libsshPeer(), [String(t.port), t.user, pinPub(t), 'key', userRsa.path, '--', `echo ${OK}`], { timeoutMs: 60_000 });
  }
  test('libssh 0.10, RSA user key, 12 connections in a row: sshd (control), then sshkit serve', async () => {
    for (let i = 0; i < 12; i++) assertOk(await libssh(sshdTarget()), `libssh → sshd (control), run ${i + 1}`);
    for (let i = 0; i < 12; i++) assertOk(await libssh(sshkitPlain()), `libssh → sshkit serve, run ${i + 1}`);
  });
  for (const cipher of ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr']) {
    test(`rekeys every 64 KiB across 1 MiB still work (${cipher})`, async () => {
      const data = mebibyte();
      const r = await peerRun('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', userEd.path, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'RekeyLimit=64K', '-c', cipher, '-p', String(rsaHost.port), 'alice@127.0.0.1', 'cat'], { input: data, timeoutMs: 60_000 });
      assert.equal(r.status, 0, show(r));
      assert.ok(r.stdout.equals(data), `${r.stdout.length} of ${data.length} bytes back; ${show(r)}`);
    });
  }
});

describe('2. dbclient first_kex_packet_follows (RFC 4253 §7.1)', { concurrency: 2 }, () => {
  test('right guess (curve25519-sha256 + ssh-ed25519 first on both sides) is used: default host key, no hang', async () => {
    assertOk(await dbclient(sshdTarget(), userEd), 'dbclient → sshd (control)');
    assertOk(await dbclient(sshkitPlain(), userEd), 'dbclient → sshkit serve (default ed25519 host key)');
  });
  test('wrong guess (server prefers rsa-sha2-512, dbclient ssh-ed25519) is skipped: dbclient resends and connects', async () => {
    assertOk(await dbclient(sshkitRsa(), userEd), 'dbclient → sshkit serve --host-key rsa');
  });
  test('the rule: first kex and first host-key algorithm must both agree', () => {
    const kexinit = (kex: string, hk: string, follows: boolean) => {
      const lists = [kex, hk, 'aes128-ctr', 'aes128-ctr', 'hmac-sha2-256', 'hmac-sha2-256', 'none', 'none', '', ''];
      const parts = [Buffer.from([20]), Buffer.alloc(16, 7)];
      for (const l of lists) {
        const n = Buffer.alloc(4);
        n.writeUInt32BE(l.length);
        parts.push(n, Buffer.from(l));
      }
      parts.push(Buffer.from([follows ? 1 : 0, 0, 0, 0, 0]));
      return Buffer.concat(parts);
    };
    const local = { kex: ['curve25519-sha256', 'ecdh-sha2-nistp256'], hostKey: ['ssh-ed25519', 'rsa-sha2-512'] };
    const cases: Array<[string, string, boolean]> = [
      ['curve25519-sha256,ecdh-sha2-nistp256', 'ssh-ed25519,rsa-sha2-512', true],
      ['ecdh-sha2-nistp256,curve25519-sha256', 'ssh-ed25519', false], // negotiates ecdh (client's first), still wrong per RFC
      ['curve25519-sha256', 'rsa-sha2-512,ssh-ed25519', false],
      ['curve25519-sha256@libssh.org', 'ssh-ed25519', false],
    ];
    for (const [kex, hk, right] of cases) {
      const g = parseKexInit(kexinit(kex, hk, true));
      assert.equal(g.follows, true);
      assert.equal(guessIsRight(local, g), right, `${kex} / ${hk}`);
    }
    assert.equal(parseKexInit(kexinit('curve25519-sha256', 'ssh-ed25519', false)).follows, false);
    assert.throws(() => parseKexInit(kexinit('a', 'b', true).subarray(0, 30)), /KEXINIT: truncated/);
  });
});

describe('3. no SHA-1 ssh-rsa host-key signatures with an RSA host key', { concurrency: 4 }, () => {
  for (const target of [sshdTarget, sshkitRsa]) {
    test(`ssh -o HostKeyAlgorithms=ssh-rsa cannot negotiate: ${target === sshdTarget ? 'OpenSSH sshd 9.2 (its default too)' : 'sshkit serve --host-key rsa'}`, async () => {
      const r = await ssh(target(), ['-o', 'HostKeyAlgorithms=ssh-rsa']);
      assert.equal(r.status, 255, show(r));
      assert.match(r.stderr, /no matching host key type found/, show(r));
      if (target === sshkitRsa) assert.match(r.stderr, /Their offer: rsa-sha2-512,rsa-sha2-256\s*$/, show(r));
    });
  }
  for (const alg of ['rsa-sha2-512', 'rsa-sha2-256']) {
    test(`control: HostKeyAlgorithms=${alg} logs in, the pinned RSA host key checks`, async () => {
      assertOk(await ssh(sshkitRsa(), ['-o', `HostKeyAlgorithms=${alg}`]), `ssh -o HostKeyAlgorithms=${alg}`);
    });
  }
});

describe('4. hmac-sha2-256/512 offered after the -etm MACs', { concurrency: 4 }, () => {
  async function conch(t: Target): Promise<PeerResult> {
    const kh = join(tmp.dir, `conch-kh-${t.port}`);
    writeFileSync(kh, `127.0.0.1 ${t.hostPub}\n`); // Conch matches known_hosts by host only, not port
    // Conch drops the output when its stdin is at EOF before the reply comes (sshd too): keep it open.
    return peerRun('conch3', ['-i', userEd.path, '-p', String(t.port), '-l', t.user, '--known-hosts', kh, '127.0.0.1', `echo ${OK}`], { holdStdin: true, timeoutMs: 60_000 });
  }
  test('Twisted Conch 22.4 (conch3): sshd (control), then sshkit serve', async () => {
    assertOk(await conch(sshdTarget()), 'conch3 → sshd (control)');
    assertOk(await conch(sshkitPlain()), 'conch3 → sshkit serve');
  });
  test('dbclient -c aes128-ctr (MACs hmac-sha1,hmac-sha2-256): sshd (control), then sshkit serve', async () => {
    assertOk(await dbclient(sshdTarget(), userEd, ['-c', 'aes128-ctr']), 'dbclient -c aes128-ctr → sshd (control)');
    assertOk(await dbclient(sshkitRsa(), userEd, ['-c', 'aes128-ctr']), 'dbclient -c aes128-ctr → sshkit serve');
  });
  for (const mac of ['hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com']) {
    test(`ssh -c aes128-ctr -o MACs=${mac} logs in`, async () => {
      assertOk(await ssh(sshkitPlain(), ['-c', 'aes128-ctr', '-o', `MACs=${mac}`]), `ssh -o MACs=${mac}`);
    });
  }
  test('refused beside them: MACs=hmac-sha1 (no SHA-1 MAC is offered)', async () => {
    const r = await ssh(sshkitPlain(), ['-c', 'aes128-ctr', '-o', 'MACs=hmac-sha1']);
    assert.equal(r.status, 255, show(r));
    assert.match(r.stderr, /no matching MAC found\. Their offer: hmac-sha2-256-etm@openssh\.com,hmac-sha2-512-etm@openssh\.com,hmac-sha2-256,hmac-sha2-512\s*$/, show(r));
  });
});


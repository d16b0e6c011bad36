/**
 * The client-side interop matrix, one table for every peer: a peer file describes how to run its
 * client for one cell (`ClientPeer.run`) and calls `clientMatrix(peer)`. One trio of `sshkit serve`
 * processes per test file (one host key each: ed25519, ecdsa-sha2-nistp256, RSA; `--exec os`, every
 * user key type authorized, a password user) answers all cells; cells run in parallel.
 *
 * Cells: public-key auth with every key type the peer supports · each host-key type, pinned · a wrong
 * pinned host key refused (beside the right one) · password auth, a wrong password refused beside it ·
 * exec with stdout, stderr and exit status · a pty shell · 1 MiB through `cat`, byte-exact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshkit, tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';
import { startSshd } from './sshd-helper.js';
import { STARTUP_MS, makeKey, mebibyte, show, type KeyPair, type PeerResult } from './interop-peers.js';

/** What a peer's client needs for one cell. */
export interface ClientCell {
  port: number;
  user: string;
  /** Public-key auth with this key (OpenSSH private key file; the peer converts it if it must). */
  key?: KeyPair;
  password?: string;
  /** The host key the peer must pin (public key line); any other key must be refused. */
  hostPub: string;
  /** Scratch folder for the peer's own files (converted keys, known_hosts). */
  dir: string;
  command?: string;
  /** Interactive shell on a pty (input is typed into it). */
  ptyShell?: boolean;
  input?: Buffer;
  /** Give up on the peer after this long (ms); a known peer failure may be a hang. Default 60 s. */
  timeoutMs?: number;
}

export interface ClientPeer {
  name: string;
  /** helpers.KEY_TYPES names this peer's client can authenticate with. */
  keyTypes: string[];
  /** Password auth is possible non-interactively (else: why not, shown as a skipped cell). */
  password: true | string;
  /**
   * Cells that fail because of the peer (id → why): each is then run against OpenSSH 9.2's sshd with
   * the same keys and must fail there too, and fail against sshkit. Ids: user-TYPE, host-TYPE, exec,
   * pty, mib.
   */
  peerFailures?: Record<string, string>;
  /** Set (to the reason) when the peer exits 0 even when refused; a refusal is then "no output, not hung". */
  exitsZeroWhenRefused?: string;
  run(cell: ClientCell): Promise<PeerResult>;
}

export const HOST_TYPES = ['ed25519', 'ecdsa256', 'rsa3072'] as const;
export const ALL_USER_TYPES = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa3072'];
const PASSWORD = 'correct horse battery';

/** Asserts a cell succeeded with exactly `stdout`; the message shows what the peer said. */
export function assertCell(r: PeerResult, stdout: string | Buffer, what: string): void {
  assert.equal(r.timedOut, false, `${what}: peer hung: ${show(r)}`);
  assert.equal(r.status, 0, `${what}: ${show(r)}`);
  if (typeof stdout === 'string') assert.equal(r.stdout.toString('utf8'), stdout, `${what}: ${show(r)}`);
  else assert.ok(r.stdout.equals(stdout), `${what}: ${r.stdout.length} bytes back, ${stdout.length} sent, first difference at ${firstDiff(r.stdout, stdout)}; ${show(r)}`);
}

/** Asserts the peer was refused: non-zero (unless the peer never says so), no remote output, not hung. */
export function assertRefused(r: PeerResult, what: string, peer?: ClientPeer): void {
  assert.equal(r.timedOut, false, `${what}: peer hung: ${show(r)}`);
  if (!peer?.exitsZeroWhenRefused) assert.notEqual(r.status, 0, `${what}: expected a refusal: ${show(r)}`);
  assert.equal(r.stdout.length, 0, `${what}: the command ran: ${show(r)}`);
}

function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Defines the whole client matrix for one peer (call at the top level of a test file). */
export function clientMatrix(peer: ClientPeer): void {
  const tmp = tempDir(`sshkit-interop-${peer.name.replace(/\W+/g, '')}-`);
  const servers = new Map<string, StartedServer>();
  const hosts = new Map<string, KeyPair>();
  const users = new Map<string, KeyPair>();
  let otherHost: KeyPair;

  before(async () => {
    for (const t of ALL_USER_TYPES) users.set(t, makeKey(tmp.dir, `user_${t}`, t));
    for (const t of HOST_TYPES) hosts.set(t, makeKey(tmp.dir, `host_${t}`, t));
    otherHost = makeKey(tmp.dir, 'host_other_ed25519', 'ed25519');
    const ak = join(tmp.dir, 'authorized_keys');
    writeFileSync(ak, [...users.values()].map((k) => k.pub + '\n').join(''));
    const hashed = sshkit(['passwd', 'pwuser'], { input: PASSWORD + '\n' });
    assert.equal(hashed.status, 0, hashed.stderr);
    const pw = join(tmp.dir, 'passwords');
    writeFileSync(pw, hashed.stdout, { mode: 0o600 });
    const started = await Promise.all(
      HOST_TYPES.map((t) => startServer({ timeoutMs: STARTUP_MS, args: ['--authorized', ak, '--passwords', pw, '--exec', 'os', '--host-key', hosts.get(t)!.path] })),
    );
    HOST_TYPES.forEach((t, i) => servers.set(t, started[i]));
  });

  after(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    tmp.cleanup();
  });

  const cell = (host: string, extra: Partial<ClientCell>): ClientCell => ({
    port: servers.get(host)!.port,
    user: 'alice',
    hostPub: hosts.get(host)!.pub,
    dir: tmp.dir,
    ...extra,
  });
  const ed = () => users.get('ed25519')!;

  /**
   * One cell: `check` asserts success on a result. A cell in peer.peerFailures must instead fail against
   * sshkit and fail the same way against sshd (same host key, same user keys): the peer's limit, not ours.
   */
  function cellTest(id: string, title: string, host: string, c: Partial<ClientCell>, check: (r: PeerResult) => void): void {
    const why = peer.peerFailures?.[id];
    if (!why) {
      test(title, async () => check(await peer.run(cell(host, c))));
      return;
    }
    test(`${title}: fails because of ${peer.name} (${why}), against OpenSSH sshd too`, async () => {
      const fails = (r: PeerResult) => {
        try {
          check(r);
        } catch {
          return true;
        }
        return false;
      };
      const quick = { ...c, timeoutMs: 20_000 }; // the known failure may be a hang of the peer
      const ours = await peer.run(cell(host, quick));
      assert.ok(fails(ours), `expected the known ${peer.name} failure against sshkit, but it passed: ${show(ours)}`);
      const sshd = await startSshd({ timeoutMs: STARTUP_MS, hostKeys: [hosts.get(host)!.path], authorizedKeys: [...users.values()].map((k) => k.pub) });
      try {
        const theirs = await peer.run({ ...cell(host, quick), port: sshd.port, user: sshd.user });
        assert.ok(fails(theirs), `${peer.name} passes this cell against sshd, so the failure is sshkit's: ${show(theirs)}`);
      } finally {
        await sshd.stop();
      }
    });
  }

  describe(`${peer.name} → sshkit serve`, { concurrency: 4 }, () => {
    for (const t of ALL_USER_TYPES) {
      if (!peer.keyTypes.includes(t)) {
        test(`public-key auth, ${t} user key`, { skip: `${peer.name} has no ${t} user keys` }, () => {});
        continue;
      }
      cellTest(`user-${t}`, `public-key auth, ${t} user key`, 'ed25519', { key: users.get(t), command: `echo key-${t}` }, (r) => assertCell(r, `key-${t}\n`, `${t} key`));
    }
    for (const h of HOST_TYPES) {
      cellTest(`host-${h}`, `host key ${h}, pinned`, h, { key: ed(), command: `echo host-${h}` }, (r) => assertCell(r, `host-${h}\n`, `host ${h}`));
    }
    test('a different pinned host key is refused (the pinned cells above are its control)', async () => {
      assertRefused(await peer.run(cell('ed25519', { key: ed(), hostPub: otherHost.pub, command: 'echo must-not-run' })), 'wrong host key', peer);
    });
    test('password auth', { skip: peer.password === true ? undefined : peer.password }, async () => {
      assertCell(await peer.run(cell('ed25519', { user: 'pwuser', password: PASSWORD, command: 'echo pw-ok' })), 'pw-ok\n', 'password');
    });
    test('a wrong password is refused (beside the right one)', { skip: peer.password === true ? undefined : peer.password }, async () => {
      assertRefused(await peer.run(cell('ed25519', { user: 'pwuser', password: 'wrong ' + PASSWORD, command: 'echo must-not-run' })), 'wrong password', peer);
    });
    cellTest('exec', 'exec: stdout, stderr and exit status 3', 'ed25519', { key: ed(), command: 'echo out; echo err >&2; exit 3' }, (r) => {
      assert.equal(r.timedOut, false, show(r));
      assert.equal(r.status, 3, show(r));
      assert.equal(r.stdout.toString(), 'out\n', show(r));
      assert.match(r.stderr, /(^|\n)err\r?\n/, show(r));
    });
    cellTest('pty', 'pty shell: typed commands run on a terminal', 'ed25519', { key: ed(), ptyShell: true, input: Buffer.from('tty; echo pty-$((6*7)); exit 0\n') }, (r) => {
      assert.equal(r.timedOut, false, show(r));
      const out = r.stdout.toString();
      assert.match(out, /pty-42/, show(r));
      assert.match(out, /\/dev\/pts\/\d+/, show(r));
    });
    cellTest('mib', '1 MiB through cat, byte-exact', 'ed25519', { key: ed(), command: 'cat', input: mebibyte() }, (r) => assertCell(r, mebibyte(), '1 MiB'));
  });
}

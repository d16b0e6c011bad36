/**
 * The other direction: `sshkit exec` against a peer's SSH server. A peer file says how to start its
 * server with one host key and an authorized_keys file (`PeerServer.start`) and calls
 * `serverMatrix(peer)`. Cells: every user key type the server takes · every host-key type, pinned
 * through known_hosts · a wrong pinned key refused with 255 (beside them) · stdout, stderr and the exit
 * status · 1 MiB byte-exact · `--host-fingerprint` pinning (the SHA256 of `ssh-keygen -l`), right and wrong.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { execCli, sshFingerprint } from './exec-helper.js';
import { makeKey, mebibyte, type KeyPair } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES } from './interop-matrix.js';

export interface RunningServer {
  port: number;
  /** The user name the server lets in. */
  user: string;
  stop(): Promise<void>;
}

export interface PeerServer {
  name: string;
  /** helpers.KEY_TYPES names the server accepts as user keys. */
  keyTypes: string[];
  /** helpers.KEY_TYPES names it can use as host keys. */
  hostTypes: readonly string[];
  start(o: { hostKey: KeyPair; authorizedKeys: string; dir: string }): Promise<RunningServer>;
}

/** Per cell: a hung peer fails its cell, not the run (after() then stops the servers, ending the exec). */
const CELL_MS = 90_000;

/** Defines the `sshkit exec → peer server` matrix (call at the top level of a test file). */
export function serverMatrix(peer: PeerServer): void {
  const tmp = tempDir(`sshkit-interop-srv-${peer.name.replace(/\W+/g, '')}-`);
  const home = join(tmp.dir, 'home');
  const servers = new Map<string, RunningServer>();
  const hosts = new Map<string, KeyPair>();
  const users = new Map<string, KeyPair>();

  before(async () => {
    for (const t of ALL_USER_TYPES) users.set(t, makeKey(tmp.dir, `user_${t}`, t));
    for (const t of peer.hostTypes) hosts.set(t, makeKey(tmp.dir, `host_${t}`, t));
    const ak = join(tmp.dir, 'authorized_keys');
    writeFileSync(ak, [...users.values()].map((k) => k.pub + '\n').join(''), { mode: 0o600 });
    const started = await Promise.all(peer.hostTypes.map((t) => peer.start({ hostKey: hosts.get(t)!, authorizedKeys: ak, dir: tmp.dir })));
    peer.hostTypes.forEach((t, i) => servers.set(t, started[i]));
  });

  after(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    tmp.cleanup();
  });

  /**
   * sshkit exec with the key of `userType`, pinned to `pinned`'s public key through known_hosts, or
   * with `--host-fingerprint` of `fingerprintOf` and an empty known_hosts.
   */
  let khCount = 0;
  function exec(host: string, userType: string, command: string, o: { pinned?: KeyPair; fingerprintOf?: KeyPair; input?: Buffer } = {}) {
    const s = servers.get(host)!;
    const f = o.fingerprintOf;
    // one file per call: cells run 4 at a time, and a shared file could be read between truncate and write
    const kh = join(tmp.dir, `known_hosts-${host}-${f ? `fp-${f.name}` : o.pinned ? o.pinned.name : 'right'}-${++khCount}`);
    writeFileSync(kh, f ? '' : `[127.0.0.1]:${s.port} ${(o.pinned ?? hosts.get(host)!).pub}\n`);
    const pin = f ? ['--host-fingerprint', sshFingerprint(f.pub)] : [];
    return execCli(['-i', users.get(userType)!.path, '-p', String(s.port), '--known-hosts', kh, ...pin, '-o', 'StrictHostKeyChecking=yes', '--connect-timeout', '30', `${s.user}@127.0.0.1`, '--', command], { home, input: o.input });
  }
  const shown = (r: { status: number | null; stdout: Buffer; stderr: string }) => `status=${r.status} stdout=${JSON.stringify(r.stdout.toString().slice(0, 200))} stderr=${JSON.stringify(r.stderr.slice(-400))}`;

  describe(`sshkit exec → ${peer.name}`, { concurrency: 4 }, () => {
    for (const t of ALL_USER_TYPES) {
      test(`user key ${t}`, { timeout: CELL_MS, skip: peer.keyTypes.includes(t) ? undefined : `${peer.name} takes no ${t} user keys` }, async () => {
        const r = await exec(peer.hostTypes[0], t, `echo key-${t}`);
        assert.equal(r.status, 0, shown(r));
        assert.equal(r.stdout.toString(), `key-${t}\n`, shown(r));
      });
    }
    for (const h of HOST_TYPES) {
      test(`host key ${h}, pinned in known_hosts`, { timeout: CELL_MS, skip: peer.hostTypes.includes(h) ? undefined : `${peer.name} has no ${h} host keys` }, async () => {
        const r = await exec(h, 'ed25519', `echo host-${h}`);
        assert.equal(r.status, 0, shown(r));
        assert.equal(r.stdout.toString(), `host-${h}\n`, shown(r));
      });
    }
    test('a different key pinned for the host: refused, exit 255 (the pinned cells are its control)', { timeout: CELL_MS }, async () => {
      const other = makeKey(tmp.dir, `other_${peer.hostTypes[0]}`, peer.hostTypes[0]);
      const r = await exec(peer.hostTypes[0], 'ed25519', 'echo must-not-run', { pinned: other });
      assert.equal(r.status, 255, shown(r));
      assert.equal(r.stdout.length, 0, shown(r));
    });
    test('--host-fingerprint of the host key (ssh-keygen -l), empty known_hosts: runs', { timeout: CELL_MS }, async () => {
      const r = await exec(peer.hostTypes[0], 'ed25519', 'echo fingerprint-pinned', { fingerprintOf: hosts.get(peer.hostTypes[0])! });
      assert.equal(r.status, 0, shown(r));
      assert.equal(r.stdout.toString(), 'fingerprint-pinned\n', shown(r));
    });
    test('--host-fingerprint of another key: refused, exit 255 (the cell above is its control)', { timeout: CELL_MS }, async () => {
      const other = makeKey(tmp.dir, `other_${peer.hostTypes[0]}`, peer.hostTypes[0]);
      const r = await exec(peer.hostTypes[0], 'ed25519', 'echo must-not-run', { fingerprintOf: other });
      assert.equal(r.status, 255, shown(r));
      assert.equal(r.stdout.length, 0, shown(r));
      assert.match(r.stderr, /host key verification failed/, shown(r));
    });
    test('stdout, stderr and exit status 3 pass through', { timeout: CELL_MS }, async () => {
      const r = await exec(peer.hostTypes[0], 'ed25519', 'echo out; echo err >&2; exit 3');
      assert.equal(r.status, 3, shown(r));
      assert.equal(r.stdout.toString(), 'out\n', shown(r));
      assert.equal(r.stderr, 'err\n', shown(r));
    });
    test('1 MiB through cat, byte-exact', { timeout: CELL_MS }, async () => {
      const data = mebibyte();
      const r = await exec(peer.hostTypes[0], 'ed25519', 'cat', { input: data });
      assert.equal(r.status, 0, shown(r));
      assert.ok(r.stdout.equals(data), `${r.stdout.length} bytes back of ${data.length}; ${shown(r)}`);
    });
  });
}

/**
 * Differential: the real sshd's verdict on each `from=` spelling of test/match-from-table.ts, for clients
 * 127.0.0.1, 127.0.0.2 and ::1, must be the recorded one, and matchFromList (what `sshkit serve` asks)
 * must give the same. sshd (`/usr/sbin/sshd -D -e`, `ListenAddress ::1` added, `MaxAuthTries 1000`) gets
 * one key per table row as `from="LIST" ssh-ed25519 …`; one connection per client address (ssh2 client
 * bound with localAddress) asks about every key with publickey queries: sshd answers PK_OK exactly for
 * the keys whose options admit this client (auth2-pubkey.c user_key_allowed → auth_authorise_keyopts),
 * and our agent then declines to sign, so the next key is asked. A final real login (ssh -b) checks one
 * admitted and one refused cell end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchFromList } from '../src/core/addr.js';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';
import { ROOT, runAsync, tempDir } from './helpers.js';
import { startSshd } from './sshd-helper.js';
import { CLIENTS, FROM_TABLE, type Client } from './match-from-table.js';

function sshkitAdmits(list: string, client: string): boolean {
  try {
    return matchFromList(list, client) === 'match';
  } catch {
    return false; // an invalid entry: sshd refuses the key, and so does sshkit's server (core/pubkey-auth.ts)
  }
}

const ssh2 = createRequire(import.meta.url)('ssh2') as typeof Ssh2;

/** Rows (key indexes) sshd answers PK_OK for, asked from `client` over one connection. */
function probe(port: number, user: string, client: string, keyPaths: string[]): Promise<Set<number>> {
  const parsed = keyPaths.map((p) => ssh2.utils.parseKey(readFileSync(p)) as Ssh2.ParsedKey);
  const index = new Map(parsed.map((k, i) => [k.getPublicSSH().toString('base64'), i]));
  const admitted = new Set<number>();
  class Probe extends ssh2.BaseAgent {
    getIdentities(cb: (err: Error | undefined, keys?: Ssh2.ParsedKey[]) => void) {
      cb(undefined, parsed);
    }
    sign(key: Ssh2.ParsedKey, _data: Buffer, _opts: unknown, cb?: (err?: Error) => void) {
      admitted.add(index.get(key.getPublicSSH().toString('base64'))!);
      (cb ?? (_opts as (err?: Error) => void))(new Error('probe only'));
    }
  }
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let tried = false;
    c.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'agent') return; // our refusal to sign
      if (err.level === 'client-authentication') return resolve(admitted); // every key asked
      reject(err);
    });
    c.on('ready', () => reject(new Error('logged in without a signature?')));
    c.connect({
      host: client === '::1' ? '::1' : '127.0.0.1',
      localAddress: client,
      port,
      username: user,
      agent: new Probe(),
      hostVerifier: () => true,
      authHandler: (_left: unknown, _partial: unknown, next: (m: unknown) => void) => {
        if (tried) return false;
        tried = true;
        next({ type: 'agent', username: user, agent: new Probe() });
        return undefined;
      },
    } as Ssh2.ConnectConfig);
  });
}

test('from= spellings: sshd 9.2 and matchFromList agree with the recorded table', { timeout: 120_000 }, async () => {
  const tmp = tempDir('sshkit-from-');
  // two extra keys after the table rows: options--divergence-e86a77a38d (`constructor`) and a control
  const extraOptions = [readFileSync(join(ROOT, 'test/fixtures/fuzz/options--divergence-e86a77a38d.bin'), 'latin1'), 'no-pty'];
  const keys = [...FROM_TABLE, ...extraOptions].map((_, i) => {
    const path = join(tmp.dir, `k${i}`);
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `row${i}`, '-f', path]);
    assert.equal(r.status, 0, 'ssh-keygen -t ed25519');
    return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
  });
  const sshd = await startSshd({
    authorizedKeys: [...FROM_TABLE.map(([list], i) => `from="${list}" ${keys[i].pub}`), ...extraOptions.map((o, i) => `${o} ${keys[FROM_TABLE.length + i].pub}`)],
    config: ['ListenAddress ::1', 'MaxAuthTries 1000'],
  });
  try {
    const got = new Map<string, boolean>();
    for (const client of CLIENTS) {
      const admitted = await probe(sshd.port, sshd.user, client, keys.map((k) => k.path));
      FROM_TABLE.forEach((_, row) => got.set(`${row}/${client}`, admitted.has(row)));
      if (client === '127.0.0.1') {
        // sshd: "bad key options: unknown key option" for constructor; the control key is admitted
        assert.deepEqual([admitted.has(FROM_TABLE.length), admitted.has(FROM_TABLE.length + 1)], [false, true]);
        const index = parseAuthorizedKeys(readFileSync(sshd.authorizedKeysFile, 'utf8'));
        assert.deepEqual(index.errors.map((e) => e.line), [FROM_TABLE.length + 1], 'sshkit refuses the same line');
      }
    }
    const mismatches: string[] = [];
    FROM_TABLE.forEach(([list, admitted], row) => {
      for (const client of CLIENTS) {
        const want = admitted.includes(client);
        const real = got.get(`${row}/${client}`);
        if (real !== want) mismatches.push(`sshd from="${list}" ${client}: ${real}, table says ${want}`);
        if (sshkitAdmits(list, client) !== real) mismatches.push(`matchFromList from="${list}" ${client}: ${!real}, sshd ${real}`);
      }
    });
    assert.deepEqual(mismatches, []);
    // control: some cells are admitted and some refused, so neither a dead sshd nor a refusing one passes
    const values = [...got.values()];
    assert.ok(values.includes(true) && values.includes(false));
    // end to end with the real ssh: row 0 (`*,!::1`) admits 127.0.0.2 and refuses ::1
    const login = (client: string, host: string) =>
      runAsync('ssh', ['-F', '/dev/null', '-b', client, '-p', String(sshd.port), '-i', keys[0].path, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${sshd.user}@${host}`, 'true']);
    assert.equal(FROM_TABLE[0][0], '*,!::1');
    assert.equal((await login('127.0.0.2', '127.0.0.1')).status, 0);
    assert.notEqual((await login('::1', '::1')).status, 0);
  } finally {
    await sshd.stop();
    tmp.cleanup();
  }
});

/**
 * ssh-audit 2.5 against `sshkit serve` and, in the same test, against OpenSSH 9.2's sshd with its own
 * defaults and the same host key: every `[fail]` finding sshkit gets, sshd's defaults must get too
 * (today both get only ssh-audit's "weak elliptic curves" for ecdh-sha2-nistp*, which OpenSSH offers).
 * The SHA-1 `ssh-rsa` host-key signature that ssh2 used to add is checked by name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { STARTUP_MS, makeKey, peerRun, show, type KeyPair } from './interop-peers.js';

const tmp = tempDir('sshkit-interop-audit-');
const TYPES = ['ed25519', 'ecdsa256', 'rsa3072'];
const keys = new Map<string, KeyPair>();
const ours = new Map<string, StartedServer>();
const theirs = new Map<string, StartedSshd>();

before(async () => {
  for (const t of TYPES) keys.set(t, makeKey(tmp.dir, `host_${t}`, t));
  const ak = join(tmp.dir, 'authorized_keys');
  writeFileSync(ak, '');
  await Promise.all(
    TYPES.map(async (t) => {
      ours.set(t, await startServer({ timeoutMs: STARTUP_MS, args: ['--authorized', ak, '--host-key', keys.get(t)!.path] }));
      theirs.set(t, await startSshd({ timeoutMs: STARTUP_MS, hostKeys: [keys.get(t)!.path] }));
    }),
  );
});

after(async () => {
  await Promise.all([...ours.values()].map((s) => s.stop()));
  await Promise.all([...theirs.values()].map((s) => s.stop()));
  tmp.cleanup();
});

/** `ssh-audit -b -n -p PORT 127.0.0.1`: its output lines, after checking it reached an SSH server. */
async function audit(port: number): Promise<string[]> {
  const r = await peerRun('ssh-audit', ['-b', '-n', '-t', '20', '-p', String(port), '127.0.0.1'], { timeoutMs: 90_000 });
  assert.equal(r.timedOut, false, show(r));
  const lines = r.stdout.toString().split('\n');
  assert.ok(lines.some((l) => /^\(gen\) banner: SSH-2\.0-/.test(l)), `ssh-audit did not reach the server: ${show(r)}`);
  return lines;
}

/** The `[fail]` findings, as `(section) algorithm -- why` lines, without duplicates. */
const fails = (lines: string[]) => [...new Set(lines.filter((l) => l.includes('[fail]')).map((l) => l.trim()))].sort();

describe('ssh-audit: no [fail] that OpenSSH 9.2 defaults do not get too', { concurrency: 3 }, () => {
  for (const t of TYPES) {
    test(`host key ${t}`, async () => {
      const [mine, sshd] = await Promise.all([audit(ours.get(t)!.port), audit(theirs.get(t)!.port)]);
      const extra = fails(mine).filter((f) => !fails(sshd).includes(f));
      assert.deepEqual(extra, [], `sshkit-only [fail] findings:\n${extra.join('\n')}\n\nsshkit:\n${mine.join('\n')}\n\nsshd:\n${sshd.join('\n')}`);
      // Named, because ssh2 adds it by itself: no SHA-1 host-key signature and no SHA-1 MAC offered.
      assert.equal(mine.filter((l) => /^\(key\) ssh-rsa\b|^\(mac\) hmac-sha1\b/.test(l)).length, 0, mine.join('\n'));
      if (t.startsWith('rsa')) assert.ok(mine.some((l) => /^\(key\) rsa-sha2-512 \(3072-bit\)/.test(l)), mine.join('\n'));
    });
  }
});

/**
 * PuTTY 0.78: `plink` against `sshkit serve` (the matrix of test/interop-matrix.ts; keys converted to
 * .ppk by puttygen, host keys pinned with -hostkey SHA256:…, -batch so it never prompts), `pscp -scp`
 * copying 1 MiB both ways through the server's `--exec os` scp, and key files through `puttygen`.
 * PuTTY has no server, so there is no `sshkit exec` direction.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { startServer, type StartedServer } from './server-helper.js';
import { STARTUP_MS, makeKey, mebibyte, peerRun, show, type KeyPair } from './interop-peers.js';
import { ALL_USER_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';
import { keyFileMatrix } from './interop-keyfiles.js';

/** A .ppk copy of an OpenSSH private key (puttygen KEY -O private). */
function ppk(path: string): string {
  const out = `${path}.ppk`;
  if (!existsSync(out)) {
    const r = openssh('puttygen', [path, '-O', 'private', '-o', out]);
    if (r.status !== 0) throw new Error(`puttygen ${path}: ${r.stderr}`);
  }
  return out;
}

/** The SHA256 fingerprint of a public key line, from ssh-keygen -l (what plink -hostkey takes). */
function fp(pub: string): string {
  const r = openssh('ssh-keygen', ['-l', '-f', '-'], { input: pub + '\n' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split(' ')[1];
}

/** plink's fixed options: SSH, never prompt, no anti-spoofing line, a pinned host key, a private HOME. */
function plinkArgs(c: { port: number; user: string; hostPub: string }): string[] {
  return ['-ssh', '-batch', '-no-antispoof', '-noagent', '-P', String(c.port), '-l', c.user, '-hostkey', fp(c.hostPub)];
}

function plink(c: ClientCell) {
  const args = plinkArgs(c);
  if (c.key) args.push('-i', ppk(c.key.path));
  if (c.password) args.push('-pw', c.password);
  args.push(c.ptyShell ? '-t' : '-T', '127.0.0.1');
  if (!c.ptyShell) args.push(c.command!);
  return peerRun('plink', args, { input: c.input, env: { HOME: c.dir }, timeoutMs: 60_000 });
}

clientMatrix({ name: 'PuTTY plink', keyTypes: ALL_USER_TYPES, password: true, run: plink });

describe('pscp -scp, 1 MiB each way, byte-exact', { concurrency: 2 }, () => {
  const tmp = tempDir('sshkit-interop-pscp-');
  let srv: StartedServer;
  let user: KeyPair;
  let host: KeyPair;
  const data = mebibyte();
  before(async () => {
    user = makeKey(tmp.dir, 'user', 'ed25519');
    host = makeKey(tmp.dir, 'host', 'ed25519');
    writeFileSync(join(tmp.dir, 'ak'), user.pub + '\n');
    srv = await startServer({ timeoutMs: STARTUP_MS, args: ['--authorized', join(tmp.dir, 'ak'), '--host-key', host.path, '--exec', 'os'] });
    mkdirSync(join(tmp.dir, 'remote'));
    writeFileSync(join(tmp.dir, 'remote', 'down.bin'), data);
    writeFileSync(join(tmp.dir, 'up.bin'), data);
  });
  after(async () => {
    await srv?.stop();
    tmp.cleanup();
  });
  const pscp = (from: string, to: string) =>
    peerRun('pscp', ['-scp', '-batch', '-noagent', '-P', String(srv.port), '-l', 'alice', '-hostkey', fp(host.pub), '-i', ppk(user.path), from, to], { env: { HOME: tmp.dir }, timeoutMs: 60_000 });
  test('upload: pscp FILE host:PATH', async () => {
    const r = await pscp(join(tmp.dir, 'up.bin'), `127.0.0.1:${join(tmp.dir, 'remote', 'up.bin')}`);
    assert.equal(r.status, 0, show(r));
    assert.ok(readFileSync(join(tmp.dir, 'remote', 'up.bin')).equals(data));
  });
  test('download: pscp host:PATH FILE', async () => {
    const r = await pscp(`127.0.0.1:${join(tmp.dir, 'remote', 'down.bin')}`, join(tmp.dir, 'down.bin'));
    assert.equal(r.status, 0, show(r));
    assert.ok(readFileSync(join(tmp.dir, 'down.bin')).equals(data));
  });
  test('a wrong pinned host key: refused, nothing copied (beside the two above)', async () => {
    const other = makeKey(tmp.dir, 'other', 'ed25519');
    const r = await peerRun('pscp', ['-scp', '-batch', '-noagent', '-P', String(srv.port), '-l', 'alice', '-hostkey', fp(other.pub), '-i', ppk(user.path), `127.0.0.1:${join(tmp.dir, 'remote', 'down.bin')}`, join(tmp.dir, 'never.bin')], { env: { HOME: tmp.dir }, timeoutMs: 60_000 });
    assert.notEqual(r.status, 0, show(r));
    assert.equal(existsSync(join(tmp.dir, 'never.bin')), false);
  });
});

const PUTTY_TYPES: Record<string, string[]> = {
  ed25519: ['-t', 'ed25519'],
  ecdsa256: ['-t', 'ecdsa', '-b', '256'],
  ecdsa384: ['-t', 'ecdsa', '-b', '384'],
  ecdsa521: ['-t', 'ecdsa', '-b', '521'],
  rsa2048: ['-t', 'rsa', '-b', '2048'],
};

keyFileMatrix({
  name: 'puttygen',
  types: Object.keys(PUTTY_TYPES),
  readPrivate: async (path) => {
    const r = await peerRun('puttygen', [path, '-L']); // -L: the public key, OpenSSH form
    if (r.status !== 0) throw new Error(`puttygen -L: ${r.stderr}`);
    return r.stdout.toString();
  },
  write: async (type, dir) => {
    const f = join(dir, `putty_${type}`);
    const empty = join(dir, 'empty-passphrase');
    writeFileSync(empty, '');
    const g = await peerRun('puttygen', [...PUTTY_TYPES[type], '-C', `putty-${type}`, '-q', '--new-passphrase', empty, '-O', 'private-openssh-new', '-o', f]);
    if (g.status !== 0) throw new Error(`puttygen -t: ${g.stderr}`);
    // The OpenSSH public line of that same key, written by puttygen from its private file.
    const p = await peerRun('puttygen', [f, '-O', 'public-openssh', '-o', `${f}.pub`]);
    if (p.status !== 0) throw new Error(`puttygen -O public-openssh: ${p.stderr}`);
    return [f, `${f}.pub`];
  },
});

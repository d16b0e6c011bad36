/**
 * Dropbear 2022.83, both ways and its key tools: `dbclient` against `sshkit serve` (the matrix of
 * test/interop-matrix.ts; keys converted with dropbearconvert, host keys pinned in ~/.ssh/known_hosts of
 * a private HOME, passwords through DROPBEAR_PASSWORD), `sshkit exec` against the `dropbear` server, and
 * key files through `dropbearkey` / `dropbearconvert`.
 *
 * The dropbear server reads authorized_keys from the login user's home in the passwd database, so it is
 * run as root inside a private mount namespace (`unshare -m`) with a temp folder bound over that home:
 * the real ~/.ssh is never read or written.
 */
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openssh } from './helpers.js';
import { startSshd } from './sshd-helper.js';
import { STARTUP_MS, freePort, peerRun, pinnedHome, show, startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';
import { serverMatrix } from './interop-server-matrix.js';
import { keyFileMatrix } from './interop-keyfiles.js';

const CONVERT = '/usr/lib/dropbear/dropbearconvert';

/** A Dropbear-format copy of an OpenSSH private key (dropbearconvert openssh dropbear). */
function dropbearKey(path: string): string {
  const out = `${path}.dropbear`;
  if (!existsSync(out)) {
    const r = openssh(CONVERT, ['openssh', 'dropbear', path, out]);
    if (r.status !== 0) throw new Error(`dropbearconvert ${path}: ${r.stderr}`);
  }
  return out;
}

function dbclient(c: ClientCell) {
  const home = pinnedHome(c.dir, c.port, c.hostPub);
  const args = ['-p', String(c.port)];
  if (c.key) args.push('-i', dropbearKey(c.key.path));
  if (c.ptyShell) args.push('-t');
  args.push(`${c.user}@127.0.0.1`);
  if (!c.ptyShell) args.push(c.command!);
  const env = { HOME: home, ...(c.password ? { DROPBEAR_PASSWORD: c.password } : {}) };
  // dbclient -t needs a local terminal ("Failed to set raw TTY mode"): give it one with script(1).
  if (c.ptyShell) return peerRun('script', ['-qec', ['dbclient', ...args].map(shellQuote).join(' '), '/dev/null'], { input: c.input, env, timeoutMs: 60_000 });
  return peerRun('dbclient', args, { input: c.input, env, timeoutMs: 60_000 });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const EXITS_ZERO = 'dbclient exits 0 with "Disconnect received" when the server gives up on its failed attempts; OpenSSH sshd gets the same (test below)';
clientMatrix({ name: 'Dropbear dbclient', keyTypes: ALL_USER_TYPES, password: true, exitsZeroWhenRefused: EXITS_ZERO, run: dbclient });

describe('dbclient quirk, shown against OpenSSH sshd', () => {
  test('a wrong DROPBEAR_PASSWORD against sshd: no command runs, yet dbclient exits 0', async () => {
    const sshd = await startSshd({ timeoutMs: STARTUP_MS, config: ['Match all', 'PasswordAuthentication yes'] }); // Match overrides the helper's "PasswordAuthentication no"
    try {
      const r = await peerRun('dbclient', ['-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'echo must-not-run'], {
        env: { HOME: pinnedHome(sshd.dir, sshd.port, sshd.hostKeyPub), DROPBEAR_PASSWORD: 'not the password' },
        timeoutMs: 60_000,
      });
      assert.equal(r.timedOut, false, show(r));
      assert.equal(r.stdout.length, 0, show(r));
      assert.equal(r.status, 0, show(r));
      assert.match(r.stderr, /Disconnect received/, show(r));
    } finally {
      await sshd.stop();
    }
  });
});

const asRoot = process.getuid?.() === 0;
if (!asRoot) test('sshkit exec → Dropbear server', { skip: 'needs root: dropbear reads ~/.ssh of the login user, given through a private mount namespace' }, () => {});
else serverMatrix({
  name: 'Dropbear server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys, dir }) => {
    const home = join(dir, `dropbear-home-${hostKey.name}`);
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'authorized_keys'), readFileSync(authorizedKeys), { mode: 0o600 });
    const port = await freePort();
    const script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"';
    const d = await startDaemon('unshare', ['-m', 'sh', '-c', script, 'sh', home, homedir(), 'dropbear', '-F', '-E', '-s', '-p', `127.0.0.1:${port}`, '-r', dropbearKey(hostKey.path), '-P', join(home, 'pid')], /Not backgrounding/, { port });
    return { port: d.port, user: 'root', stop: d.stop };
  },
});

const DB_TYPES: Record<string, string[]> = {
  ed25519: ['-t', 'ed25519'],
  ecdsa256: ['-t', 'ecdsa', '-s', '256'],
  ecdsa384: ['-t', 'ecdsa', '-s', '384'],
  ecdsa521: ['-t', 'ecdsa', '-s', '521'],
  rsa2048: ['-t', 'rsa', '-s', '2048'],
};

keyFileMatrix({
  name: 'dropbearkey/dropbearconvert',
  types: Object.keys(DB_TYPES),
  readPrivate: async (path) => {
    const r = await peerRun('dropbearkey', ['-y', '-f', dropbearKey(path)]); // prints "Public key portion is:\n<line>"
    if (r.status !== 0) throw new Error(`dropbearkey -y: ${r.stderr}`);
    return r.stdout.toString().split('\n')[1];
  },
  write: async (type, dir) => {
    const f = join(dir, `dropbear_${type}`);
    const g = await peerRun('dropbearkey', [...DB_TYPES[type], '-f', f]);
    if (g.status !== 0) throw new Error(`dropbearkey: ${g.stderr}`);
    const pub = `${f}.pub`;
    writeFileSync(pub, g.stdout.toString().split('\n')[1] + '\n'); // the public line dropbearkey printed
    const c = await peerRun(CONVERT, ['dropbear', 'openssh', f, `${f}.openssh`]);
    if (c.status !== 0) throw new Error(`dropbearconvert: ${c.stderr}`);
    return [pub, `${f}.openssh`];
  },
});


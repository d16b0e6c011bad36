/**
 * Twisted Conch 22.4 (python3-twisted's `conch3`, the client of issue 10's seed document) against
 * `sshkit serve`: the client matrix of test/interop-matrix.ts. Conch pins host keys through a
 * known_hosts file matched by host name alone (not port), so each cell writes its own.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { peerRun } from './interop-peers.js';
import { ALL_USER_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function conch(c: ClientCell) {
  const kh = join(c.dir, `conch-kh-${c.port}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(kh, `127.0.0.1 ${c.hostPub}\n`);
  const args = ['-a', '-i', c.key!.path, '-p', String(c.port), '-l', c.user, '--known-hosts', kh, '127.0.0.1'];
  // A pty shell needs a local terminal (conch sets it raw): give it one with script(1).
  if (c.ptyShell) return peerRun('script', ['-qec', ['conch3', '-t', ...args].map(shellQuote).join(' '), '/dev/null'], { input: c.input, timeoutMs: c.timeoutMs ?? 60_000 });
  // Conch drops the output when its stdin is at EOF before the reply comes (against sshd too): keep
  // stdin open unless the command reads it.
  // With its key refused Conch asks for a password on /dev/tty; without one it fails there and then
  // hangs: that failure ends the cell.
  return peerRun('conch3', [...args, c.command!], { input: c.input, holdStdin: c.input === undefined, timeoutMs: c.timeoutMs ?? 60_000, failOn: /No such device or address: '\/dev\/tty'/ });
}

clientMatrix({
  name: 'Twisted Conch',
  keyTypes: ALL_USER_TYPES,
  password: 'conch3 reads a password only from its terminal (no batch option)',
  peerFailures: {
    'user-rsa3072': 'Conch 22.4 signs RSA user auth with SHA-1 ssh-rsa only, which OpenSSH 9.2 refuses by default too; it then asks for a password on /dev/tty, or hangs when none is offered',
    'host-rsa3072': 'Conch 22.4 knows only SHA-1 ssh-rsa host-key signatures: "couldn\'t match all kex parts"',
    mib: 'conch3 stops reading the channel once its stdin reaches EOF, so most of the output is lost',
  },
  run: conch,
});

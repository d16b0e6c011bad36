/**
 * libssh 0.10 (Debian's libssh-dev): test/peers/libssh-client.c, compiled per run with
 * `cc … $(pkg-config --cflags --libs libssh)`, as a client of `sshkit serve` (the matrix of
 * test/interop-matrix.ts). It pins the host key itself (ssh_key_cmp against the given public key).
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { libsshPeer, peerRun } from './interop-peers.js';
import { ALL_USER_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';

async function run(c: ClientCell) {
  const pin = join(c.dir, `pin-${c.port}-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(pin, c.hostPub + '\n');
  const args = [String(c.port), c.user, pin];
  args.push(...(c.key ? ['key', c.key.path] : ['password', c.password!]));
  if (c.ptyShell) args.push('pty', 'shell');
  args.push('--', c.command ?? '');
  return peerRun(await libsshPeer(), args, { input: c.input, timeoutMs: 60_000 });
}

clientMatrix({ name: 'libssh', keyTypes: ALL_USER_TYPES, password: true, run });

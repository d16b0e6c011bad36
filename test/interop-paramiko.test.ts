/**
 * Paramiko (Debian's python3-paramiko, run with /usr/bin/python3 through test/peers/py-client.py) as a client
 * of `sshkit serve` (the client matrix of test/interop-matrix.ts) and key files each way. (Paramiko's
 * server is a toolkit, not a program: the server direction is covered by AsyncSSH, Go and Dropbear.)
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ROOT } from './helpers.js';
import { peerRun } from './interop-peers.js';
import { ALL_USER_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';
import { KEY_FILE_TYPES, keyFileMatrix } from './interop-keyfiles.js';

const PY = join(ROOT, 'test/peers/py-client.py');
const KEYS = join(ROOT, 'test/peers/py-keys.py');

function run(c: ClientCell) {
  const pin = join(c.dir, `pin-${c.port}-${c.hostPub.length}-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(pin, c.hostPub + '\n');
  const args = [PY, 'paramiko', '--port', String(c.port), '--user', c.user, '--host-pub', pin];
  if (c.key) args.push('--key', c.key.path);
  if (c.password) args.push('--password', c.password);
  if (c.ptyShell) args.push('--pty', '--shell');
  else args.push('--cmd', c.command!);
  return peerRun('/usr/bin/python3', args, { input: c.input, timeoutMs: 60_000 });
}

clientMatrix({ name: 'Paramiko', keyTypes: ALL_USER_TYPES, password: true, run });

keyFileMatrix({
  name: 'Paramiko',
  types: KEY_FILE_TYPES.filter((t) => t !== 'ed25519'), // Paramiko 2.12 cannot generate ed25519 keys
  readPrivate: async (path) => {
    const r = await peerRun('/usr/bin/python3', [KEYS, 'paramiko', 'read', path]);
    if (r.status !== 0) throw new Error(`py-keys.py paramiko read: ${r.stderr}`);
    return r.stdout.toString();
  },
  write: async (type, dir) => {
    const out = join(dir, `paramiko_${type}`);
    const r = await peerRun('/usr/bin/python3', [KEYS, 'paramiko', 'write', type, out]);
    if (r.status !== 0) throw new Error(`py-keys.py paramiko write: ${r.stderr}`);
    return [out, `${out}.pub`];
  },
});

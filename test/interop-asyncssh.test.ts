/**
 * AsyncSSH (Debian's python3-asyncssh, run with /usr/bin/python3 through test/peers/py-client.py) as a client
 * of `sshkit serve`: the whole client matrix of test/interop-matrix.ts.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ROOT } from './helpers.js';
import { peerRun } from './interop-peers.js';
import { ALL_USER_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';

const PY = join(ROOT, 'test/peers/py-client.py');

function run(c: ClientCell) {
  const pin = join(c.dir, `pin-${c.port}-${c.hostPub.length}-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(pin, c.hostPub + '\n');
  const args = [PY, 'asyncssh', '--port', String(c.port), '--user', c.user, '--host-pub', pin];
  if (c.key) args.push('--key', c.key.path);
  if (c.password) args.push('--password', c.password);
  if (c.ptyShell) args.push('--pty', '--shell');
  else args.push('--cmd', c.command!);
  return peerRun('/usr/bin/python3', args, { input: c.input, timeoutMs: 60_000 });
}

clientMatrix({ name: 'AsyncSSH', keyTypes: ALL_USER_TYPES, password: true, run });

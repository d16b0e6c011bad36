/**
 * AsyncSSH (Debian's python3-asyncssh, run with /usr/bin/python3 through test/peers/py-client.py) as a client
 * of `sshkit serve` (the client matrix of test/interop-matrix.ts), its server (test/peers/py-server.py)
 * for `sshkit exec`, and key files each way.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ROOT } from './helpers.js';
import { peerRun, startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';
import { KEY_FILE_TYPES, keyFileMatrix } from './interop-keyfiles.js';
import { serverMatrix } from './interop-server-matrix.js';

const PY = join(ROOT, 'test/peers/py-client.py');
const KEYS = join(ROOT, 'test/peers/py-keys.py');

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

keyFileMatrix({
  name: 'AsyncSSH',
  types: KEY_FILE_TYPES,
  readPrivate: async (path) => {
    const r = await peerRun('/usr/bin/python3', [KEYS, 'asyncssh', 'read', path]);
    if (r.status !== 0) throw new Error(`py-keys.py asyncssh read: ${r.stderr}`);
    return r.stdout.toString();
  },
  write: async (type, dir) => {
    const out = join(dir, `asyncssh_${type}`);
    const r = await peerRun('/usr/bin/python3', [KEYS, 'asyncssh', 'write', type, out]);
    if (r.status !== 0) throw new Error(`py-keys.py asyncssh write: ${r.stderr}`);
    return [out, `${out}.pub`];
  },
});

serverMatrix({
  name: 'AsyncSSH server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys }) => {
    const d = await startDaemon('/usr/bin/python3', [join(ROOT, 'test/peers/py-server.py'), '--host-key', hostKey.path, '--authorized', authorizedKeys], /listening (\d+)/);
    return { port: d.port, user: 'anyone', stop: d.stop };
  },
});

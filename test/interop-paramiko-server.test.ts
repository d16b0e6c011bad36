/**
 * Paramiko 2.12 (Debian's python3-paramiko, run with /usr/bin/python3) as a server for `sshkit exec`:
 * test/peers/paramiko-server.py (paramiko.ServerInterface + Transport, public-key auth against an
 * authorized_keys file, exec through /bin/sh) through the matrix of test/interop-server-matrix.ts.
 * Its client side is in test/interop-paramiko.test.ts.
 */
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES } from './interop-matrix.js';
import { serverMatrix } from './interop-server-matrix.js';

serverMatrix({
  name: 'Paramiko server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys }) => {
    const d = await startDaemon('/usr/bin/python3', [join(ROOT, 'test/peers/paramiko-server.py'), '--host-key', hostKey.path, '--authorized', authorizedKeys], /listening (\d+)/);
    return { port: d.port, user: 'anyone', stop: d.stop };
  },
});

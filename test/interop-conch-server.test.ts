/**
 * Twisted Conch 22.4 (python3-twisted, run with /usr/bin/python3) as a server for `sshkit exec`:
 * test/peers/conch-server.py (a cred portal with Conch's SSHPublicKeyChecker over an authorized_keys
 * file, exec through /bin/sh by reactor.spawnProcess) through the matrix of test/interop-server-matrix.ts.
 * Conch's server side signs its RSA host key with rsa-sha2-512 (checked with `ssh -v`), unlike its client.
 * Its client side is in test/interop-conch.test.ts.
 */
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES } from './interop-matrix.js';
import { serverMatrix } from './interop-server-matrix.js';

serverMatrix({
  name: 'Twisted Conch server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys }) => {
    const d = await startDaemon('/usr/bin/python3', [join(ROOT, 'test/peers/conch-server.py'), '--host-key', hostKey.path, '--authorized', authorizedKeys], /listening (\d+)/);
    return { port: d.port, user: 'anyone', stop: d.stop };
  },
});

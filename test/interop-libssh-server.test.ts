/**
 * libssh 0.10 (Debian's libssh-dev) as a server for `sshkit exec`: test/peers/libssh-server.c (ssh_bind +
 * ssh_event, exec only; public-key auth against an authorized_keys file, libssh verifying the
 * signature), compiled here with `cc … $(pkg-config --cflags --libs libssh)`, through the matrix of
 * test/interop-server-matrix.ts. Its client side is in test/interop-libssh.test.ts.
 */
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { peerRun, scratch, show, startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES } from './interop-matrix.js';
import { serverMatrix } from './interop-server-matrix.js';

let built: Promise<string> | undefined;
/** test/peers/libssh-server.c compiled once per test process (the message API it uses is deprecated in 0.10, still supported). */
function libsshServer(): Promise<string> {
  built ??= (async () => {
    const pc = await peerRun('pkg-config', ['--cflags', '--libs', 'libssh']);
    if (pc.status !== 0) throw new Error(`pkg-config libssh: ${show(pc)} (install libssh-dev)`);
    const out = join(scratch(), 'libssh-server');
    const flags = pc.stdout.toString().trim().split(/\s+/).filter(Boolean);
    const r = await peerRun('cc', ['-O1', '-Wno-deprecated-declarations', '-o', out, join(ROOT, 'test/peers/libssh-server.c'), ...flags], { timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`cc test/peers/libssh-server.c failed: ${show(r)}`);
    return out;
  })();
  return built;
}

serverMatrix({
  name: 'libssh server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys }) => {
    const d = await startDaemon(await libsshServer(), [hostKey.path, authorizedKeys], /listening (\d+)/);
    return { port: d.port, user: 'anyone', stop: d.stop };
  },
});

/**
 * Go's golang.org/x/crypto/ssh (Debian's golang-golang-x-crypto-dev; test/peers/go-peer.go built with
 * GO111MODULE=off GOPATH=/usr/share/gocode into a temp folder per run), both ways: its client against
 * `sshkit serve` (the matrix of test/interop-matrix.ts) and `sshkit exec` against its server.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { goPeer, peerRun, startDaemon } from './interop-peers.js';
import { ALL_USER_TYPES, HOST_TYPES, clientMatrix, type ClientCell } from './interop-matrix.js';
import { serverMatrix } from './interop-server-matrix.js';

/** Go does not narrow its host-key algorithms to a pinned key's type: name it, as a Go program would. */
function hostAlg(pub: string): string {
  const type = pub.split(' ')[0];
  return type === 'ssh-rsa' ? 'rsa-sha2-512' : type;
}

async function run(c: ClientCell) {
  const pin = join(c.dir, `pin-${c.port}-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(pin, c.hostPub + '\n');
  const args = ['client', '-port', String(c.port), '-user', c.user, '-host-pub', pin, '-host-alg', hostAlg(c.hostPub)];
  if (c.key) args.push('-key', c.key.path);
  if (c.password) args.push('-password', c.password);
  if (c.ptyShell) args.push('-pty', '-shell');
  else args.push('-cmd', c.command!);
  return peerRun(await goPeer(), args, { input: c.input, timeoutMs: 60_000 });
}

clientMatrix({ name: 'Go x/crypto/ssh', keyTypes: ALL_USER_TYPES, password: true, run });

serverMatrix({
  name: 'Go x/crypto/ssh server',
  keyTypes: ALL_USER_TYPES,
  hostTypes: HOST_TYPES,
  start: async ({ hostKey, authorizedKeys }) => {
    const d = await startDaemon(await goPeer(), ['server', '-port', '0', '-host-key', hostKey.path, '-authorized', authorizedKeys], /listening (\d+)/);
    return { port: d.port, user: 'anyone', stop: d.stop };
  },
});

// The README's "## Library" examples, run as they are by test/library-consumer.test.ts (in a project
// where the packed sshkit is installed, cwd holding keys ssh-keygen made). Keep README and this in step.
import { createReadStream, readFileSync } from 'node:fs';
import { fingerprint, parseAuthorizedKeys, parsePublicKey, sshsig, SshkitError } from 'sshkit';
import { createServer } from 'sshkit/server';
import { exec } from 'sshkit/client';

// Keys: strict parsing, fingerprints as `ssh-keygen -l` prints them
const key = parsePublicKey(readFileSync('id_ed25519.pub', 'utf8'));
console.log(fingerprint(key)); // SHA256:…            (ssh-keygen -lf id_ed25519.pub)
console.log(fingerprint(key, 'md5')); // MD5:aa:bb:…  (ssh-keygen -E md5 -lf id_ed25519.pub)

// authorized_keys: the good lines are kept, each bad one is reported with its line number
const { keys, errors } = parseAuthorizedKeys(readFileSync('authorized_keys', 'utf8'));
console.log(`${keys.length} keys`);
for (const e of errors) console.log(`authorized_keys:${e.line}: ${e.message}`);

// Errors carry a stable string code
try {
  parsePublicKey('ssh-ed25519 AAAA');
} catch (err) {
  if (err instanceof SshkitError) console.log(`${err.code}: ${err.message}`);
}

// SSHSIG: sign as `ssh-keygen -Y sign -n file`, verify as `ssh-keygen -Y verify`
const signature = await sshsig.sign({
  privateKey: readFileSync('id_ed25519'),
  namespace: 'file',
  data: createReadStream('message.txt'), // a Buffer or a string works too
});
const v = await sshsig.verify({
  signature,
  data: readFileSync('message.txt'),
  namespace: 'file',
  allowedSigners: readFileSync('allowed_signers', 'utf8'),
  identity: 'alice@example.com',
});
console.log(v.ok ? `Good signature by ${v.signer.fingerprint}` : `Bad signature: ${v.reason}`);

// An SSH server: your keys lookup, your last word on each login, your exec handler
const srv = await createServer({
  host: '127.0.0.1',
  port: 0,
  hostKeys: [readFileSync('host_ed25519', 'utf8')],
  authorized: (user) => (user === 'alice' ? readFileSync('id_ed25519.pub', 'utf8') : ''),
  authorize: ({ user, method, fingerprint }) => user === 'alice' && method === 'publickey' && fingerprint !== undefined,
  onExec: ({ user, command, stdout }) => {
    stdout.write(`hello ${user}, you ran: ${command}\n`);
    return 0; // the exit status ssh reports
  },
});

// The client: run one command, trusting the host key by its fingerprint
const r = await exec({
  host: '127.0.0.1',
  port: srv.port,
  user: 'alice',
  command: 'uptime',
  privateKeys: [readFileSync('id_ed25519', 'utf8')],
  hostFingerprints: srv.hostKeyFingerprints, // or knownHosts: [...] with strictHostKeyChecking
});
process.stdout.write(`exit ${r.status}: ${r.stdout}`);
await srv.stop();

/**
 * A consumer of the packed sshkit (test/library-consumer.test.ts): compiled with `strict` against the
 * installed package's declarations, then run. `core DIR` prints one JSON document of the core calls on
 * ssh-keygen-made files in DIR; `server DIR` starts a server, prints `{port, …}` with the client's
 * results against it, and stops when its stdin ends.
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint, parseAuthorizedKeys, parsePublicKey, sshsig, SshkitError, type PublicKey, type VerifyResult } from 'sshkit';
import { createServer, type AuthAttempt, type ExecSession, type SshServer } from 'sshkit/server';
import { exec, type ExecOutcome } from 'sshkit/client';

const [mode, dir] = process.argv.slice(2);
const read = (name: string): string => readFileSync(join(dir, name), 'utf8');

async function core(): Promise<unknown> {
  const key: PublicKey = parsePublicKey(read('id_ed25519.pub'));
  const rsa = parsePublicKey(read('id_rsa.pub'));
  const ak = parseAuthorizedKeys(read('authorized_keys'));
  const good: VerifyResult = await sshsig.verify({
    signature: read('msg.sig'),
    data: readFileSync(join(dir, 'msg')),
    namespace: 'file',
    allowedSigners: read('allowed_signers'),
    identity: 'alice@example.com',
  });
  const streamed = await sshsig.verify({
    signature: read('msg.sig'),
    data: createReadStream(join(dir, 'msg')),
    namespace: 'file',
    allowedSigners: read('allowed_signers'),
    identity: 'alice@example.com',
  });
  const wrongIdentity = await sshsig.verify({ signature: read('msg.sig'), data: read('msg'), namespace: 'file', allowedSigners: read('allowed_signers'), identity: 'mallory@example.com' });
  const wrongData = await sshsig.verify({ signature: read('msg.sig'), data: 'not the message', namespace: 'file', allowedSigners: read('allowed_signers'), identity: 'alice@example.com' });
  const armored: string = await sshsig.sign({ privateKey: read('id_ed25519'), namespace: 'file', data: createReadStream(join(dir, 'msg')) });
  writeFileSync(join(dir, 'ours.sig'), armored);
  const encrypted = await sshsig.sign({ privateKey: read('id_enc'), passphrase: 'correct horse', namespace: 'file', data: Buffer.from(read('msg')), hash: 'sha256' });
  writeFileSync(join(dir, 'ours-enc.sig'), encrypted);
  let error: { code: string; status: number; name: string; isSshkitError: boolean; message: string } | null = null;
  try {
    parsePublicKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIQ== truncated');
  } catch (err) {
    if (err instanceof SshkitError) {
      const code: string = err.code;
      // @ts-expect-error the code is a string, not the exit status
      const wrong: number = err.code;
      void wrong;
      error = { code, status: err.status, name: err.name, isSshkitError: true, message: err.message };
    }
  }
  let passphrase: string | null = null;
  try {
    await sshsig.sign({ privateKey: read('id_enc'), passphrase: 'wrong', namespace: 'file', data: 'x' });
  } catch (err) {
    passphrase = err instanceof SshkitError ? err.code : 'not an SshkitError';
  }
  return {
    sha256: fingerprint(key),
    md5: fingerprint(key, 'md5'),
    rsaSha256: fingerprint(rsa),
    comment: key.comment,
    authorized: { keys: ak.keys.map((k) => ({ line: k.line, fingerprint: fingerprint(k.key), command: k.options.command ?? null })), errors: ak.errors },
    good: { ok: good.ok, signer: good.signer.fingerprint },
    streamed: streamed.ok,
    wrongIdentity: { ok: wrongIdentity.ok, reason: wrongIdentity.reason ?? null },
    wrongData: { ok: wrongData.ok, reason: wrongData.reason ?? null },
    error,
    passphrase,
  };
}

/** Runs exec and reports either its outcome or the SshkitError code it failed with. */
async function tryExec(run: () => Promise<ExecOutcome>): Promise<{ status?: number; stdout?: string; code?: string; message?: string }> {
  try {
    const r = await run();
    return { status: r.status, stdout: r.stdout.toString() };
  } catch (err) {
    return err instanceof SshkitError ? { code: err.code, message: err.message } : { code: 'not an SshkitError', message: String(err) };
  }
}

async function server(): Promise<void> {
  const denied = fingerprint(parsePublicKey(read('id_denied.pub')));
  const attempts: AuthAttempt[] = [];
  const srv: SshServer = await createServer({
    host: '127.0.0.1',
    port: 0,
    hostKeys: [read('host_ed25519')],
    // both keys are listed for alice; the decision callback vetoes one of them
    authorized: (user: string) => (user === 'alice' ? read('id_ed25519.pub') + read('id_denied.pub') : ''),
    authorize: (a: AuthAttempt) => {
      attempts.push(a);
      return a.fingerprint !== denied;
    },
    onExec: (s: ExecSession) => {
      s.stdout.write(`hello ${s.user}: ${s.command}\n`);
      return s.command === 'fail' ? 3 : 0;
    },
  });
  const base = { host: '127.0.0.1', port: srv.port, user: 'alice', privateKeys: [read('id_ed25519')] };
  const pinned = await tryExec(() => exec({ ...base, command: 'via-client', hostFingerprints: srv.hostKeyFingerprints }));
  const status3 = await tryExec(() => exec({ ...base, command: 'fail', hostFingerprints: srv.hostKeyFingerprints }));
  const wrongPin = await tryExec(() => exec({ ...base, command: 'x', hostFingerprints: ['SHA256:' + 'A'.repeat(43)] }));
  const unknownHost = await tryExec(() => exec({ ...base, command: 'x', knownHosts: [join(dir, 'known_hosts_empty')], strictHostKeyChecking: 'yes' }));
  const acceptNew = await tryExec(() => exec({ ...base, command: 'first', knownHosts: [join(dir, 'known_hosts_new')], strictHostKeyChecking: 'accept-new' }));
  const known = await tryExec(() => exec({ ...base, command: 'second', knownHosts: [join(dir, 'known_hosts_new')], strictHostKeyChecking: 'yes' }));
  const vetoed = await tryExec(() => exec({ ...base, privateKeys: [read('id_denied')], command: 'x', hostFingerprints: srv.hostKeyFingerprints }));
  process.stdout.write(JSON.stringify({ port: srv.port, hostKeys: srv.hostKeyFingerprints, pinned, status3, wrongPin, unknownHost, acceptNew, known, vetoed }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => {
    void srv.stop().then(() => process.stdout.write(JSON.stringify({ stopped: true, attempts }) + '\n'));
  });
}

if (mode === 'core') process.stdout.write(JSON.stringify(await core()) + '\n');
else if (mode === 'server') await server();
else throw new Error(`usage: consumer core|server DIR`);

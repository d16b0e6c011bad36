/**
 * exec's host-key policy (src/client/host-keys.ts) on its own: host certificates (made by the real
 * `ssh-keygen -s -h`) against @cert-authority lines — ssh2 cannot negotiate certificate host keys, so
 * this path is only reachable here — algorithm ordering, and how accept-new appends.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { clientKey } from './exec-helper.js';
import { HostKeyPolicy, type StrictMode } from '../src/client/host-keys.js';

const tmp = tempDir('sshkit-exec-hk-');
after(() => tmp.cleanup());

const ca = clientKey(tmp.dir, 'ca');
const hostKey = clientKey(tmp.dir, 'host');
const blobOf = (line: string) => Buffer.from(line.split(' ')[1], 'base64');

/** `ssh-keygen -s ca -h -n PRINCIPALS [-V VALIDITY]` on the host key; returns the certificate blob. */
function hostCert(name: string, principals: string, validity?: string): Buffer {
  const pub = join(tmp.dir, `${name}.pub`);
  writeFileSync(pub, hostKey.pub + '\n');
  const r = openssh('ssh-keygen', ['-q', '-s', ca.path, '-I', name, '-h', '-n', principals, ...(validity ? ['-V', validity] : []), pub]);
  assert.equal(r.status, 0, r.stderr);
  return blobOf(readFileSync(join(tmp.dir, `${name}-cert.pub`), 'utf8'));
}

function policy(knownHosts: string, mode: StrictMode = 'yes') {
  const file = join(tmp.dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, knownHosts);
  const notes: string[] = [];
  return { p: HostKeyPolicy.load({ mode, files: [file], warn: (l) => notes.push(l) }), notes, file };
}

const good = hostCert('good', '127.0.0.1,web.example.com,*.example.com');

test('a host certificate signed by an @cert-authority for the host is accepted', () => {
  const { p } = policy(`@cert-authority 127.0.0.1,*.example.com ${ca.pub}\n`);
  assert.deepEqual(p.check('127.0.0.1', 22, good), { ok: true });
  assert.deepEqual(p.check('web.example.com', 22, good), { ok: true });
});

test('principals match exactly: a wildcard principal does not cover a host (as ssh 9.2, checked with HostKeyAlias)', () => {
  const { p } = policy(`@cert-authority *.example.com ${ca.pub}\n`);
  const r = p.check('db.example.com', 22, good);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /name is not a listed principal/);
});

test('a certificate for other names, or expired, is refused with OpenSSH\'s reason', () => {
  const { p } = policy(`@cert-authority * ${ca.pub}\n`);
  const other = p.check('other.org', 22, good);
  assert.equal(other.ok, false);
  assert.match((other as { message: string }).message, /name is not a listed principal/);
  const expired = hostCert('old', '127.0.0.1', '20000101:20000102');
  const r = p.check('127.0.0.1', 22, expired);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /expired/);
});

test('a revoked CA refuses its certificates', () => {
  const { p } = policy(`@cert-authority * ${ca.pub}\n@revoked * ${ca.pub}\n`);
  const r = p.check('127.0.0.1', 22, good);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /revoked by .*:2/);
});

test('a certificate from a trusted CA whose plain host key is @revoked is refused (as ssh)', () => {
  const { p } = policy(`@cert-authority * ${ca.pub}\n@revoked * ${hostKey.pub}\n`);
  const r = p.check('127.0.0.1', 22, good);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /revoked by .*:2/);
});

test('without a CA line the certified key is judged as a plain key (as ssh), with a note', () => {
  const known = policy(`127.0.0.1 ${hostKey.pub}\n`);
  assert.deepEqual(known.p.check('127.0.0.1', 22, good), { ok: true });
  assert.match(known.notes[0], /no @cert-authority .*its plain key is known/);
  const unknown = policy('');
  assert.equal(unknown.p.check('127.0.0.1', 22, good).ok, false);
});

test('host-key algorithms: the types known for the host come first', () => {
  const ecdsa = clientKey(tmp.dir, 'hk-ecdsa', 'ecdsa');
  const { p } = policy(`[h]:2222 ${ecdsa.pub}\n`);
  assert.equal(p.algorithms('h', 2222)[0], 'ecdsa-sha2-nistp256');
  assert.equal(p.algorithms('other', 2222)[0], 'ssh-ed25519');
  assert.ok(!p.algorithms('h', 2222).includes('ssh-rsa'), 'no SHA-1 RSA host keys');
});

test('accept-new appends a line (after a missing final newline), then knows the key', () => {
  const { p, file, notes } = policy(`# no newline at the end`, 'accept-new');
  assert.deepEqual(p.check('h', 2222, blobOf(hostKey.pub)), { ok: true });
  assert.equal(readFileSync(file, 'utf8'), `# no newline at the end\n[h]:2222 ${hostKey.pub.split(' ').slice(0, 2).join(' ')}\n`);
  assert.match(notes[0], /added \[h\]:2222/);
  assert.equal(openssh('ssh-keygen', ['-F', '[h]:2222', '-f', file]).status, 0);
  // a different key of the same type for the same host is now a change, refused even under accept-new
  const r = p.check('h', 2222, blobOf(ca.pub));
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, new RegExp(`CHANGED.*${file.replace(/[/.]/g, '\\$&')}:2`));
});

test('the certificate verdicts agree with the real ssh (HostKeyAlias) against sshd presenting the certificate', async () => {
  const { startSshd } = await import('./sshd-helper.js');
  const user = clientKey(tmp.dir, 'cert-user');
  const pubFile = join(tmp.dir, 'host.pub');
  writeFileSync(pubFile, hostKey.pub + '\n');
  assert.equal(openssh('ssh-keygen', ['-q', '-s', ca.path, '-I', 'sshd', '-h', '-n', 'web.example.com,*.example.com', pubFile]).status, 0);
  const certFile = join(tmp.dir, 'host-cert.pub');
  const sshd = await startSshd({ authorizedKeys: [user.pub], hostKeys: [hostKey.path], config: [`HostCertificate ${certFile}`] });
  try {
    const cert = blobOf(readFileSync(certFile, 'utf8'));
    const trusted = `@cert-authority * ${ca.pub}\n`;
    const revokedPlain = `${trusted}@revoked * ${hostKey.pub}\n`;
    // web: a listed principal → accepted; db: only the wildcard principal covers it → refused;
    // web again with the plain host key @revoked → refused.
    for (const [alias, known, want] of [['web.example.com', trusted, true], ['db.example.com', trusted, false], ['web.example.com', revokedPlain, false]] as const) {
      const { p, file } = policy(known);
      const ssh = openssh('ssh', ['-F', '/dev/null', '-i', user.path, '-o', 'IdentitiesOnly=yes', '-p', String(sshd.port), '-o', `UserKnownHostsFile=${file}`, '-o', `HostKeyAlias=${alias}`, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', `${sshd.user}@127.0.0.1`, 'true']);
      assert.equal(ssh.status === 0, want, `${alias}: ssh exited ${ssh.status}: ${ssh.stderr}`);
      assert.equal(p.check(alias, 22, cert).ok, want, `${alias}: sshkit's verdict`);
    }
  } finally {
    await sshd.stop();
  }
});

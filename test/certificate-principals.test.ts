/** Certificate principals: exact by default; with `wildcard` the certificate's principals are patterns. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCertificate, parseCertificate } from '../src/core/certificate.js';
import { openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-certp-');
after(cleanup);

test('a host certificate for *.example.com: exact match refuses, wildcard match accepts (pattern is the principal)', () => {
  for (const n of ['ca', 'host']) assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, n)]).status, 0);
  const s = openssh('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-h', '-I', 'h', '-n', '*.example.com', join(dir, 'host.pub')]);
  assert.equal(s.status, 0, s.stderr);
  const cert = parseCertificate(Buffer.from(readFileSync(join(dir, 'host-cert.pub'), 'utf8').split(' ')[1], 'base64'));
  const now = Math.floor(Date.now() / 1000);
  assert.equal(checkCertificate(cert, { now, type: 'host', principal: 'www.example.com' }).ok, false);
  assert.equal(checkCertificate(cert, { now, type: 'host', principal: 'www.example.com', wildcard: true }).ok, true);
  assert.equal(checkCertificate(cert, { now, type: 'host', principal: 'www.example.org', wildcard: true }).ok, false);
});

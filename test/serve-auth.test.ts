/**
 * The server's checker (src/core/pubkey-auth.ts) fed directly: a real SHA-1 `ssh-rsa` signature (which the
 * OpenSSH client will not send to sshkit, since server-sig-algs omits it) is refused while the same key's
 * rsa-sha2-512 signature passes; a signature over other data, a mismatched algorithm and a query for an
 * unlisted key are refused; from= CIDR matching (core addr.ts) on IPv4, mapped and IPv6 addresses.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { matchFromList } from '../src/core/addr.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { parsePublicKeyLine } from '../src/core/key.js';
import { WireWriter } from '../src/core/wire.js';
import { authorizePublicKey } from '../src/core/pubkey-auth.js';
import { openssh, tempDir } from './helpers.js';

describe('server checker: signature policy through core signature.ts', () => {
  const tmp = tempDir('sshkit-serve-auth-');
  const file = join(tmp.dir, 'rsa');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-m', 'PEM', '-f', file]).status, 0);
  const pub = parsePublicKeyLine(readFileSync(file + '.pub', 'utf8'));
  const pem = readFileSync(file, 'utf8');
  loadPrivateKey(pem); // the file is a valid key for the core too
  tmp.cleanup();
  const index = parseAuthorizedKeys(`${pub.type} ${pub.blob.toString('base64')}\n`);
  const data = Buffer.from('session-id and userauth request bytes');
  const sig = (alg: string, hash: string, over = data) =>
    new WireWriter().string(alg).string(createSign(hash).update(over).sign(pem)).toBuffer();
  const req = (algorithm: string, signature?: Buffer) => ({ user: 'alice', algorithm, keyBlob: pub.blob, signature, signedData: signature ? data : undefined, address: '127.0.0.1' });

  test('rsa-sha2-512 and rsa-sha2-256 pass; SHA-1 ssh-rsa is refused', () => {
    assert.equal(authorizePublicKey(index, req('rsa-sha2-512', sig('rsa-sha2-512', 'sha512'))).result, 'ok');
    assert.equal(authorizePublicKey(index, req('rsa-sha2-256', sig('rsa-sha2-256', 'sha256'))).result, 'ok');
    const sha1 = authorizePublicKey(index, req('ssh-rsa', sig('ssh-rsa', 'sha1')));
    assert.equal(sha1.result, 'fail');
    assert.match((sha1 as { reason: string }).reason, /ssh-rsa not accepted/);
  });

  test('signature algorithm must be the one requested; wrong data fails; query answers PK_OK', () => {
    assert.equal(authorizePublicKey(index, req('rsa-sha2-512', sig('rsa-sha2-256', 'sha256'))).result, 'fail');
    assert.equal(authorizePublicKey(index, req('rsa-sha2-512', sig('rsa-sha2-512', 'sha512', Buffer.from('other')))).result, 'fail');
    assert.equal(authorizePublicKey(index, req('rsa-sha2-512')).result, 'query-ok');
    assert.equal(authorizePublicKey(index, req('ssh-ed25519')).result, 'fail');
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const blob = new WireWriter().string('ssh-ed25519').string(other.subarray(-32)).toBuffer();
    assert.equal(authorizePublicKey(index, { ...req('ssh-ed25519'), keyBlob: blob }).result, 'fail');
  });
});

describe('core addr.ts: from= lists', () => {
  const table: Array<[string, string, string]> = [
    ['10.0.0.0/8', '10.1.2.3', 'match'],
    ['10.0.0.0/8', '11.0.0.1', 'none'],
    ['10.0.0.0/8', '::ffff:10.9.9.9', 'match'],
    ['2001:db8::/32', '2001:db8:1::5', 'match'],
    ['2001:db8::/32', '2001:db9::5', 'none'],
    ['127.0.0.*', '127.0.0.1', 'match'],
    ['!127.0.0.1,*', '127.0.0.1', 'negated'],
    ['192.168.0.0/16,!192.168.1.0/24', '192.168.1.7', 'negated'],
    ['10.1.2.3/8', '10.1.2.3', 'throws'],
    ['10.0.0.0/33', '10.1.2.3', 'throws'],
  ];
  for (const [list, addr, want] of table) {
    test(`${list} vs ${addr} → ${want}`, () => {
      if (want === 'throws') assert.throws(() => matchFromList(list, addr));
      else assert.equal(matchFromList(list, addr), want);
    });
  }
});

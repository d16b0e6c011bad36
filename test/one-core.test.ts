/**
 * One core, two callers (STYLE.md): the same signature, made by the real `ssh-keygen -Y sign`, is judged
 * by `sshkit verify-signature` and by the server's public-key checker (src/core/pubkey-auth.ts), and both
 * agree — good as made, refused once a byte of the signed data changes. The fingerprint the server logs
 * is the one `sshkit fingerprint` and `ssh-keygen -l` print.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { dearmorSignature, parseSshsig, signedData } from '../src/core/sshsig.js';
import { authorizePublicKey } from '../src/core/pubkey-auth.js';
import { KEY_TYPES, openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-onecore-');
after(cleanup);
const p = (n: string) => join(dir, n);

for (const [name, args] of Object.entries(KEY_TYPES)) {
  test(`${name}: verify-signature and the server's checker agree on an ssh-keygen signature`, () => {
    assert.equal(openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', 'me', '-f', p(name)]).status, 0);
    const data = Buffer.from(`release ${name}\n`);
    writeFileSync(p(`${name}.data`), data);
    assert.equal(openssh('ssh-keygen', ['-Y', 'sign', '-f', p(name), '-n', 'file', p(`${name}.data`)]).status, 0);
    const line = readFileSync(p(`${name}.pub`), 'utf8').trim();
    writeFileSync(p(`${name}.signers`), `me ${line}\n`);

    const sig = parseSshsig(dearmorSignature(readFileSync(p(`${name}.data.sig`))));
    const index = parseAuthorizedKeys(line + '\n');
    const algorithm = sig.signature.subarray(4, 4 + sig.signature.readUInt32BE(0)).toString();
    const server = (message: Buffer) =>
      authorizePublicKey(index, {
        user: 'me',
        algorithm,
        keyBlob: sig.publicKey,
        signature: sig.signature,
        signedData: signedData('file', sig.hashAlgorithm, createHash(sig.hashAlgorithm).update(message).digest()),
        address: '127.0.0.1',
      });
    const cli = (message: Buffer) =>
      sshkit(['verify-signature', '-f', p(`${name}.signers`), '-I', 'me', '-n', 'file', '-s', p(`${name}.data.sig`)], { input: message });

    const tampered = Buffer.from(data);
    tampered[0] ^= 1;
    const good = server(data);
    assert.equal(good.result, 'ok');
    assert.equal(cli(data).status, 0);
    assert.equal(server(tampered).result, 'fail');
    assert.equal(cli(tampered).status, 1);

    const fp = openssh('ssh-keygen', ['-l', '-f', p(`${name}.pub`)]).stdout.split(' ')[1];
    assert.equal(good.fingerprint, fp);
    assert.equal(sshkit(['fingerprint', p(`${name}.pub`)]).stdout.split(' ')[1], fp);
  });
}

/**
 * `sshkit certify -s CA.pub` against agents that misbehave (a scripted agent on a Unix socket, holding a
 * real RSA CA key): an answer in SHA-1 `ssh-rsa` to an rsa-sha2-512 request (sshkey_certify_custom
 * refuses that too), a signature by another key, garbage, an oversized reply, a closed connection —
 * each refused with one line, exit 2, no certificate written; the same agent answering properly is the
 * control, and its certificate lists under the real `ssh-keygen -L` with `(using rsa-sha2-512)`.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WireReader, WireWriter } from '../src/core/wire.js';
import { openssh, sshkitAsync, tempDir } from './helpers.js';
import { certPath, copyPub, keygenList, makeKey } from './certify-helper.js';

type Mode = 'good' | 'sha1' | 'otherkey' | 'garbage' | 'huge' | 'close' | 'failure';

describe('certify refuses what a misbehaving ssh-agent answers', () => {
  const { dir, cleanup } = tempDir('sshkit-agent-hostile-');
  const sock = join(dir, 'agent.sock');
  let server: Server;
  let mode: Mode = 'good';
  let caBlob: Buffer;
  const caPath = join(dir, 'ca');
  let subject = '';

  function answer(c: Socket, type: number, body: Buffer): void {
    c.write(new WireWriter().u32(body.length + 1).u8(type).raw(body).toBuffer());
  }

  before(async () => {
    // ssh-keygen -m PEM: Node's crypto reads the RSA key to play the agent; ssh-keygen writes the .pub
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', caPath]).status, 0);
    const priv = createPrivateKey(readFileSync(caPath));
    const other = generateKeyPairSync('ed25519').privateKey;
    caBlob = Buffer.from(readFileSync(`${caPath}.pub`, 'utf8').split(' ')[1], 'base64');
    subject = makeKey(dir, 'subject', 'ed25519');
    server = createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const msg = buf.subarray(4, 4 + buf.readUInt32BE(0));
          buf = buf.subarray(4 + msg.length);
          if (msg[0] === 11) {
            answer(c, 12, new WireWriter().u32(1).string(caBlob).string('ca').toBuffer());
            continue;
          }
          const r = new WireReader(msg.subarray(1));
          r.string();
          const data = r.string();
          const flags = r.u32();
          const sig = (alg: string, bytes: Buffer) => new WireWriter().string(new WireWriter().string(alg).string(bytes).toBuffer()).toBuffer();
          if (mode === 'good') answer(c, 14, sig(flags & 4 ? 'rsa-sha2-512' : 'ssh-rsa', cryptoSign(flags & 4 ? 'sha512' : 'sha1', data, priv)));
          else if (mode === 'sha1') answer(c, 14, sig('ssh-rsa', cryptoSign('sha1', data, priv)));
          else if (mode === 'otherkey') answer(c, 14, sig('rsa-sha2-512', cryptoSign(null, data, other)));
          else if (mode === 'garbage') answer(c, 14, Buffer.from('\x00\x00\x00\x09not a sig'));
          else if (mode === 'huge') c.write(new WireWriter().u32(1 << 20).u8(14).toBuffer());
          else if (mode === 'failure') answer(c, 5, Buffer.alloc(0));
          else c.destroy();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    cleanup();
  });

  for (const m of ['sha1', 'otherkey', 'garbage', 'huge', 'failure', 'close', 'good'] as Mode[]) {
    it(`${m === 'good' ? 'control: a proper answer is certified' : `refused: ${m}`}`, async () => {
      mode = m;
      const pub = copyPub(subject, dir, `s_${m}`);
      const r = await sshkitAsync(['certify', '-q', '-s', `${caPath}.pub`, '-I', m, pub], { env: { SSH_AUTH_SOCK: sock } });
      if (m === 'good') {
        assert.equal(r.status, 0, r.stderr);
        assert.match(keygenList(certPath(pub)), /\(using rsa-sha2-512\)/); // ssh-keygen -L -f CERT
        return;
      }
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(!existsSync(certPath(pub)), 'a certificate was written');
    });
  }
});

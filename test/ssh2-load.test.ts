/**
 * ssh2-load.ts: ssh2's packet padding and KEXINIT cookies come from a pool of CSPRNG bytes (issue 14:
 * 15 `randomFillSync` calls a login, ≈ 16 µs each in a loaded server), each byte handed out once, and
 * `crypto.randomFillSync` is Node's own again once ssh2 has loaded. The login test runs a real ssh2
 * Client against a real ssh2 Server in a fresh process and counts calls into Node's function, beside a
 * control process that loads ssh2 plainly (every packet calls it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { POOLED_MAX, pooledRandomFill } from '../src/server/ssh2-load.js';

test('small requests are served from the pool in order, each byte once; the rest go to Node', () => {
  let calls = 0;
  let next = 0;
  const fill = (buf: Uint8Array) => {
    calls++;
    for (let i = 0; i < buf.length; i++) buf[i] = next++ & 0xff; // a counting "random" source
    return buf;
  };
  const rf = pooledRandomFill(fill);
  const got: number[] = [];
  for (let i = 0; i < 400; i++) {
    const b = new Uint8Array(40);
    assert.equal(rf(b, 4, 16), b);
    assert.deepEqual([...b.subarray(0, 4)], [0, 0, 0, 0], 'bytes before offset untouched');
    assert.deepEqual([...b.subarray(20)], new Array(20).fill(0), 'bytes after offset + size untouched');
    got.push(...b.subarray(4, 20));
  }
  assert.equal(calls, 2, '6400 bytes from two 4 KiB fills');
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i & 0xff), 'consecutive pool bytes: none handed out twice');
  const before = calls;
  rf(new Uint8Array(POOLED_MAX + 1), 0, POOLED_MAX + 1);
  rf(new Uint8Array(8));
  rf(new Uint8Array(8), 2);
  assert.equal(calls, before + 3, 'large requests and the 1- and 2-argument forms go to Node');
});

test('bad arguments get the same error as Node (out of range), never silently pooled', () => {
  const rf = pooledRandomFill(randomFillSync);
  assert.throws(() => rf(Buffer.alloc(8), 4, 8), (e: NodeJS.ErrnoException) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => randomFillSync(Buffer.alloc(8), 4, 8), (e: NodeJS.ErrnoException) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => rf(Buffer.alloc(8), -1, 2));
  const ok = rf(Buffer.alloc(8), 4, 4);
  assert.equal(ok.length, 8, 'control: an in-range request works');
});

/** A child process: one ssh2 login (Server + Client in process), counting calls into Node's randomFillSync. */
function loginCountingRandom(pooled: boolean): { calls: number; restored: boolean; ok: boolean } {
  const load = join(ROOT, 'dist/src/server/ssh2-load.js');
  const script = `
    import crypto from 'node:crypto';
    import { createRequire } from 'node:module';
    import { generateKeyPairSync } from 'node:crypto';
    let calls = 0;
    const node = crypto.randomFillSync;
    const counting = function (...a) { calls++; return node.apply(this, a); };
    crypto.randomFillSync = counting;
    const ssh2 = ${pooled} ? (await import(${JSON.stringify(load)})).requireSsh2('ssh2') : createRequire(${JSON.stringify(load)})('ssh2');
    const restored = crypto.randomFillSync === counting;
    const pem = (t) => generateKeyPairSync(t).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const { utils } = ssh2;
    const hostKey = utils.generateKeyPairSync('ed25519').private;
    const user = utils.generateKeyPairSync('ed25519');
    const srv = new ssh2.Server({ hostKeys: [hostKey] }, (c) => {
      c.on('authentication', (ctx) => ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey']));
      c.on('ready', () => c.on('session', (accept) => accept().on('exec', (acc) => { const ch = acc(); ch.end('ok\\n'); ch.exit(0); ch.close(); })));
    });
    srv.listen(0, '127.0.0.1', () => {
      calls = 0;
      const cl = new ssh2.Client();
      cl.on('ready', () => cl.exec('echo', (err, st) => { let out = ''; st.on('data', (d) => out += d); st.on('close', () => { cl.end(); srv.close(); process.stdout.write(JSON.stringify({ calls, restored, ok: out === 'ok\\n' })); }); }));
      cl.connect({ host: '127.0.0.1', port: srv.address().port, username: 'u', privateKey: user.private });
    });
    void pem;
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('a real ssh2 login: padding and cookies come from the pool; crypto.randomFillSync is restored', () => {
  const plain = loginCountingRandom(false);
  const pooled = loginCountingRandom(true);
  assert.ok(plain.ok && pooled.ok, 'both logins ran the command');
  assert.ok(plain.calls >= 20, `control: plain ssh2 calls Node's randomFillSync per packet (${plain.calls})`);
  assert.ok(pooled.calls <= 3, `pooled: a few 4 KiB refills only (${pooled.calls})`);
  assert.ok(pooled.restored, 'crypto.randomFillSync is the function it was before ssh2 loaded');
});

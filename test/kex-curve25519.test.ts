/**
 * kex-curve25519.ts: ssh2's curve25519-sha256 exchange with the raw (JWK) public values instead of DER
 * (issue 14, ≈ 0.1–0.25 ms of CPU a login saved) and a pair imported from random bytes instead of
 * generateKeyPairSync (whose KeyGenJob deadlocked Node 20 in a GC during an export): the server's
 * Q_S is the X25519 public value of its private key (RFC 7748: X25519(d, 9), computed here apart), the
 * shared secret is what ssh2's own DER path computes on the client side, as an mpint (convertToMpint),
 * and ssh2's key generation is never called. Bad client values are Errors (ssh2 then disconnects KEY_EXCHANGE_FAILED), with a control that a
 * good one works. The end-to-end path (OpenSSH's ssh negotiating curve25519-sha256) is every serve test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fastCurve25519, toMpint, x25519Pair } from '../src/server/kex-curve25519.js';

/** What ssh2 1.17's Curve25519Exchange holds and does before the fix (kex.js, DER path). */
function ssh2Like(): { type: string; _keys: { publicKey: KeyObject; privateKey: KeyObject } | null; generateKeys(): void; getPublicKey(): Buffer; computeSecret(o: Buffer): Buffer | Error } {
  return {
    type: '25519',
    _keys: null,
    generateKeys() {
      this._keys ??= generateKeyPairSync('x25519');
    },
    getPublicKey() {
      this.generateKeys();
      return this._keys!.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
    },
    computeSecret(other: Buffer) {
      this.generateKeys();
      try {
        const der = Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), other]); // SPKI of id-X25519
        return toMpint(diffieHellman({ privateKey: this._keys!.privateKey, publicKey: createPublicKey({ key: der, type: 'spki', format: 'der' }) }));
      } catch (err) {
        return err as Error;
      }
    },
  };
}

/** ssh2's convertToMpint, as written in kex.js (the reference for toMpint). */
function ssh2Mpint(buf: Buffer): Buffer {
  let idx = 0;
  while (buf[idx] === 0) idx++;
  const body = buf.subarray(idx);
  return body[0] & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : Buffer.from(body);
}

test('Q_S is X25519(d, 9); K is what ssh2 DER path computes on the other side; ssh2 keygen is never called', () => {
  const base = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.concat([Buffer.from([9]), Buffer.alloc(31)]).toString('base64url') }, format: 'jwk' });
  for (let i = 0; i < 50; i++) {
    const pair = x25519Pair();
    assert.ok(pair.publicValue.equals(diffieHellman({ privateKey: pair.privateKey, publicKey: base })), 'public value = X25519(d, basepoint)');
    const server = ssh2Like();
    let generated = 0;
    const own = server.generateKeys;
    server.generateKeys = function () {
      generated++;
      own.call(this);
    };
    const client = ssh2Like();
    fastCurve25519(server);
    const qs = server.getPublicKey();
    const secret = server.computeSecret(client.getPublicKey());
    assert.ok(Buffer.isBuffer(secret), 'K');
    assert.ok((client.computeSecret(qs) as Buffer).equals(secret), 'the client computes the same K from Q_S (ssh2 DER path)');
    assert.equal(generated, 0, 'no generateKeyPairSync (KeyGenJob) behind the pair');
    assert.equal(qs.length, 32);
  }
});

test('toMpint is ssh2 convertToMpint (leading zeros dropped, 0x00 before a high bit)', () => {
  for (const hex of ['00000001', '80', '0080', '7f', '000000ff00', '01020304']) assert.deepEqual(toMpint(Buffer.from(hex, 'hex')), ssh2Mpint(Buffer.from(hex, 'hex')), hex);
});

test('a client value of the wrong length or of small order is an Error value; a good one works (control)', () => {
  const k = ssh2Like();
  fastCurve25519(k);
  const one = Buffer.alloc(32);
  one[0] = 1; // u = 1: small order, X25519 gives all zeros (OpenSSH kexc25519.c refuses it too)
  for (const bad of [Buffer.alloc(31), Buffer.alloc(33), Buffer.alloc(32), one]) assert.ok(k.computeSecret(bad) instanceof Error, bad.toString('hex'));
  assert.ok(Buffer.isBuffer(k.computeSecret(ssh2Like().getPublicKey())));
});

test('other exchanges, and one that made its pair already, are left alone; applying twice keeps one set of methods', () => {
  const started = ssh2Like();
  started.getPublicKey();
  const before = started.computeSecret;
  fastCurve25519(started);
  assert.equal(started.computeSecret, before);
  const ecdh = { type: 'ecdh', generateKeys() {}, getPublicKey: () => Buffer.alloc(65), computeSecret: () => Buffer.alloc(32) };
  const { getPublicKey } = ecdh;
  fastCurve25519(ecdh);
  assert.equal(ecdh.getPublicKey, getPublicKey);
  const k = ssh2Like();
  fastCurve25519(k);
  const fn = k.computeSecret;
  fastCurve25519(k);
  assert.equal(k.computeSecret, fn);
  fastCurve25519(null);
});

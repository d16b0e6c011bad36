/**
 * Malformed KRLs (truncated sections, bad section types, wrong signatures, bad lengths, serial 0…):
 * each is first shown to be refused by the real `ssh-keygen -Q` (exit 255, "Invalid KRL file"), then
 * `sshkit krl --check` must exit 2 with exactly one stderr line and never print "ok", and the core
 * reader must throw a ParseError and nothing else. The well-formed control built the same way is
 * accepted by both, so a table that refuses everything cannot pass.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ParseError } from '../src/core/errors.js';
import { parseKrl } from '../src/core/krl-parse.js';
import { parseRevokedKeys } from '../src/core/revocation.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { createSigner } from '../src/core/signature.js';
import { WireWriter } from '../src/core/wire.js';
import { openssh, sshkit } from './helpers.js';
import { keygen, makeFixture, type KrlFixture } from './krl-fixture.js';

let f: KrlFixture;
let caBlob: Buffer;
let userBlob: Buffer;
before(() => {
  f = makeFixture();
  caBlob = Buffer.from(f.pub('ca1').split(' ')[1], 'base64');
  userBlob = Buffer.from(f.pub('u-ed').split(' ')[1], 'base64');
});
after(() => f.cleanup());

const w = () => new WireWriter();
function header(opts: { format?: number; comment?: Buffer } = {}): Buffer {
  return w()
    .raw(Buffer.from('SSHKRL\n\0', 'latin1'))
    .u32(opts.format ?? 1)
    .u64(0n)
    .u64(1700000000n)
    .u64(0n)
    .string(Buffer.alloc(0))
    .string(opts.comment ?? Buffer.alloc(0))
    .toBuffer();
}
const section = (type: number, body: Buffer) => w().u8(type).string(body).toBuffer();
const certSection = (subs: Buffer[], ca: Buffer = caBlob) => section(1, Buffer.concat([w().string(ca).string(Buffer.alloc(0)).toBuffer(), ...subs]));
const serialList = (...s: bigint[]) => section(0x20, Buffer.concat(s.map((v) => w().u64(v).toBuffer())));
const keys = (...blobs: Buffer[]) => section(2, Buffer.concat(blobs.map((b) => w().string(b).toBuffer())));

/** A KRL signed by ca1 (the signature covers everything before the signature string), optionally spoiled. */
function signed(body: Buffer, spoil = false): Buffer {
  const signer = createSigner(loadPrivateKey(readFileSync(f.p('ca1'))));
  const head = Buffer.concat([body, section(4, signer.publicKey.blob)]);
  const sig = Buffer.from(signer.sign(head));
  if (spoil) sig[sig.length - 1] ^= 1;
  return Buffer.concat([head, w().string(sig).toBuffer()]);
}

const good = () => Buffer.concat([header(), certSection([serialList(5n, 9n)]), keys(userBlob)]);

const CASES: [string, () => Buffer][] = [
  ['truncated header', () => good().subarray(0, 30)],
  ['truncated in the first section', () => good().subarray(0, header().length + 20)],
  ['truncated by one byte', () => good().subarray(0, good().length - 1)],
  ['format version 2', () => Buffer.concat([header({ format: 2 }), keys(userBlob)])],
  ['unknown section type 9', () => Buffer.concat([good(), section(9, Buffer.alloc(0))])],
  ['unknown certificate subsection 0x30', () => Buffer.concat([header(), certSection([section(0x30, Buffer.alloc(8))])])],
  ['serial list with a stray byte', () => Buffer.concat([header(), certSection([section(0x20, Buffer.alloc(9, 1))])])],
  ['serial 0 in a list', () => Buffer.concat([header(), certSection([serialList(0n)])])],
  ['serial range lo > hi', () => Buffer.concat([header(), certSection([section(0x21, w().u64(9n).u64(3n).toBuffer())])])],
  ['serial range with trailing bytes', () => Buffer.concat([header(), certSection([section(0x21, w().u64(1n).u64(3n).u8(0).toBuffer())])])],
  ['negative bitmap', () => Buffer.concat([header(), certSection([section(0x22, w().u64(1n).string(Buffer.from([0x80])).toBuffer())])])],
  ['bitmap over 16384 bits', () => Buffer.concat([header(), certSection([section(0x22, w().u64(1n).string(Buffer.concat([Buffer.from([1]), Buffer.alloc(2048)])).toBuffer())])])],
  ['bitmap wrapping 2^64', () => Buffer.concat([header(), certSection([section(0x22, w().u64((1n << 64n) - 2n).string(Buffer.from([0x07])).toBuffer())])])],
  ['key ID with a NUL inside', () => Buffer.concat([header(), certSection([section(0x23, w().string(Buffer.from('a\0b')).toBuffer())])])],
  ['CA key that is not a key', () => Buffer.concat([header(), certSection([serialList(5n)], Buffer.from('garbage'))])],
  ['SHA1 entry of 19 bytes', () => Buffer.concat([header(), section(3, w().string(Buffer.alloc(19)).toBuffer())])],
  ['SHA256 entry of 31 bytes', () => Buffer.concat([header(), section(5, w().string(Buffer.alloc(31)).toBuffer())])],
  ['explicit-key section with a truncated string', () => Buffer.concat([header(), section(2, Buffer.from([0, 0, 0, 9, 1]))])],
  ['comment with a NUL inside', () => Buffer.concat([header({ comment: Buffer.from('a\0b') }), keys(userBlob)])],
  ['wrong signature', () => signed(good(), true)],
  ['a section after the signature', () => Buffer.concat([signed(good()), keys(userBlob)])],
];

test('the well-formed control (plain and signed) is read by ssh-keygen -Q and sshkit alike', () => {
  for (const [name, data] of [['good', good()], ['signed', signed(good())]] as const) {
    writeFileSync(f.p(`${name}.krl`), data);
    for (const [key, verdict] of [['u-ed.pub', 'REVOKED'], ['c-serial5-cert.pub', 'REVOKED'], ['u-ok.pub', 'ok']]) {
      const theirs = openssh('ssh-keygen', ['-Q', '-f', f.p(`${name}.krl`), f.p(key)]);
      assert.match(theirs.stdout, new RegExp(`: ${verdict}\\n$`), `${name} ${key}: ${theirs.stderr}`);
      const ours = sshkit(['krl', '--check', '-f', f.p(`${name}.krl`), f.p(key)]);
      assert.equal(ours.stdout, theirs.stdout);
      assert.equal(ours.status, theirs.status);
    }
  }
});

for (const [name, make] of CASES) {
  test(`malformed KRL (${name}): ssh-keygen -Q refuses it; sshkit exits 2 with one line, never "ok"`, () => {
    const data = make();
    const path = f.p(`bad-${name.replace(/\W+/g, '-')}.krl`);
    writeFileSync(path, data);
    const theirs = openssh('ssh-keygen', ['-Q', '-f', path, f.p('u-ok.pub')]);
    assert.equal(theirs.status, 255, `ssh-keygen -Q accepted it: ${theirs.stdout}`);
    assert.match(theirs.stderr, /Invalid KRL file/);
    assert.throws(() => parseKrl(data), ParseError);
    assert.throws(() => parseRevokedKeys(data), ParseError);
    const ours = sshkit(['krl', '--check', '-f', path, f.p('u-ok.pub')]);
    assert.equal(ours.status, 2, ours.stdout + ours.stderr);
    assert.equal(ours.stdout, '');
    assert.equal(ours.stderr.trim().split('\n').length, 1, ours.stderr);
    assert.match(ours.stderr, /^sshkit: /);
  });
}

test('malformed KRL given to verify-signature -r: exit 2, one line (never a good signature)', () => {
  writeFileSync(f.p('data'), 'hello\n');
  keygen(['-Y', 'sign', '-q', '-f', f.p('u-ok'), '-n', 'file', f.p('data')]);
  writeFileSync(f.p('allowed'), `alice ${f.pub('u-ok')}\n`);
  writeFileSync(f.p('vs-bad.krl'), signed(good(), true));
  writeFileSync(f.p('vs-good.krl'), good());
  const run = (krl: string) => sshkit(['verify-signature', '-f', f.p('allowed'), '-I', 'alice', '-n', 'file', '-s', f.p('data.sig'), '-r', krl, f.p('data')]);
  assert.equal(run(f.p('vs-good.krl')).status, 0, 'control: the good KRL does not revoke u-ok');
  const r = run(f.p('vs-bad.krl'));
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stdout, /Good/);
});

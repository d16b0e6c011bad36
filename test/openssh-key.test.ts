/**
 * src/core/openssh-key.ts (through private-key.ts plainOpensshKey), the signing fast path (issue 14): an unencrypted ed25519/ECDSA openssh-key-v1
 * file read into a Node KeyObject without sshpk. Checked against keys written by the real ssh-keygen
 * (OpenSSH 9.2) in this run: the fast path is taken, its public blob is ssh-keygen's, and what it signs
 * `ssh-keygen -Y verify` accepts; ed25519 signatures are byte-equal to the sshpk path's (deterministic).
 * Every file it does not take — RSA, encrypted, PEM, anything altered — gets exactly what
 * loadPrivateKey (sshpk) gives: the same key or the same error, also for random corruptions (fast-check).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadPrivateKey, loadSigningKey, plainOpensshKey } from '../src/core/private-key.js';
import { generateKey, keySpec, type PrivateFormat } from '../src/core/keygen.js';
import { formatPublicKey } from '../src/core/key.js';
import { WireReader } from '../src/core/wire.js';
import { createSigner } from '../src/core/signature.js';
import { armorSignature, signDigest } from '../src/core/sshsig.js';
import { createHash } from 'node:crypto';
import { fuzzParams } from './fuzz-helper.js';
import { KEY_TYPES, openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-openssh-key-');
after(cleanup);
const p = (n: string) => join(dir, n);

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----\n';
const END = '-----END OPENSSH PRIVATE KEY-----\n';
const body = (text: string) => Buffer.from(text.slice(BEGIN.length, text.indexOf(END)).replace(/\s+/g, ''), 'base64');
const armor = (raw: Buffer) => BEGIN + (raw.toString('base64').match(/.{1,70}/g) ?? []).join('\n') + '\n' + END;

function keygen(name: string, args: string[], comment = 'fast@example.com', pass = ''): string {
  const r = openssh('ssh-keygen', ['-q', ...args, '-N', pass, '-C', comment, '-f', p(name)]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(p(name), 'utf8');
}
const pubBlob = (name: string) => Buffer.from(readFileSync(p(`${name}.pub`), 'utf8').split(' ')[1], 'base64');

/** What the one loader or the other gives: the public blob, or the error's one line. */
function outcome(load: () => unknown): string {
  try {
    const s = createSigner(load() as Parameters<typeof createSigner>[0]);
    return `key ${s.publicKey.blob.toString('base64')}`;
  } catch (err) {
    return `error ${(err as Error).name}: ${(err as Error).message}`;
  }
}

const FAST = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521'];

describe('plainOpensshKey: the keys ssh-keygen writes', () => {
  for (const type of FAST) {
    for (const [label, comment] of [['a comment', 'fast@example.com'], ['an empty comment', ''], ['a UTF-8 comment', 'clé ✓']]) {
      test(`${type} with ${label}: taken, ssh-keygen's public key, signatures ssh-keygen -Y verify accepts`, () => {
        const name = `${type}-${label.replace(/\W/g, '')}`;
        const text = keygen(name, KEY_TYPES[type], comment);
        const fast = plainOpensshKey(text);
        assert.ok(fast, 'the fast path takes it');
        assert.ok(fast.publicBlob.equals(pubBlob(name)), 'public blob = the .pub ssh-keygen wrote');
        assert.equal(fast.comment, comment);
        const msg = Buffer.from(`signed by ${type}\n`);
        writeFileSync(p(`${name}.msg`), msg);
        const digest = createHash('sha512').update(msg).digest();
        writeFileSync(p(`${name}.msg.sig`), armorSignature(signDigest(createSigner(fast), 'file', 'sha512', digest)));
        writeFileSync(p(`${name}.allowed`), `fast@example.com ${readFileSync(p(`${name}.pub`), 'utf8')}`);
        const v = openssh('ssh-keygen', ['-Y', 'verify', '-f', p(`${name}.allowed`), '-I', 'fast@example.com', '-n', 'file', '-s', p(`${name}.msg.sig`)], { input: msg });
        assert.equal(v.status, 0, `ssh-keygen -Y verify: ${v.stderr}`);
        if (type === 'ed25519') {
          const viaSshpk = signDigest(createSigner(loadPrivateKey(text)), 'file', 'sha512', digest);
          assert.ok(signDigest(createSigner(fast), 'file', 'sha512', digest).equals(viaSshpk), 'the same bytes as the sshpk path');
        }
      });
    }
  }
});

describe('files the fast path leaves to loadPrivateKey: the same key or the same error as before', () => {
  let ed: string;
  let other: string;
  let ec: string;
  let ec2: string;
  before(() => {
    ed = keygen('ed', KEY_TYPES.ed25519);
    other = keygen('ed-other', KEY_TYPES.ed25519);
    ec = keygen('ec', KEY_TYPES.ecdsa256);
    ec2 = keygen('ec-other', KEY_TYPES.ecdsa256);
  });

  test('control: the unaltered ed25519 key is taken by the fast path', () => {
    assert.ok(plainOpensshKey(ed));
    assert.equal(outcome(() => loadSigningKey(ed)), outcome(() => loadPrivateKey(ed)));
  });

  test('RSA, encrypted and PEM keys are not taken and still load', () => {
    const cases = [keygen('rsa', KEY_TYPES.rsa2048), keygen('enc', KEY_TYPES.ed25519, 'c', 'pw'), keygen('pem', [...KEY_TYPES.ecdsa256, '-m', 'PEM'])];
    for (const text of cases) {
      const raw = text.startsWith(BEGIN) ? body(text) : null;
      if (raw) assert.equal(plainOpensshKey(text), null);
      assert.equal(outcome(() => loadSigningKey(text, 'pw')), outcome(() => loadPrivateKey(text, 'pw')));
      assert.match(outcome(() => loadSigningKey(text, 'pw')), /^key /);
    }
  });

  /** The private section of a decoded body: offset and length (magic, cipher, kdf, options, n, public blob, section). */
  function section(raw: Buffer): { at: number; len: number } {
    let o = 15;
    const skip = () => (o += 4 + raw.readUInt32BE(o));
    skip(); skip(); skip(); o += 4; skip();
    return { at: o + 4, len: raw.readUInt32BE(o) };
  }

  const alterations: [string, (raw: Buffer) => Buffer][] = [
    ['check integers that differ', (raw) => { const s = section(raw); raw[s.at + 7] ^= 1; return raw; }],
    ['a padding byte that is not its index', (raw) => { const s = section(raw); raw[s.at + s.len - 1] ^= 0x40; return raw; }],
    ['a byte after the private section', (raw) => Buffer.concat([raw, Buffer.from([0])])],
    // section: check ints (8), "ssh-ed25519" (4+11), the public key (4+32), then seed ‖ public key (4+64)
    ['the seed of another key', (raw) => { const seed = (b: Buffer) => section(b).at + 8 + 15 + 36 + 4; body(other).copy(raw, seed(raw), seed(body(other)), seed(body(other)) + 32); return raw; }],
  ];
  for (const [what, alter] of alterations) {
    test(`ed25519 with ${what}: not taken; loadSigningKey = loadPrivateKey`, () => {
      const raw = alter(Buffer.from(body(ed)));
      assert.notDeepEqual(raw, body(ed), 'the file was altered');
      assert.equal(plainOpensshKey(armor(raw)), null);
      const text = armor(raw);
      assert.equal(outcome(() => loadSigningKey(text)), outcome(() => loadPrivateKey(text)));
    });
  }

  test('ECDSA whose secret is another key\'s: not taken (the point is computed from the secret, never trusted)', () => {
    // section: check ints (8), "ecdsa-sha2-nistp256" (4+19), "nistp256" (4+8), the point (4+65), the secret (mpint)
    const secretAt = (raw: Buffer) => section(raw).at + 8 + 23 + 12 + 69;
    const raw = Buffer.from(body(ec));
    let donor = body(ec2);
    for (let i = 0; donor.readUInt32BE(secretAt(donor)) !== raw.readUInt32BE(secretAt(raw)) && i < 8; i++) donor = body(keygen(`ec-other${i}`, KEY_TYPES.ecdsa256));
    const n = raw.readUInt32BE(secretAt(raw));
    assert.equal(donor.readUInt32BE(secretAt(donor)), n, 'a donor secret of the same length');
    donor.copy(raw, secretAt(raw) + 4, secretAt(donor) + 4, secretAt(donor) + 4 + n);
    assert.equal(plainOpensshKey(armor(raw)), null);
    const text = armor(raw);
    assert.equal(outcome(() => loadSigningKey(text)), outcome(() => loadPrivateKey(text)));
  });

  test('property: any corruption of the private section gives what loadPrivateKey gives', () => {
    const clean = body(ed);
    const s = section(clean);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(s.len - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const raw = Buffer.from(clean);
        for (const [i, x] of flips) raw[s.at + i] ^= x;
        const text = armor(raw);
        assert.equal(outcome(() => loadSigningKey(text)), outcome(() => loadPrivateKey(text)));
      }),
      fuzzParams(150),
    );
  });
});

/** The field lengths of an openssh-key-v1 body (envelope and private section), check integers apart. */
function layout(text: string): { fields: number[]; check: [number, number]; padding: number[]; lines: number[] } {
  const lines = text.trim().split('\n').slice(1, -1).map((l) => l.length);
  const r = new WireReader(body(text).subarray(15));
  const fields = [r.string().length, r.string().length, r.string().length, r.u32(), r.string().length];
  const sec = new WireReader(r.string());
  const check: [number, number] = [sec.u32(), sec.u32()];
  const rest = sec.rest();
  const q = new WireReader(rest);
  const parts: number[] = [];
  while (q.remaining >= 4 && rest.readUInt32BE(rest.length - q.remaining) <= q.remaining - 4) parts.push(q.string().length);
  return { fields: [...fields, ...parts], check, padding: [...q.rest()], lines };
}

describe('writePlainOpensshKey (keygen without a passphrase): what ssh-keygen writes, read by ssh-keygen', () => {
  const cases: [string, string, string[]][] = [
    ['ed25519', 'ed25519', KEY_TYPES.ed25519],
    ['ecdsa', '256', KEY_TYPES.ecdsa256],
    ['ecdsa', '384', KEY_TYPES.ecdsa384],
    ['ecdsa', '521', KEY_TYPES.ecdsa521],
    ['rsa', '2048', KEY_TYPES.rsa2048],
  ];
  for (const [kind, bits, args] of cases) {
    test(`${kind} ${bits}: ssh-keygen -y gives our public key; the layout is ssh-keygen's; the check integers are random`, () => {
      const name = `gen-${kind}-${bits}`;
      const g = generateKey(keySpec(kind, kind === 'ed25519' ? undefined : bits), { comment: 'gen@example.com', format: 'openssh' as PrivateFormat });
      writeFileSync(p(name), g.privateText, { mode: 0o600 });
      const y = openssh('ssh-keygen', ['-y', '-f', p(name)]);
      assert.equal(y.status, 0, y.stderr);
      assert.equal(y.stdout.trim(), formatPublicKey(g.publicKey), 'ssh-keygen -y reads the private key and derives our public key');
      assert.equal(outcome(() => loadPrivateKey(g.privateText)), `key ${g.publicKey.blob.toString('base64')}`, 'sshpk reads it too');
      const ours = layout(g.privateText);
      const theirs = layout(keygen(`${name}-ref`, args, 'gen@example.com'));
      assert.equal(ours.check[0], ours.check[1], 'equal check integers');
      assert.notEqual(ours.check[0], layout(generateKey(keySpec(kind, kind === 'ed25519' ? undefined : bits), { comment: 'x' }).privateText).check[0], 'random check integers');
      assert.deepEqual(ours.padding, ours.padding.map((_, i) => i + 1), 'padding 1, 2, 3 …');
      assert.ok(ours.lines.slice(0, -1).every((n) => n === 70) && ours.lines.at(-1)! <= 70, 'base64 in lines of 70');
      if (kind === 'ed25519') assert.deepEqual(ours, { ...theirs, check: ours.check }, 'field by field the layout ssh-keygen writes');
      else assert.deepEqual(ours.fields.slice(0, 5), theirs.fields.slice(0, 5), 'the same envelope');
    });
  }
  test('control: with a passphrase the key is written by sshpk (bcrypt, aes256-ctr) and ssh-keygen opens it', () => {
    const g = generateKey(keySpec('ed25519'), { comment: 'enc', passphrase: 'correct horse' });
    writeFileSync(p('gen-enc'), g.privateText, { mode: 0o600 });
    assert.match(body(g.privateText).subarray(15, 40).toString('latin1'), /aes256-ctr/);
    const y = openssh('ssh-keygen', ['-y', '-P', 'correct horse', '-f', p('gen-enc')]);
    assert.equal(y.status, 0, y.stderr);
    assert.equal(y.stdout.trim(), formatPublicKey(g.publicKey));
  });
});

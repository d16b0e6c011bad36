/**
 * Property tests for SSHSIG (issue 9 "Fuzzing, as part of the test suite", issue 18): signatures made by
 * `ssh-keygen -Y sign` at test time, for every key type and a certificate signer, are mutated (armor text,
 * the SSHSIG blob, the inner signature blob). Every mutant must give a verdict or a typed SshkitError from
 * the core (dearmor, parse, verify, allowed_signers), never another exception. Differential, sampled: on
 * armor-only mutants (the blob unchanged) sshkit verifies exactly when `ssh-keygen -Y check-novalidate`
 * does; on blob mutants, whatever sshkit verifies ssh-keygen must verify too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzParams } from './fuzz-helper.js';
import { KEY_TYPES, openssh, tempDir } from './helpers.js';
import { dearmorSignature, encodeSshsig, parseSshsig, verifySshsig, type Sshsig } from '../src/core/sshsig.js';
import { verifySignatureFile } from '../src/core/sshsig-verify.js';
import { parseSignatureBlob, verifySignature } from '../src/core/signature.js';
import { WireWriter } from '../src/core/wire.js';
import { SshkitError } from '../src/core/errors.js';
import { parsePublicKeyText } from '../src/core/key.js';

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);
const DATA = Buffer.from('fuzzed release artifact\n');
/** Signers: every key type (RSA at 2048 only, for time) and an ed25519 certificate signed by a CA. */
const NAMES = [...Object.keys(KEY_TYPES).filter((n) => n !== 'rsa3072'), 'cert'];
const sigs = new Map<string, { armored: string; key: Buffer; signers: string }>();

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-fuzz-sshsig-'));
  const ok = (args: string[]) => assert.equal(openssh('ssh-keygen', args).status, 0, `ssh-keygen ${args.join(' ')}`);
  writeFileSync(p('data'), DATA);
  ok(['-q', '-t', 'ed25519', '-N', '', '-f', p('ca')]);
  for (const name of NAMES) {
    const keyFile = p(name === 'cert' ? 'cert' : name);
    ok(['-q', ...(KEY_TYPES[name] ?? ['-t', 'ed25519']), '-N', '', '-f', keyFile]);
    let signWith = keyFile;
    if (name === 'cert') {
      ok(['-q', '-s', p('ca'), '-I', 'fuzz-id', '-n', 'alice', `${keyFile}.pub`]);
      signWith = `${keyFile}-cert.pub`;
    }
    writeFileSync(p(`${name}.data`), DATA);
    ok(['-Y', 'sign', '-f', signWith, '-n', 'file', p(`${name}.data`)]);
    const pub = readFileSync(name === 'cert' ? p('ca.pub') : `${keyFile}.pub`, 'utf8');
    sigs.set(name, {
      armored: readFileSync(p(`${name}.data.sig`), 'latin1'),
      key: parsePublicKeyText(readFileSync(name === 'cert' ? signWith : `${keyFile}.pub`, 'utf8')).blob,
      signers: name === 'cert' ? `alice cert-authority ${pub}` : `alice ${pub}`,
    });
  }
});
after(() => cleanup());

const digest = (h: string) => createHash(h).update(DATA).digest();

/** The core's verdict on an armored file: check-novalidate's question (is it a good signature by its own key?). */
function decide(armored: Buffer | string): 'good' | 'bad' | 'error' {
  try {
    const sig = parseSshsig(dearmorSignature(armored));
    return verifySshsig(sig, digest(sig.hashAlgorithm), 'file').ok ? 'good' : 'bad';
  } catch (err) {
    if (err instanceof SshkitError) return 'error';
    throw err;
  }
}

/** The whole verify-signature decision with both trust anchors; only typed errors may escape. */
async function decideFully(armored: Buffer | string, name: string): Promise<void> {
  const s = sigs.get(name)!;
  const base = { signature: Buffer.from(armored as string, typeof armored === 'string' ? 'latin1' : undefined), digest: async (h: string) => digest(h), namespace: 'file', now: 1_700_000_000 };
  for (const anchor of [
    { kind: 'public-key' as const, blob: s.key },
    { kind: 'allowed-signers' as const, text: s.signers, path: 'signers', principal: 'alice' },
  ]) {
    try {
      await verifySignatureFile({ ...base, anchor });
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
    }
  }
}

// ---- mutators -------------------------------------------------------------------------------------------
const WORDS = ['__proto__', 'constructor', 'toString', 'ssh-ed25519', 'ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512', 'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-ed25519-cert-v01@openssh.com', 'sha256', 'sha512', 'sha1', 'file', '', 'SSHSIG'];

type ByteOp = (b: Buffer) => Buffer;
const at = (b: Buffer, pos: number) => (b.length === 0 ? 0 : pos % b.length);
const u32 = (n: number) => {
  const x = Buffer.alloc(4);
  x.writeUInt32BE(n >>> 0);
  return x;
};
/** One byte-level mutation of a wire blob (positions wrap around the blob's length). */
const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ pos, bit }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length) c[at(c, pos)] ^= 1 << bit;
    return c;
  }),
  fc.record({ pos: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }).map(({ pos, v }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length) c[at(c, pos)] = v;
    return c;
  }),
  fc.record({ pos: fc.nat(), ins: fc.uint8Array({ minLength: 1, maxLength: 8 }) }).map(({ pos, ins }) => (b: Buffer) => {
    const i = b.length ? pos % (b.length + 1) : 0;
    return Buffer.concat([b.subarray(0, i), Buffer.from(ins), b.subarray(i)]);
  }),
  fc.record({ pos: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }).map(({ pos, len }) => (b: Buffer) => {
    const i = at(b, pos);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + len)]);
  }),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, at(b, n))),
  fc.record({ pos: fc.nat(), v: fc.constantFrom(0, 1, 3, 0x7fffffff, 0xffffffff, 0x100, 0x1000000) }).map(({ pos, v }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length >= 4) u32(v).copy(c, pos % (c.length - 3));
    return c;
  }),
  fc.record({ pos: fc.nat(), w: fc.constantFrom(...WORDS) }).map(({ pos, w }) => (b: Buffer) => {
    const i = at(b, pos);
    const s = Buffer.from(w, 'latin1');
    return Buffer.concat([b.subarray(0, i), u32(s.length), s, b.subarray(i)]);
  }),
);
const byteOps = fc.array(byteOp, { minLength: 1, maxLength: 3 });
const apply = (ops: ByteOp[], b: Buffer) => ops.reduce((acc, op) => op(acc), b);

type TextOp = (t: string) => string;
const CHARS = [' ', '\t', '\r', '\n', '\v', '\f', '\0', '=', 'A', '/', '-', '\xa0', '\n-----END SSH SIGNATURE-----'];
/** One mutation of the armor's text; the blob it encodes may or may not survive it. */
const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ pos: fc.nat(), c: fc.constantFrom(...CHARS) }).map(({ pos, c }) => (t: string) => {
    const i = pos % (t.length + 1);
    return t.slice(0, i) + c + t.slice(i);
  }),
  fc.record({ pos: fc.nat(), len: fc.integer({ min: 1, max: 4 }) }).map(({ pos, len }) => (t: string) => {
    const i = pos % Math.max(1, t.length);
    return t.slice(0, i) + t.slice(i + len);
  }),
  fc.integer({ min: 1, max: 200 }).map((w) => (t: string) => {
    const lines = t.split('\n');
    const body = lines.slice(1, -2).join('');
    return [lines[0], ...(body.match(new RegExp(`.{1,${w}}`, 'g')) ?? []), ...lines.slice(-2)].join('\n');
  }),
  fc.constant((t: string) => t.replace(/\n/g, '\r\n')),
  fc.constantFrom('\n', ' ', 'x').map((pre) => (t: string) => pre + t),
  fc.constantFrom('junk\n', '\0', '-----END SSH SIGNATURE-----\n').map((post) => (t: string) => t + post),
);
const textOps = fc.array(textOp, { minLength: 1, maxLength: 3 });

/** The SSHSIG with its inner signature blob replaced. */
const withSignature = (sig: Sshsig, signature: Buffer) => encodeSshsig({ ...sig, signature });
const armor = (blob: Buffer) => `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '')}\n-----END SSH SIGNATURE-----\n`;
const signer = fc.constantFrom(...NAMES);

// ---- properties -----------------------------------------------------------------------------------------
test('controls: every unmutated signature is good in the core and for ssh-keygen -Y check-novalidate', () => {
  for (const name of NAMES) {
    assert.equal(decide(sigs.get(name)!.armored), 'good', name);
    assert.equal(checkNovalidate(sigs.get(name)!.armored), true, name);
  }
});

test('property: mutated armor text → a verdict or a typed error, never another exception', async () => {
  await fc.assert(
    fc.asyncProperty(signer, textOps, async (name, ops) => {
      const t = ops.reduce((acc, op) => op(acc), sigs.get(name)!.armored);
      decide(t);
      await decideFully(t, name);
    }),
    fuzzParams(300),
  );
});

test('property: mutated SSHSIG blobs → a verdict or a typed error, never another exception', async () => {
  await fc.assert(
    fc.asyncProperty(signer, byteOps, async (name, ops) => {
      const t = armor(apply(ops, dearmorSignature(sigs.get(name)!.armored)));
      decide(t);
      await decideFully(t, name);
    }),
    fuzzParams(400),
  );
});

test('property: mutated inner signature blobs → false or a typed error from verifySignature and the SSHSIG core', () => {
  fc.assert(
    fc.property(signer, fc.option(fc.constantFrom(...WORDS)), fc.array(byteOp, { maxLength: 3 }), (name, rename, ops) => {
      const sig = parseSshsig(dearmorSignature(sigs.get(name)!.armored));
      // the algorithm name renamed (`__proto__` was signature--TypeError-0c9afe1154), then bytes mutated
      const renamed = rename === null ? sig.signature : new WireWriter().string(rename).string(parseSignatureBlob(sig.signature).bytes).toBuffer();
      const inner = apply(ops, renamed);
      try {
        verifySignature(sig.publicKey, DATA, inner);
      } catch (err) {
        if (!(err instanceof SshkitError)) throw err;
      }
      decide(armor(withSignature(sig, inner)));
    }),
    fuzzParams(400),
  );
});

/** `ssh-keygen -Y check-novalidate -n file` on an armored text: does OpenSSH call it a good signature? */
function checkNovalidate(armored: string | Buffer): boolean {
  const file = p('mutant.sig');
  writeFileSync(file, typeof armored === 'string' ? Buffer.from(armored, 'latin1') : armored);
  const fd = openSync(p('data'), 'r');
  try {
    return spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', file], { stdio: [fd, 'ignore', 'ignore'] }).status === 0;
  } finally {
    closeSync(fd);
  }
}

test('differential (sampled): armor-only mutants are good for sshkit exactly when ssh-keygen -Y check-novalidate says so', () => {
  fc.assert(
    fc.property(signer, textOps, (name, ops) => {
      const t = ops.reduce((acc, op) => op(acc), sigs.get(name)!.armored);
      assert.equal(decide(t) === 'good', checkNovalidate(t), JSON.stringify(t));
    }),
    fuzzParams(20),
  );
});

test('differential (sampled): a blob mutant sshkit verifies, ssh-keygen -Y check-novalidate verifies too', () => {
  // biased toward mutants that may stay valid: the reserved field and the inner signature's tail
  const reserved = fc.uint8Array({ minLength: 0, maxLength: 24 }).map((r) => (sig: Sshsig) => {
    const blob = encodeSshsig(sig);
    const at = 6 + 4 + 4 + sig.publicKey.length + 4 + Buffer.byteLength(sig.namespace);
    return Buffer.concat([blob.subarray(0, at), u32(r.length), Buffer.from(r), blob.subarray(at + 4)]);
  });
  const random = byteOps.map((ops) => (sig: Sshsig) => apply(ops, encodeSshsig(sig)));
  let checked = 0;
  fc.assert(
    fc.property(signer, fc.oneof(reserved, random), (name, mutate) => {
      const t = armor(mutate(parseSshsig(dearmorSignature(sigs.get(name)!.armored))));
      if (decide(t) !== 'good') return;
      checked++;
      assert.equal(checkNovalidate(t), true, `sshkit verifies, ssh-keygen does not: ${JSON.stringify(t)}`);
    }),
    fuzzParams(10),
  );
  assert.ok(checked > 0, 'at least one mutant was verified by both');
});

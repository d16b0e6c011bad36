/**
 * Regression tests for the key-parser findings of the first fuzzing run (issue 18; issue 9 item 14),
 * each driven by the committed copy of its minimized input (test/fixtures/fuzz/NAME.bin). OpenSSH's
 * verdict is taken from the real `ssh-keygen -l -f` on the same bytes, run here; every refusal has a
 * control beside it — the same key or certificate in its canonical form, made or accepted by
 * ssh-keygen — that both tools accept with the same line.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../src/core/errors.js';
import { WireReader, WireWriter } from '../src/core/wire.js';
import { inspectBlob, parsePublicKeyLine } from '../src/core/key.js';
import { decodeBase64Strict } from '../src/core/base64.js';
import { parseCertificate } from '../src/core/certificate.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { ROOT, openssh, sshkit, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-findings-');
after(cleanup);
const fixture = (name: string) => readFileSync(join(ROOT, 'test/fixtures/fuzz', `${name}.bin`));

/** `ssh-keygen -l -f FILE` and `sshkit fingerprint FILE` on the same bytes. */
function both(name: string, bytes: Buffer): { keygen: { status: number | null; out: string }; kit: { status: number | null; out: string; err: string } } {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const k = openssh('ssh-keygen', ['-l', '-f', file]);
  const s = sshkit(['fingerprint', file]);
  return { keygen: { status: k.status, out: k.stdout }, kit: { status: s.status, out: s.stdout, err: s.stderr } };
}

/** The blob's strings (every plain key type and these findings are sequences of strings). */
function strings(blob: Buffer): Buffer[] {
  const r = new WireReader(blob);
  const out: Buffer[] = [];
  while (r.remaining > 0) out.push(r.string());
  return out;
}

/** Canonical form OpenSSH re-encodes to: mpints without superfluous zeros, C strings without a final NUL. */
function canonicalLine(line: string, kinds: ('s' | 'mpint' | 'cstring')[]): string {
  const b64 = /(?:^| )(AAAA\S+)/.exec(line)![1]; // the key's base64 field (the line may start with options)
  const w = new WireWriter();
  strings(decodeBase64Strict(b64)).forEach((v, i) => {
    if (kinds[i] === 'mpint') w.mpint(v);
    else if (kinds[i] === 'cstring') w.string(v[v.length - 1] === 0 ? v.subarray(0, -1) : v);
    else w.string(v);
  });
  return line.replace(b64, w.toBuffer().toString('base64'));
}

describe('diff-keys: one line denotes the key ssh-keygen -l sees, or none', () => {
  // ssh-keygen refuses these: so must sshkit (an application string with NULs inside, mpints > 16384 bits)
  for (const name of ['diff-keys--05efc39e38', 'diff-keys--92e43162e6', 'diff-keys--d32f7b9ffe']) {
    test(`${name}: refused, as ssh-keygen -l refuses it`, () => {
      const r = both(name, fixture(name));
      assert.notEqual(r.keygen.status, 0, 'ssh-keygen -l accepts it: the fixture no longer shows the finding');
      assert.equal(r.kit.status, 2, r.kit.out);
      assert.equal(r.kit.out, '');
      assert.match(r.kit.err, /no key found/);
    });
  }
  // ssh-keygen reads these only after re-encoding them (trailing NUL dropped, zero mpint trimmed), so it
  // prints another blob's fingerprint than the one written: sshkit refuses the line (never another key)
  const canonicalisedByOpenssh: [string, ('s' | 'mpint' | 'cstring')[]][] = [
    ['diff-keys--28a684d601', ['s', 'cstring', 's', 'cstring']],
    ['diff-keys--48525b2ac4', ['s', 's', 'cstring']],
    ['diff-keys--43fa584a89', ['s', 'mpint', 'mpint']],
    ['diff-keys--edbd1984fb', ['s', 'mpint', 'mpint', 'mpint', 'mpint']],
  ];
  for (const [name, kinds] of canonicalisedByOpenssh) {
    test(`${name}: never a different key than ssh-keygen's; the canonical spelling agrees byte for byte`, () => {
      const raw = fixture(name);
      const r = both(name, raw);
      assert.equal(r.kit.status, 2, `sshkit printed ${r.kit.out} where ssh-keygen printed ${r.keygen.out}`);
      assert.equal(r.kit.out, '');
      assert.match(r.kit.err, /non-minimal mpint|NUL byte/);
      // control: the blob as OpenSSH re-encodes it — both print the very line ssh-keygen printed above
      const fixed = canonicalLine(raw.toString('latin1'), kinds);
      const c = both(`${name}.canonical`, Buffer.from(fixed, 'latin1'));
      assert.equal(c.keygen.status, 0);
      assert.equal(c.keygen.out, r.keygen.out, 'ssh-keygen reads the fixture as its canonical form');
      assert.equal(c.kit.status, 0, c.kit.err);
      assert.equal(c.kit.out, c.keygen.out);
    });
  }
});

describe('wire--invariant: a value the reader accepts re-encodes to its bytes', () => {
  test('wire--invariant-33d2323287: every mpint and C string read at any offset re-encodes exactly', () => {
    const bin = fixture('wire--invariant-33d2323287');
    let accepted = 0;
    for (let off = 0; off < bin.length; off++) {
      for (const kind of ['mpint', 'cstring'] as const) {
        const r = new WireReader(bin.subarray(off));
        let bytes: Buffer;
        try {
          bytes = kind === 'mpint' ? new WireWriter().mpint(r.mpint()).toBuffer() : new WireWriter().string(r.cstring()).toBuffer();
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
          continue;
        }
        accepted++;
        assert.deepEqual(bytes, bin.subarray(off, off + bytes.length), `${kind} at offset ${off}`);
        assert.equal(bin.length - off - r.remaining, bytes.length, `${kind} at offset ${off} consumed what it re-encodes to`);
      }
    }
    assert.ok(accepted > 0, 'control: some values in the fixture are read (the empty mpint at offset 4)');
  });
});

describe('authorized-keys--invariant (issue 9 item 14): one reader for a line and the index', () => {
  test('a line whose base64 holds \\v is found by the index under the key it parses to, the key ssh-keygen -l sees', () => {
    const text = fixture('authorized-keys--invariant-31d448ef35').toString('latin1');
    assert.match(text, /\v/);
    const alone = parseAuthorizedKeysLine(text.trim(), 1);
    const found = parseAuthorizedKeys(text).lookup(alone.key.blob);
    assert.equal(found.length, 1, 'the key of line 1 must be found by its blob');
    assert.equal(found[0].line, 1);
    const r = both('ak-invariant', Buffer.from(text, 'latin1'));
    assert.equal(r.keygen.status, 0);
    assert.equal(r.kit.out, r.keygen.out, 'ssh-keygen -l reads the same key from that line');
  });
  test('control: the same line without the \\v is found too', () => {
    const text = fixture('authorized-keys--invariant-31d448ef35').toString('latin1').replace('\v', '');
    const alone = parseAuthorizedKeysLine(text.trim(), 1);
    assert.equal(parseAuthorizedKeys(text).lookup(alone.key.blob).length, 1);
  });
});

describe('diff-certs: certificates cert_parse refuses', () => {
  const ca = join(dir, 'ca');
  const user = join(dir, 'user');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ca', '-f', ca]).status, 0);
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'user', '-f', user]).status, 0);
  for (const name of ['diff-certs--4a948469a1', 'diff-certs--8344c2c36b', 'diff-certs--b29ca06a04']) {
    test(`${name}: sshkit fingerprint refuses it, as ssh-keygen -l does`, () => {
      const r = both(name, fixture(name));
      assert.notEqual(r.keygen.status, 0, 'ssh-keygen -l accepts it: the fixture no longer shows the finding');
      assert.equal(r.kit.status, 2, r.kit.out);
      assert.equal(r.kit.out, '');
      assert.match(r.kit.err, /more than 256 principals|NUL byte in (key id|a principal)/);
    });
  }
  test('control: a certificate ssh-keygen -s issues with 256 principals (its maximum) is fingerprinted as ssh-keygen -l does', () => {
    const principals = Array.from({ length: 256 }, (_, i) => `p${i}`).join(',');
    assert.equal(openssh('ssh-keygen', ['-q', '-s', ca, '-I', 'id', '-n', principals, `${user}.pub`]).status, 0);
    const cert = readFileSync(`${user}-cert.pub`);
    const r = both('cert256', cert);
    assert.equal(r.keygen.status, 0);
    assert.equal(r.kit.status, 0, r.kit.err);
    assert.equal(r.kit.out, r.keygen.out);
    assert.equal(parseCertificate(parsePublicKeyLine(cert.toString('latin1')).blob).principals.length, 256);
  });
  /** The signer's public key blob inside an armored SSHSIG (PROTOCOL.sshsig: MAGIC, version, key, …). */
  function sshsigKey(name: string): Buffer {
    const body = fixture(name).toString('latin1').replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, '');
    const blob = decodeBase64Strict(body, 'signature');
    const r = new WireReader(blob.subarray(6));
    r.u32();
    return r.string();
  }
  for (const name of ['diff-certs--2985792e42', 'diff-certs--33e6bd47cc']) {
    test(`${name}: the certificate inside the SSHSIG is refused by the one blob parser (so no verify can grant)`, () => {
      const certBlob = sshsigKey(name);
      assert.match(new WireReader(certBlob).text(), /-cert-v01@openssh\.com$/);
      assert.throws(() => inspectBlob(certBlob), (e: unknown) => e instanceof ParseError && /256 principals|NUL byte/.test(e.message));
      assert.throws(() => parseCertificate(certBlob), ParseError);
      // ssh-keygen's verdict on that certificate as a key line: refused (cert_parse)
      const line = `${new WireReader(certBlob).text()} ${certBlob.toString('base64')}\n`;
      assert.notEqual(both(`${name}.cert`, Buffer.from(line)).keygen.status, 0);
    });
  }
});

describe('scale--certificate-nested-ca: a certificate as CA key', () => {
  const edKey = new WireWriter().string('ssh-ed25519').string(Buffer.alloc(32, 7)).toBuffer();
  /** A certificate of an ed25519 key whose signature key is `ca` (signature junk: structure only). */
  function certOver(ca: Buffer): Buffer {
    return new WireWriter()
      .string('ssh-ed25519-cert-v01@openssh.com')
      .string(Buffer.alloc(32))
      .string(Buffer.alloc(32, 1))
      .u64(0n)
      .u32(1)
      .string('id')
      .string(new WireWriter().string('alice').toBuffer())
      .u64(0n)
      .u64(0xffffffffffffffffn)
      .string(Buffer.alloc(0))
      .string(Buffer.alloc(0))
      .string(Buffer.alloc(0))
      .string(ca)
      .string(new WireWriter().string('ssh-ed25519').string(Buffer.alloc(64)).toBuffer())
      .toBuffer();
  }
  test('20,000 nested certificates: one typed refusal, no stack overflow', () => {
    let blob = edKey;
    for (let i = 0; i < 20000; i++) blob = certOver(blob);
    assert.throws(() => inspectBlob(blob), (e: unknown) => e instanceof ParseError && /CA key: is a certificate/.test(e.message));
    assert.throws(() => parseCertificate(blob), ParseError);
  });
  test('control: one level (a plain CA key) is a structurally valid certificate', () => {
    const info = inspectBlob(certOver(edKey));
    assert.equal(info.isCert, true);
    assert.equal(info.label, 'ED25519-CERT');
  });
});

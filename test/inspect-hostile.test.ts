/**
 * `sshkit inspect` on certificates no well-behaved tool writes, each judged by the real `ssh-keygen -L -f`
 * on the same file: where ssh-keygen lists it (options out of order, duplicates, unknown options with
 * data), sshkit prints the same bytes; where ssh-keygen refuses or stops ("Option corrupt", a
 * force-command that is not one string, the fuzzing findings' NUL key id / NUL principal / 257
 * principals), sshkit prints nothing of it and exits 2 with one line, never a stack trace.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPrivateKey } from '../src/core/private-key.js';
import { createSigner, type Signer } from '../src/core/signature.js';
import { WireWriter } from '../src/core/wire.js';
import { openssh, ROOT, sshkit, tempDir } from './helpers.js';
import { keygenSign, makeKey } from './certify-helper.js';

type Opt = [string, Buffer];
const str = (s: string) => new WireWriter().string(s).toBuffer();
const flag = (name: string): Opt => [name, Buffer.alloc(0)];

describe('sshkit inspect on hostile certificates = ssh-keygen -L', () => {
  const { dir, cleanup } = tempDir('sshkit-inspect-hostile-');
  let ca: Signer;
  let subject: Buffer;
  before(() => {
    ca = createSigner(loadPrivateKey(readFileSync(makeKey(dir, 'ca', 'ed25519'))));
    subject = Buffer.from(readFileSync(`${makeKey(dir, 'subject', 'ed25519')}.pub`, 'utf8').split(' ')[1], 'base64');
  });
  after(cleanup);

  /** A user certificate of `subject` with raw option lists, signed by the ed25519 CA; its file. */
  function craft(name: string, critical: Opt[], extensions: Opt[]): string {
    const list = (opts: Opt[]) => {
      const w = new WireWriter();
      for (const [n, d] of opts) w.string(n).string(d);
      return w.toBuffer();
    };
    const key = subject.subarray(4 + 'ssh-ed25519'.length); // the key's fields after its type
    const tbs = new WireWriter()
      .string('ssh-ed25519-cert-v01@openssh.com')
      .string(Buffer.alloc(32, 7))
      .raw(key)
      .u64(3n)
      .u32(1)
      .string('crafted')
      .string(str('alice'))
      .u64(0n)
      .u64(0xffffffffffffffffn)
      .string(list(critical))
      .string(list(extensions))
      .string(Buffer.alloc(0))
      .string(ca.publicKey.blob)
      .toBuffer();
    const blob = new WireWriter().raw(tbs).string(ca.sign(tbs)).toBuffer();
    const file = join(dir, `${name}-cert.pub`);
    writeFileSync(file, `ssh-ed25519-cert-v01@openssh.com ${blob.toString('base64')}\n`);
    return file;
  }

  const CASES: Array<[string, Opt[], Opt[]]> = [
    ['unordered', [['source-address', str('10.0.0.0/8')], ['force-command', str('ls')]], [flag('permit-pty'), flag('permit-X11-forwarding')]],
    ['duplicates', [], [flag('permit-pty'), flag('permit-pty')]],
    ['unknown-data', [['zz', Buffer.from('not a string')]], [['ext', str('v')], ['raw', Buffer.from([0, 1, 2])]]],
    ['touch-prefix', [flag('verify-required')], [flag('no-touch-required-and-more')]],
    ['empty-name', [flag('')], [flag('')]],
    ['flag-with-data', [], [['permit-pty', str('x')]]],
    ['verify-with-data', [['verify-required', str('x')]], []],
    ['command-not-string', [['force-command', Buffer.from([0, 0, 0])]], []],
    ['command-trailing', [['force-command', Buffer.concat([str('ls'), Buffer.from('x')])]], []],
    ['command-nul', [['force-command', str('l\0s')]], []],
  ];

  for (const [name, critical, extensions] of CASES) {
    it(`${name}: as ssh-keygen -L lists it or refuses it`, () => {
      const file = craft(name, critical, extensions);
      const k = openssh('ssh-keygen', ['-L', '-f', file]); // ssh-keygen -L -f FILE
      const r = sshkit(['inspect', file]);
      if (k.status === 0) {
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, k.stdout);
      } else {
        assert.equal(r.status, 2);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: [^\\n]+\\n$`));
      }
    });
  }

  it('ssh-keygen -s writes a duplicate extension; sshkit lists that certificate as ssh-keygen -L does', () => {
    const key = makeKey(dir, 'dup', 'ecdsa256');
    keygenSign(join(dir, 'ca'), ['-I', 'dup', '-O', 'extension:x', '-O', 'extension:x'], [`${key}.pub`]);
    const file = `${key}-cert.pub`;
    const k = openssh('ssh-keygen', ['-L', '-f', file]);
    assert.match(k.stdout, /x UNKNOWN FLAG OPTION\n {16}x UNKNOWN FLAG OPTION\n/);
    assert.equal(sshkit(['inspect', file]).stdout, k.stdout);
    const ours = sshkit(['certify', '-s', join(dir, 'ca'), '-I', 'dup', '-O', 'extension:x', '-O', 'extension:x', '--force', `${key}.pub`]);
    assert.equal(ours.status, 2, 'sshkit certify refuses to write the duplicate (deliberate difference)');
    assert.match(ours.stderr, /given twice/);
  });

  for (const f of ['diff-certs--4a948469a1.bin', 'diff-certs--8344c2c36b.bin', 'diff-certs--b29ca06a04.bin']) {
    it(`fuzz finding ${f} (257 principals / NUL key id / NUL principal): refused by both, one line`, () => {
      const file = join(ROOT, 'test/fixtures/fuzz', f);
      const k = openssh('ssh-keygen', ['-L', '-f', file]);
      assert.notEqual(k.status, 0);
      assert.equal(k.stdout, '');
      const r = sshkit(['inspect', file]);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^[^\n]+:1: [^\n]+\n$/);
      assert.doesNotMatch(r.stderr, /not a certificate/, 'a malformed certificate is reported as such');
    });
  }
});

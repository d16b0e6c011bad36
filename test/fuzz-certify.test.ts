/**
 * Properties of the certificate writer and the -V/-O readers (fast-check):
 *  - any spec certify accepts comes back field for field from certificate.ts's strict parser, and its
 *    ssh-keygen -L text is produced without error; a sample of them is listed by the real
 *    `ssh-keygen -L` exactly as cert-inspect.ts formats them (same process TZ);
 *  - random `-V` specs over the grammar's pieces: sshkit and `ssh-keygen -s -V` agree on refusal and,
 *    for absolute forms, on the times (sampled, real ssh-keygen);
 *  - buildCertOptions never throws anything but a ParseError, and its lists are sorted and unique.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildCertOptions } from '../src/core/cert-options.js';
import { formatCertificate, viewCertificate } from '../src/core/cert-inspect.js';
import { certify } from '../src/core/cert-write.js';
import { parseCertificate } from '../src/core/certificate.js';
import { ParseError } from '../src/core/errors.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { createSigner, type Signer } from '../src/core/signature.js';
import { parseValidity } from '../src/core/validity.js';
import { fuzzParams } from './fuzz-helper.js';
import { openssh, tempDir } from './helpers.js';
import { certBlob, makeKey } from './certify-helper.js';

const name = fc.stringMatching(/^[a-zA-Z0-9@._-]{0,12}$/);
const optionArg = fc.oneof(
  fc.constantFrom('clear', 'permit-pty', 'no-pty', 'PERMIT-X11-FORWARDING', 'no-user-rc', 'verify-required', 'no-touch-required', 'touch-required', 'no-port-forwarding'),
  name.map((n) => `extension:${n}`),
  fc.tuple(name, fc.string({ maxLength: 8 })).map(([n, v]) => `critical:${n}=${v}`),
  fc.string({ maxLength: 10 }).map((v) => `force-command=${v}`),
  fc.constantFrom('source-address=10.0.0.0/8', 'source-address=::1,127.0.0.1', 'source-address=1.2.3.4/33', 'bogus'),
);

// times where ssh-keygen -L's output is defined (see test/inspect-time.test.ts), and the usual specials
const time = fc.oneof(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.constantFrom(0n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x7fffffffffffffffn, 1n << 63n));

describe('fuzz: certificate writer and readers', () => {
  const { dir, cleanup } = tempDir('sshkit-fuzz-certify-');
  let ca: Signer;
  let subject: Buffer;
  before(() => {
    ca = createSigner(loadPrivateKey(readFileSync(makeKey(dir, 'ca', 'ed25519'))));
    subject = certBlob(`${makeKey(dir, 'subject', 'ecdsa256')}.pub`);
  });
  after(cleanup);

  it('what certify writes parses back to its spec, and lists (sampled: exactly as ssh-keygen -L)', async () => {
    let sampled = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          host: fc.boolean(),
          serial: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
          keyId: fc.string({ maxLength: 20, unit: 'grapheme' }).filter((s) => !s.includes('\0')),
          principals: fc.array(fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('\0') && !s.includes('\n')), { maxLength: 5 }),
          times: fc.tuple(time, time).filter(([a, b]) => a !== b),
          opts: fc.array(optionArg, { maxLength: 6 }),
        }),
        async (r) => {
          let options;
          try {
            options = buildCertOptions(r.opts, r.host ? 'host' : 'user');
          } catch (err) {
            assert.ok(err instanceof ParseError, String(err));
            return;
          }
          const [validAfter, validBefore] = r.times[0] < r.times[1] ? r.times : [r.times[1], r.times[0]];
          const spec = { certType: r.host ? ('host' as const) : ('user' as const), serial: r.serial, keyId: r.keyId, principals: r.principals, validAfter, validBefore, options };
          const cert = await certify(subject, spec, { publicKey: ca.publicKey.blob, sign: (d) => ca.sign(d) });
          const back = parseCertificate(cert.blob);
          assert.deepEqual([back.certType, back.serial, back.keyId, back.principals, back.validAfter, back.validBefore], [spec.certType, spec.serial, spec.keyId, spec.principals, validAfter, validBefore]);
          assert.deepEqual([...back.extensions.keys()], options.extensions.map((o) => o.name));
          const text = formatCertificate(viewCertificate(cert.blob));
          // ssh-keygen -L prints strings raw: compare only where no newline would make lines ambiguous
          if (sampled < 25 && !/[\n\r]/.test(r.keyId)) {
            sampled++;
            const file = join(dir, 'sample-cert.pub');
            writeFileSync(file, `${cert.type} ${cert.blob.toString('base64')}\n`);
            const k = openssh('ssh-keygen', ['-L', '-f', file]); // ssh-keygen -L -f FILE
            assert.equal(k.stdout, `${file}:\n${text}`);
          }
        },
      ),
      fuzzParams(150),
    );
    assert.ok(sampled >= 10, `only ${sampled} certificates reached ssh-keygen -L`);
  });

  it('-V: sshkit and ssh-keygen -s agree on refusal and on absolute times (sampled)', () => {
    const pub = `${join(dir, 'subject')}.pub`;
    const out = join(dir, 'subject-cert.pub');
    const date = fc.date({ min: new Date(Date.UTC(1970, 1, 1)), max: new Date(Date.UTC(2999, 11, 31)), noInvalidDate: true }).chain((d) => {
      const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
      return fc.constantFrom(iso.slice(0, 8), iso.slice(0, 12), iso, `${iso.slice(0, 8)}Z`, `${iso}UTC`);
    });
    const hex = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }).map((v) => `0x${v.toString(16)}`);
    const junk = fc.constantFrom('0x', '20201301', '20200230', '19691231', '2020010', '', '+1x', 'forever', 'always', 'never', '0x-1', '+', '-');
    const from = fc.oneof({ arbitrary: fc.constantFrom('always', '+0', '-1w', '-5m'), weight: 1 }, { arbitrary: date, weight: 2 }, { arbitrary: hex, weight: 1 }, { arbitrary: junk, weight: 1 });
    const to = fc.oneof({ arbitrary: fc.constantFrom('forever', '+1d', '+52w'), weight: 1 }, { arbitrary: date, weight: 2 }, { arbitrary: hex, weight: 1 }, { arbitrary: junk, weight: 1 });
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(from, to, (a, b) => {
        const spec = `${a}:${b}`;
        let ours: { validAfter: bigint; validBefore: bigint } | null = null;
        try {
          ours = parseValidity(spec, Date.now() / 1000);
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
        if (existsSync(out)) rmSync(out);
        const k = openssh('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', 'v', '-V', spec, pub]); // ssh-keygen -s CA -V SPEC
        assert.equal(ours !== null, k.status === 0, `${spec}: sshkit ${ours ? 'accepts' : 'refuses'}, ssh-keygen ${k.status === 0 ? 'accepts' : 'refuses'}`);
        if (ours) accepted++;
        else refused++;
        if (ours && !/[+-]/.test(spec)) {
          const c = parseCertificate(certBlob(out));
          assert.deepEqual([c.validAfter, c.validBefore], [ours.validAfter, ours.validBefore], spec);
        }
      }),
      fuzzParams(40),
    );
    assert.ok(accepted >= 5 && refused >= 5, `accepted ${accepted}, refused ${refused}: the sample says little`);
  });

  it('-O: only ParseErrors, and the lists come out sorted by name without duplicates', () => {
    fc.assert(
      fc.property(fc.array(optionArg, { maxLength: 10 }), fc.boolean(), (opts, host) => {
        try {
          const o = buildCertOptions(opts, host ? 'host' : 'user');
          for (const list of [o.critical, o.extensions]) {
            const names = list.map((x) => Buffer.from(x.name));
            for (let i = 1; i < names.length; i++) assert.ok(Buffer.compare(names[i - 1], names[i]) < 0);
          }
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      fuzzParams(300),
    );
  });
});

/**
 * `sshkit certify` against `ssh-keygen -s` on the same keys: the same bytes (given ssh-keygen's nonce,
 * with the deterministic ed25519 and RSA CAs), the same validity for every `-V` form in two time zones,
 * the same refusals of bad `-V`/`-O`/`-n`/`-z`, output files as ssh-keygen names them, no overwrite without
 * --force, --json.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildCertOptions } from '../src/core/cert-options.js';
import { certificateToSign } from '../src/core/cert-write.js';
import { parseCertificate } from '../src/core/certificate.js';
import { loadPrivateKey } from '../src/core/private-key.js';
import { createSigner } from '../src/core/signature.js';
import { WireWriter } from '../src/core/wire.js';
import { openssh, sshkit, tempDir } from './helpers.js';
import { CERT_KEY_TYPES, certBlob, certPath, copyPub, keygenSign, makeKey, sshkitSign } from './certify-helper.js';

describe('sshkit certify = ssh-keygen -s', () => {
  const { dir, cleanup } = tempDir('sshkit-certify-');
  const keys = new Map<string, string>();
  before(() => {
    for (const t of CERT_KEY_TYPES) keys.set(t, makeKey(dir, `k_${t}`, t, `user ${t}`));
  });
  after(cleanup);

  it('the same certificate bytes as ssh-keygen -s, given its nonce (ed25519 and rsa-sha2-512 CAs sign deterministically)', () => {
    for (const caType of ['ed25519', 'rsa2048']) {
      const ca = keys.get(caType)!;
      const signer = createSigner(loadPrivateKey(readFileSync(ca)));
      const flags = ['-I', 'bytes', '-n', 'a,b', '-V', '20200101Z:20300101Z', '-z', '9', '-O', 'force-command=true', '-O', 'extension:x@y=1'];
      const pubs = CERT_KEY_TYPES.map((t) => copyPub(keys.get(t)!, dir, `bytes_${caType}_${t}`));
      keygenSign(ca, flags, pubs); // ssh-keygen -s CA -I bytes … PUB…
      for (const pub of pubs) {
        const theirs = parseCertificate(certBlob(certPath(pub)));
        const spec = {
          certType: 'user' as const,
          serial: 9n,
          keyId: 'bytes',
          principals: ['a', 'b'],
          validAfter: BigInt(Date.UTC(2020, 0, 1) / 1000),
          validBefore: BigInt(Date.UTC(2030, 0, 1) / 1000),
          options: buildCertOptions(['force-command=true', 'extension:x@y=1'], 'user'),
        };
        const tbs = certificateToSign(theirs.key, spec, signer.publicKey.blob, theirs.nonce);
        const ours = new WireWriter().raw(tbs).string(signer.sign(tbs, 'rsa-sha2-512')).toBuffer();
        assert.ok(ours.equals(theirs.blob), `${caType} CA over ${pub}`);
      }
    }
  });

  it('writes KEY-cert.pub beside KEY.pub or KEY, with the key comment (the file name when it has none), as ssh-keygen', () => {
    const ca = keys.get('ed25519')!;
    makeKey(dir, 'nocomment', 'ecdsa256', '');
    for (const tool of ['keygen', 'sshkit']) {
      const base = join(dir, `named_${tool}`);
      copyFileSync(`${keys.get('rsa2048')}.pub`, `${base}.pub`);
      const bare = join(dir, `nc_${tool}`);
      copyFileSync(join(dir, 'nocomment.pub'), `${bare}.pub`);
      const args = ['-I', 'x'];
      if (tool === 'keygen') keygenSign(ca, args, [base, `${bare}.pub`]);
      else sshkitSign(ca, args, [base, `${bare}.pub`]);
    }
    const comment = (f: string) => readFileSync(f, 'utf8').trim().split(' ').slice(2).join(' ');
    assert.equal(comment(join(dir, 'named_sshkit-cert.pub')), comment(join(dir, 'named_keygen-cert.pub')));
    assert.equal(comment(join(dir, 'named_sshkit-cert.pub')), 'user rsa2048');
    assert.equal(comment(join(dir, 'nc_keygen-cert.pub')), join(dir, 'nc_keygen.pub'));
    assert.equal(comment(join(dir, 'nc_sshkit-cert.pub')), join(dir, 'nc_sshkit.pub'));
  });

  it('comment bytes kept as they are (latin1 byte in the file, UTF-8 file name as the fallback), as ssh-keygen', () => {
    const ca = keys.get('ed25519')!;
    const b64 = readFileSync(`${keys.get('ed25519')}.pub`, 'utf8').split(' ')[1];
    for (const tool of ['keygen', 'sshkit']) {
      writeFileSync(join(dir, `lat_${tool}.pub`), Buffer.concat([Buffer.from(`ssh-ed25519 ${b64} caf`), Buffer.from([0xe9, 0x0a])]));
      writeFileSync(join(dir, `ключ_${tool}.pub`), `ssh-ed25519 ${b64}\n`);
      const pubs = [join(dir, `lat_${tool}.pub`), join(dir, `ключ_${tool}.pub`)];
      if (tool === 'keygen') keygenSign(ca, ['-I', 'c'], pubs);
      else sshkitSign(ca, ['-I', 'c'], pubs);
    }
    const tail = (f: string) => {
      const b = readFileSync(join(dir, f));
      return b.subarray(b.lastIndexOf(0x20) + 1);
    };
    assert.deepEqual(tail('lat_sshkit-cert.pub'), tail('lat_keygen-cert.pub'));
    assert.deepEqual(tail('lat_sshkit-cert.pub'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    assert.equal(tail('ключ_sshkit-cert.pub').toString(), `${join(dir, 'ключ_sshkit.pub')}\n`);
    assert.equal(tail('ключ_keygen-cert.pub').toString(), `${join(dir, 'ключ_keygen.pub')}\n`);
  });

  it('KEY with only a private key (no KEY.pub): its public half, no comment (ssh-keygen writes "(null)")', () => {
    const ca = keys.get('ed25519')!;
    const lone = makeKey(dir, 'lone_keygen', 'ecdsa384', 'stored comment');
    rmSync(`${lone}.pub`);
    copyFileSync(lone, join(dir, 'lone_sshkit'));
    for (const tool of ['keygen', 'sshkit']) {
      const key = join(dir, `lone_${tool}`);
      if (tool === 'keygen') keygenSign(ca, ['-I', 'lone'], [key]);
      else sshkitSign(ca, ['-I', 'lone'], [key]);
    }
    const [k, s] = ['keygen', 'sshkit'].map((t) => readFileSync(join(dir, `lone_${t}-cert.pub`), 'utf8').trim().split(' '));
    assert.equal(k[2], '(null)');
    assert.equal(s.length, 2);
    assert.ok(parseCertificate(Buffer.from(s[1], 'base64')).key.equals(parseCertificate(Buffer.from(k[1], 'base64')).key));
  });

  /** valid_after/valid_before of the certificate each tool makes with `-V spec` under `tz`. */
  function validity(spec: string, tz: string): { k: [bigint, bigint]; s: [bigint, bigint]; t0: number; t1: number } {
    const ca = keys.get('ecdsa256')!;
    const kp = copyPub(keys.get('ed25519')!, dir, 'v_k');
    const sp = copyPub(keys.get('ed25519')!, dir, 'v_s');
    const t0 = Math.floor(Date.now() / 1000);
    keygenSign(ca, ['-I', 'v', '-V', spec], [kp], { TZ: tz });
    sshkitSign(ca, ['-I', 'v', '-V', spec, '--force'], [sp], { TZ: tz });
    const t1 = Math.ceil(Date.now() / 1000);
    const get = (f: string): [bigint, bigint] => {
      const c = parseCertificate(certBlob(certPath(f)));
      return [c.validAfter, c.validBefore];
    };
    return { k: get(kp), s: get(sp), t0, t1 };
  }

  const ABSOLUTE = ['always:forever', '20200101:20300101', '202001011230:203001011230', '20200101123456:20300101123456', '20200701:20201231', '20200101Z:20300101UTC', '20200101120000z:20300101utc', '0x0:0x1', '0x5f5e100:forever', 'always:0xffffffffffffffff', '20200101:0x7fffffffffffffff'];
  for (const tz of ['UTC', 'America/New_York']) {
    it(`-V absolute forms give ssh-keygen's times exactly, TZ=${tz}`, () => {
      for (const spec of ABSOLUTE) {
        const { k, s } = validity(spec, tz);
        assert.deepEqual(s, k, spec);
      }
    });
  }

  it('-V relative forms: the same times as ssh-keygen at the same instant (±the seconds between the runs)', () => {
    for (const spec of ['+52w', '+1d', '+5m30s', '-1d:+1w', '-5m:forever', 'always:+2h', '20200101:+1d', '+1h:+2h', '-1w2d:-1d']) {
      const { k, s, t0, t1 } = validity(spec, 'UTC');
      for (let i = 0; i < 2; i++) {
        const d = s[i] - k[i];
        // identical up to the clock moving between the two runs (a minute boundary for the backdated start)
        assert.ok(d >= 0n && d <= BigInt(t1 - t0 + (spec.startsWith('+') && !spec.includes(':') && i === 0 ? 60 : 0)), `${spec}[${i}]: ${s[i]} vs ${k[i]}`);
      }
    }
  });

  const pubForErrors = () => copyPub(keys.get('ed25519')!, dir, 'err');
  const BAD_ARGS: string[][] = [
    ['-V', 'forever'],
    ['-V', 'always'],
    ['-V', '+'],
    ['-V', '+5x'],
    ['-V', '1:'],
    ['-V', ':1'],
    ['-V', '20201301:forever'],
    ['-V', '+1d:-1d'],
    ['-V', '0x:forever'],
    ['-V', '0x10000000000000000:forever'],
    ['-V', '-99999999w:+1d'],
    ['-V', '20300101:20200101'],
    ['-O', 'no-such-option'],
    ['-O', 'force-command='],
    ['-O', 'force-command=a', '-O', 'force-command=b'],
    ['-O', 'source-address=10.0.0.1/8'],
    ['-O', 'source-address=example.com'],
    ['-O', 'source-address='],
    ['-n', 'a,,b'],
    ['-n', Array.from({ length: 257 }, (_, i) => `p${i}`).join(',')],
    ['-z', '-1'],
    ['-z', '18446744073709551616'],
    ['-z', '12x'],
  ];
  it('refuses what ssh-keygen -s refuses (-V, -O, -n, -z), exit 2, nothing written; a good run writes (control)', () => {
    const ca = keys.get('ed25519')!;
    const pub = pubForErrors();
    for (const args of BAD_ARGS) {
      const k = openssh('ssh-keygen', ['-q', '-s', ca, '-I', 'e', ...args, pub]); // ssh-keygen -s CA -I e ARGS PUB
      assert.notEqual(k.status, 0, `ssh-keygen accepted ${args.join(' ')}`);
      assert.ok(!existsSync(certPath(pub)), 'ssh-keygen wrote a certificate');
      const r = sshkit(['certify', '-s', ca, '-I', 'e', ...args, pub]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
      assert.ok(!existsSync(certPath(pub)), `sshkit wrote a certificate for ${args.join(' ')}`);
    }
    const ok = sshkit(['certify', '-s', ca, '-I', 'e', '-V', '+1d', '-O', 'source-address=10.0.0.0/8', pub]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(certPath(pub)));
  });

  it('an existing -cert.pub is kept without --force (nothing signed, no temp file left) and replaced with it', () => {
    const ca = keys.get('ed25519')!;
    const a = copyPub(keys.get('ecdsa384')!, dir, 'ow_a');
    const b = copyPub(keys.get('ecdsa521')!, dir, 'ow_b');
    writeFileSync(certPath(b), 'old\n');
    const before = readdirSync(dir).sort();
    const r = sshkit(['certify', '-s', ca, '-I', 'x', a, b]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `sshkit: ${certPath(b)}: already exists (use --force to overwrite)\n`);
    assert.equal(readFileSync(certPath(b), 'utf8'), 'old\n');
    assert.ok(!existsSync(certPath(a)), 'the first key was certified before the refusal');
    assert.deepEqual(readdirSync(dir).sort(), before);
    const f = sshkit(['certify', '-s', ca, '-I', 'x', '--force', a, b]);
    assert.equal(f.status, 0, f.stderr);
    assert.equal(openssh('ssh-keygen', ['-L', '-f', certPath(b)]).status, 0); // ssh-keygen -L reads the new one
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });

  it('refuses a certificate as the key to certify or as the CA, and an encrypted CA without a passphrase', () => {
    const ca = keys.get('ed25519')!;
    const pub = copyPub(keys.get('ed25519')!, dir, 'cc');
    sshkitSign(ca, ['-I', 'x'], [pub]);
    const again = sshkit(['certify', '-s', ca, '-I', 'x', certPath(pub)]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /cannot be certified/);
    const asCa = sshkit(['certify', '-s', certPath(pub), '-I', 'x', '--force', pub]);
    assert.equal(asCa.status, 2);
    const enc = join(dir, 'enc_ca');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pw', '-f', enc]).status, 0);
    const noPass = sshkit(['certify', '-s', enc, '-I', 'x', '--force', pub]);
    assert.equal(noPass.status, 2);
    assert.match(noPass.stderr, /passphrase/);
    const wrongPass = sshkit(['certify', '-s', enc, '-P', 'nope', '-I', 'x', '--force', pub]);
    assert.equal(wrongPass.status, 2);
    assert.match(wrongPass.stderr, /incorrect passphrase/);
    const withPass = sshkit(['certify', '-s', enc, '-P', 'pw', '-I', 'x', '--force', pub]); // control
    assert.equal(withPass.status, 0, withPass.stderr);
    const passFile = join(dir, 'pass.txt');
    writeFileSync(passFile, 'pw\n');
    const viaFile = sshkit(['certify', '-s', enc, '--passphrase-file', passFile, '-I', 'x', '--force', pub]);
    assert.equal(viaFile.status, 0, viaFile.stderr);
  });

  it('progress lines as ssh-keygen prints them, serials counting up with -z +N, and --json', () => {
    const ca = keys.get('ed25519')!;
    const names = ['p1', 'p2'];
    const kp = names.map((n) => copyPub(keys.get('ed25519')!, dir, `k${n}`));
    const sp = names.map((n) => copyPub(keys.get('ed25519')!, dir, `s${n}`));
    const args = ['-I', 'id', '-n', 'u1,u2', '-z', '+7', '-V', '20200101Z:20300101Z', '-h'];
    const k = openssh('ssh-keygen', ['-s', ca, ...args, ...kp], { env: { TZ: 'UTC' } });
    const s = sshkit(['certify', '-s', ca, ...args, ...sp], { env: { TZ: 'UTC' } });
    assert.equal(s.status, 0, s.stderr);
    // ssh-keygen's logit ends lines with \r\n; sshkit's lines end with \n (SPEC: deliberate difference)
    assert.equal(s.stderr, k.stderr.replaceAll('\r\n', '\n').replaceAll(`${dir}/k`, `${dir}/s`));
    const j = sshkit(['--json', 'certify', '-s', ca, ...args, '--force', ...sp]);
    const data = JSON.parse(j.stdout);
    assert.deepEqual(data.map((d: { serial: string }) => d.serial), ['7', '8']);
    assert.deepEqual(data.map((d: { certificate: string }) => d.certificate), sp.map(certPath));
    assert.equal(data[0].certType, 'host');
    assert.equal(j.stderr.split('\n').length, 3);
  });
});

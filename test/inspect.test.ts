/**
 * `sshkit inspect` against `ssh-keygen -L -f` (run here, on the same files): for every subject/CA type
 * pair and several option sets, certificates made by `ssh-keygen -s` and by `sshkit certify` with the same
 * flags. The keys and CA are the same, so both tools' certificates must also list identically under
 * `ssh-keygen -L` itself. Signing runs under TZ=America/New_York (absolute -V times are local, and a July
 * date exercises mktime's tm_isdst = 0); listing under UTC, New York and Asia/Kolkata (a half-hour zone).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openssh, sshkit, tempDir } from './helpers.js';
import { CERT_KEY_TYPES, certPath, copyPub, keygenList, keygenSign, makeKey, sshkitSign } from './certify-helper.js';

/** Option sets: each is signed by every CA over every subject, by both tools. */
const SETS: Record<string, string[]> = {
  // every CA signs every subject with `plain`; each other set is signed by one CA (in turn) over every subject
  plain: ['-I', 'plain'],
  user: ['-I', 'alice@example', '-n', 'alice,bob', '-V', '20200101:20300101123456', '-z', '42', '-O', 'force-command=/bin/echo hi', '-O', 'source-address=10.0.0.0/8,::1', '-O', 'no-pty', '-O', 'extension:custom@example.com=v', '-O', 'critical:zz@example.com'],
  host: ['-I', 'host id', '-h', '-n', 'host.example,*.example.org', '-V', 'always:20350101Z', '-z', '18446744073709551615'],
  flags: ['-I', 'ünïcode id', '-O', 'clear', '-O', 'permit-pty', '-O', 'verify-required', '-O', 'no-touch-required', '-V', '0x1:forever', '-z', '+5', '-O', 'critical:a=', '-O', 'extension:b=x=y'],
  summer: ['-I', 'dst', '-V', '20200701:202011011200', '-O', 'clear', '-O', 'permit-X11-forwarding', '-n', 'p'],
  far: ['-I', 'far', '-V', '0x3afff44180:0x7fffffffffffffff', '-n', 'x'],
  edge: ['-I', '', '-V', '20211231235959UTC:0xffffffffffff'],
};
const SIGN_TZ = { TZ: 'America/New_York' };
const LIST_TZS = ['UTC', 'America/New_York', 'Asia/Kolkata'];

describe('sshkit inspect = ssh-keygen -L', () => {
  const { dir, cleanup } = tempDir('sshkit-inspect-');
  const kDir = join(dir, 'keygen');
  const sDir = join(dir, 'sshkit');
  const files: string[] = []; // certificate names, the same in both folders

  before(() => {
    mkdirSync(kDir);
    mkdirSync(sDir);
    const cas = new Map(CERT_KEY_TYPES.map((t) => [t, makeKey(dir, `ca_${t}`, t, `ca ${t}`)]));
    const subjects = CERT_KEY_TYPES.map((t) => makeKey(dir, `key_${t}`, t, `user ${t}`));
    for (const [caType, ca] of cas) {
      const turn = CERT_KEY_TYPES.indexOf(caType);
      for (const [set, args] of Object.entries(SETS).filter(([, ], i) => i === 0 || (i - 1) % CERT_KEY_TYPES.length === turn)) {
        const names = subjects.map((s) => `${caType}.${set}.${s.split('key_')[1]}`);
        const kPubs = names.map((n, i) => copyPub(subjects[i], kDir, n));
        const sPubs = names.map((n, i) => copyPub(subjects[i], sDir, n));
        keygenSign(ca, args, kPubs, SIGN_TZ);
        sshkitSign(ca, args, sPubs, SIGN_TZ);
        files.push(...names.map((n) => `${n}-cert.pub`));
      }
    }
  });
  after(cleanup);

  for (const tz of LIST_TZS) {
    it(`every subject/CA pair and option set, both tools' certificates, TZ=${tz}`, () => {
      const env = { TZ: tz };
      const expectK = files.map((f) => keygenList(join(kDir, f), env)).join('');
      const expectS = files.map((f) => keygenList(join(sDir, f), env)).join('');
      // same keys, same CA, same flags: ssh-keygen -L shows sshkit's certificates as it shows its own
      assert.equal(expectS.replaceAll(sDir, kDir), expectK);
      const gotK = sshkit(['inspect', ...files.map((f) => join(kDir, f))], { env });
      assert.equal(gotK.status, 0, gotK.stderr);
      assert.equal(gotK.stdout, expectK);
      const gotS = sshkit(['inspect', ...files.map((f) => join(sDir, f))], { env });
      assert.equal(gotS.status, 0, gotS.stderr);
      assert.equal(gotS.stdout, expectS);
    });
  }

  it('a file of several certificates, and stdin, are headed as ssh-keygen heads them', () => {
    const many = join(dir, 'many-cert.pub');
    const lines = files.slice(0, 3).map((f) => readFileSync(join(kDir, f), 'utf8'));
    writeFileSync(many, `# a comment\n${lines[0]}\n${lines[1]}${lines[2]}`);
    const expect = openssh('ssh-keygen', ['-L', '-f', many]).stdout; // ssh-keygen -L -f FILE
    assert.match(expect, /many-cert\.pub:2:\n/);
    assert.equal(sshkit(['inspect', many]).stdout, expect);
    const viaStdin = openssh('ssh-keygen', ['-L', '-f', '-'], { input: lines[0] }).stdout; // ssh-keygen -L -f -
    assert.match(viaStdin, /^\(stdin\):1:\n/);
    assert.equal(sshkit(['inspect', '-'], { input: lines[0] }).stdout, viaStdin);
  });

  it('--json gives the same fields as data', () => {
    const f = join(kDir, files.find((n) => n.includes('.user.'))!);
    const r = sshkit(['--json', 'inspect', f]);
    assert.equal(r.status, 0, r.stderr);
    const [v] = JSON.parse(r.stdout);
    const text = keygenList(f);
    assert.ok(text.includes(`Key ID: "${v.keyId}"`) && text.includes(`Serial: ${v.serial}\n`) && text.includes(`Valid: ${v.valid}\n`));
    assert.deepEqual(v.principals, ['alice', 'bob']);
    assert.deepEqual(
      v.criticalOptions.map((o: { name: string; value: string | null }) => [o.name, o.value]),
      [['force-command', '/bin/echo hi'], ['source-address', '10.0.0.0/8,::1'], ['zz@example.com', null]],
    );
    assert.ok(text.includes(`Signing CA: ${v.caLabel} ${v.caFingerprint} (using ${v.signatureAlgorithm})`));
    assert.equal(v.validBefore, String(Date.UTC(2030, 0, 1, 17, 34, 56) / 1000)); // 12:34:56 EST
  });

  it('a file that is not a certificate is one line, exit 2; a certificate beside it still lists (control)', () => {
    const pub = join(dir, 'key_ed25519.pub');
    const cert = join(kDir, files[0]);
    assert.notEqual(openssh('ssh-keygen', ['-L', '-f', pub]).status, 0); // ssh-keygen -L refuses it too
    const r = sshkit(['inspect', pub]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${pub}: not a certificate\n`);
    const priv = sshkit(['inspect', join(dir, 'key_ed25519')]);
    assert.equal(priv.status, 2);
    assert.equal(priv.stderr, `${join(dir, 'key_ed25519')}: not a certificate\n`);
    const both = sshkit(['inspect', cert, pub]);
    assert.equal(both.status, 2);
    assert.equal(both.stdout, keygenList(cert));
    const ok = sshkit(['inspect', cert]);
    assert.equal(ok.status, 0);
    assert.equal(ok.stderr, '');
  });

  it('a certificate whose CA signature was altered is refused, as ssh-keygen -L refuses it', () => {
    const good = readFileSync(join(kDir, files[0]), 'utf8').split(' ');
    const blob = Buffer.from(good[1], 'base64');
    blob[blob.length - 5] ^= 1;
    const bad = join(dir, 'bad-cert.pub');
    writeFileSync(bad, `${good[0]} ${blob.toString('base64')}\n`);
    const k = openssh('ssh-keygen', ['-L', '-f', bad]);
    assert.equal(k.stdout, '');
    assert.notEqual(k.status, 0);
    const r = sshkit(['inspect', bad]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
  });
});

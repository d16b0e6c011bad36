/**
 * `sshkit krl` against the real ssh-keygen 9.2 in the same run: the KRL bytes equal `ssh-keygen -k`'s
 * (date field masked; with `-u` the date is kept, so the whole file is equal), `ssh-keygen -Q` agrees
 * with every KRL sshkit writes, and `sshkit krl --check` agrees with every KRL ssh-keygen writes, for
 * revocation by key, by serial under each CA, by key ID, by hash, by SHA1 and of the CA itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { openssh, sshkit } from './helpers.js';
import { ALL_KEYS, keygen, keygenRevoked, makeFixture, maskDate, writeSpec, type KrlFixture } from './krl-fixture.js';

let f: KrlFixture;
before(() => {
  f = makeFixture();
});
after(() => f.cleanup());

/** Both tools write KRL `name` from the same spec; asserts the bytes agree and returns both paths. */
function both(name: string, args: string[], specs: string[]): { ours: string; theirs: string } {
  const theirs = f.p(`${name}.keygen.krl`);
  const ours = f.p(`${name}.sshkit.krl`);
  keygen(['-k', '-f', theirs, ...args, ...specs]);
  const r = sshkit(['krl', '-f', ours, ...args, ...specs]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, specs.map((s) => `Revoking from ${s}\n`).join(''), 'progress lines as ssh-keygen prints them');
  assert.deepEqual(maskDate(readFileSync(ours)), maskDate(readFileSync(theirs)), `${name}: KRL bytes differ from ssh-keygen -k`);
  return { ours, theirs };
}

/** sshkit krl --check verdicts for the fixture's keys: 'revoked' | 'ok' per file name. */
function sshkitVerdicts(krl: string): Map<string, boolean> {
  const r = sshkit(['krl', '--check', '--json', '-f', krl, ...ALL_KEYS.map((k) => f.p(k))]);
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const got = JSON.parse(r.stdout) as { file: string; revoked: boolean }[];
  assert.equal(r.status, got.some((x) => x.revoked) ? 1 : 0, 'exit 1 exactly when a key is revoked');
  return new Map(got.map((x) => [x.file.slice(f.dir.length + 1), x.revoked]));
}

/** `ssh-keygen -Q -f KRL` over all the fixture's keys at once: one `FILE (comment): ok|REVOKED` line each. */
function keygenVerdicts(krl: string): Map<string, boolean> {
  const r = openssh('ssh-keygen', ['-Q', '-f', krl, ...ALL_KEYS.map((k) => f.p(k))]);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, ALL_KEYS.length, `ssh-keygen -Q -f ${krl}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  const verdicts = new Map(lines.map((l, i) => [ALL_KEYS[i], / REVOKED$/.test(l)]));
  assert.equal(r.status, [...verdicts.values()].some(Boolean) ? 1 : 0);
  return verdicts;
}

/** Each kind of revocation alone, with what must be revoked; everything else must stay ok. */
const KINDS: { name: string; args: string[]; lines: () => string[]; revoked: string[] }[] = [
  { name: 'by-key', args: [], lines: () => [f.pub('u-ed')], revoked: ['u-ed.pub'] },
  { name: 'key-prefix', args: [], lines: () => [`key: ${f.pub('u-rsa')}`], revoked: ['u-rsa.pub'] },
  { name: 'sha1', args: [], lines: () => [`sha1: ${f.pub('u-ec')}`], revoked: ['u-ec.pub'] },
  { name: 'sha256', args: [], lines: () => [`sha256: ${f.pub('u-ec')}`], revoked: ['u-ec.pub'] },
  { name: 'hash', args: [], lines: () => [`hash: ${keygen(['-l', '-f', f.p('u-rsa.pub')]).split(' ')[1]}`], revoked: ['u-rsa.pub'] },
  { name: 'serial-ca1', args: ['-s', 'ca1.pub'], lines: () => ['serial: 5'], revoked: ['c-serial5-cert.pub'] },
  { name: 'serial-ca2', args: ['-s', 'ca2.pub'], lines: () => ['serial: 5'], revoked: ['c-ca2-cert.pub'] },
  { name: 'serial-range', args: ['-s', 'ca1.pub'], lines: () => ['serial: 4-9'], revoked: ['c-serial5-cert.pub', 'c-serial9-cert.pub'] },
  { name: 'serial-any-ca', args: ['-s', 'none'], lines: () => ['serial: 5'], revoked: ['c-serial5-cert.pub', 'c-ca2-cert.pub'] },
  { name: 'key-id', args: ['-s', 'ca1.pub'], lines: () => ['id: alice-laptop'], revoked: ['c-id-cert.pub'] },
  { name: 'cert-itself', args: [], lines: () => [f.pub('c-serial9-cert'), f.pub('c-id2-cert')], revoked: ['c-serial9-cert.pub', 'c-id2-cert.pub'] },
  { name: 'ca-itself', args: [], lines: () => [f.pub('ca2')], revoked: ['ca2.pub', 'c-ca2-cert.pub'] },
  { name: 'certified-key', args: [], lines: () => [`key: ${f.pub('c-serial5')}`], revoked: ['c-serial5-cert.pub'] },
];

for (const kind of KINDS) {
  test(`krl ${kind.name}: same bytes as ssh-keygen -k; ssh-keygen -Q and krl --check agree on both files`, () => {
    const args = kind.args.map((a) => (a.endsWith('.pub') ? f.p(a) : a));
    const { ours, theirs } = both(kind.name, args, [writeSpec(f, `${kind.name}.spec`, kind.lines())]);
    const expected = new Map(ALL_KEYS.map((k) => [k, kind.revoked.includes(k)]));
    assert.deepEqual(keygenVerdicts(ours), expected, 'ssh-keygen -Q on the KRL sshkit wrote');
    assert.deepEqual(keygenVerdicts(theirs), expected, 'ssh-keygen -Q on its own KRL');
    assert.deepEqual(sshkitVerdicts(theirs), expected, 'sshkit krl --check on the KRL ssh-keygen wrote');
    assert.ok(expected.get('u-ok.pub') === false && expected.get('c-ok-cert.pub') === false, 'controls stay ok');
  });
}

/** A deterministic PRNG (mulberry32), so the serial sets are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('krl: every spec line form, several CAs and serial layouts (list, range, bitmap, restarts) give ssh-keygen -k bytes', () => {
  const lines = [
    '# a comment line',
    '   ',
    'serial: 5',
    'SERIAL: 0x30   # hex, comment after',
    'serial: 017',
    'serial: 100-200',
    '\tid: alice-laptop',
    'Id: bob  ',
    'id: with # hash cut',
    `key: ${f.pub('u-ed')}`,
    `sha1: ${f.pub('u-ec')}`,
    `sha256: ${f.pub('u-rsa')}`,
    `hash: ${keygen(['-l', '-f', f.p('u-ok.pub')]).split(' ')[1]}`,
    f.pub('c-ca2-cert'),
    f.pub('c-id2-cert'),
    f.pub('u-rsa'),
  ];
  const next = rng(11);
  const dense = [...Array(3000).keys()].filter(() => next() < 0.5).map((i) => `serial: ${i + 1000}`);
  const sparse = [...Array(400).keys()].map(() => `serial: ${1 + Math.floor(next() * 2 ** 40)}`);
  const runs = [...Array(60).keys()].map((i) => `serial: ${100000 + i * 500}-${100000 + i * 500 + Math.floor(next() * 300)}`);
  const clusters = [...Array(30).keys()].flatMap((i) => [...Array(8).keys()].map((j) => `serial: ${5_000_000 + i * 90 + j * Math.floor(1 + next() * 5)}`));
  const specs = [
    writeSpec(f, 'all.spec', lines),
    writeSpec(f, 'dense.spec', dense),
    writeSpec(f, 'sparse.spec', sparse),
    writeSpec(f, 'runs.spec', runs),
    writeSpec(f, 'clusters.spec', clusters),
  ];
  const { ours } = both('all', ['-s', f.p('ca1.pub'), '-z', '42'], specs);
  assert.deepEqual(sshkitVerdicts(ours), keygenVerdicts(ours));
});

test('krl -u: updating a KRL gives the very bytes of ssh-keygen -k -u (date kept), then -z raises the version', () => {
  const base = writeSpec(f, 'base.spec', ['serial: 5', f.pub('u-ed')]);
  const { theirs } = both('upd', ['-s', f.p('ca1.pub')], [base]);
  const add = writeSpec(f, 'add.spec', ['serial: 6-9', 'id: alice-laptop', f.pub('ca2')]);
  copyFileSync(theirs, f.p('upd-ours.krl'));
  copyFileSync(theirs, f.p('upd-theirs.krl'));
  keygen(['-k', '-u', '-f', f.p('upd-theirs.krl'), '-s', f.p('ca1.pub'), '-z', '7', add]);
  const r = sshkit(['krl', '-u', '-f', f.p('upd-ours.krl'), '-s', f.p('ca1.pub'), '-z', '7', add]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(f.p('upd-ours.krl')), readFileSync(f.p('upd-theirs.krl')));
  assert.equal(keygenRevoked(f.p('upd-ours.krl'), f.p('c-serial9-cert.pub')), true);
  // a bad line anywhere leaves the KRL byte for byte as it was (no partial update)
  const before = readFileSync(f.p('upd-ours.krl'));
  const bad = sshkit(['krl', '-u', '-q', '-f', f.p('upd-ours.krl'), '-s', f.p('ca1.pub'), writeSpec(f, 'upd-bad.spec', ['serial: 77', 'serial: nope'])]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /upd-bad\.spec:2: invalid serial "nope"/);
  assert.deepEqual(readFileSync(f.p('upd-ours.krl')), before);
  assert.equal(keygenRevoked(f.p('upd-ours.krl'), f.p('c-ok-cert.pub')), false);
});

test('krl: a bitmap past 16384 bits, which ssh-keygen writes but cannot read back, is split so OpenSSH reads it', () => {
  const spec = writeSpec(f, 'wide.spec', [...Array(12000).keys()].map((i) => `serial: ${1 + 2 * i}`));
  keygen(['-k', '-f', f.p('wide.keygen.krl'), '-s', f.p('ca1.pub'), spec]);
  const theirs = openssh('ssh-keygen', ['-Q', '-f', f.p('wide.keygen.krl'), f.p('c-serial5-cert.pub')]);
  assert.equal(theirs.status, 255, 'ssh-keygen cannot read its own KRL here');
  assert.match(theirs.stderr, /bignum is too large/);
  const r = sshkit(['krl', '-q', '-f', f.p('wide.sshkit.krl'), '-s', f.p('ca1.pub'), spec]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(keygenRevoked(f.p('wide.sshkit.krl'), f.p('c-serial5-cert.pub')), true, 'serial 5 (odd) revoked');
  assert.equal(keygenRevoked(f.p('wide.sshkit.krl'), f.p('c-ok-cert.pub')), false, 'serial 1000 (even) not revoked');
  const bad = sshkit(['krl', '--check', '-f', f.p('wide.keygen.krl'), f.p('c-ok-cert.pub')]);
  assert.equal(bad.status, 2, 'sshkit refuses the unreadable KRL as ssh-keygen does (never "ok")');
});

test('krl: an existing KRL is kept without -u or --force; -u needs an existing KRL; a bad line writes nothing', () => {
  const spec = writeSpec(f, 'one.spec', ['serial: 5']);
  const path = f.p('exists.krl');
  writeFileSync(path, 'precious');
  let r = sshkit(['krl', '-f', path, '-s', f.p('ca1.pub'), spec]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /already exists/);
  assert.equal(readFileSync(path, 'utf8'), 'precious');
  r = sshkit(['krl', '--force', '-q', '-f', path, '-s', f.p('ca1.pub'), spec]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(keygenRevoked(path, f.p('c-serial5-cert.pub')), true);

  r = sshkit(['krl', '--check', '-u', '-f', path, f.p('u-ok.pub')]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'sshkit: --check cannot be combined with -u, -s, -z or -C\n');

  r = sshkit(['krl', '-u', '-f', f.p('missing.krl'), spec]);
  assert.equal(r.status, 2);
  assert.equal(existsSync(f.p('missing.krl')), false);

  const cases: [string[], RegExp, string[]][] = [
    [['serial: 5'], /bad1\.spec:1: revoking certificates by serial number requires specification of a CA key/, []],
    [['serial: 0'], /bad2\.spec:1: invalid serial range 0:0/, ['-s', f.p('ca1.pub')]],
    [['# ok', 'serial: 9-3'], /bad3\.spec:2: invalid serial range 9:3/, ['-s', f.p('ca1.pub')]],
    [['serial: 1x'], /bad4\.spec:1: invalid serial "1x"/, ['-s', f.p('ca1.pub')]],
    [['serial: 18446744073709551616'], /bad5\.spec:1: serial out of range/, ['-s', f.p('ca1.pub')]],
    [['hash: MD5:aa'], /bad6\.spec:1: unsupported hash algorithm/, []],
    [['key: nonsense'], /bad7\.spec:1: invalid key/, []],
    [['id: x'], /bad8\.spec:1: revoking certificates by key ID requires/, []],
  ];
  cases.forEach(([lines, re, args], i) => {
    const s = writeSpec(f, `bad${i + 1}.spec`, lines);
    const out = f.p(`bad${i + 1}.krl`);
    const k = openssh('ssh-keygen', ['-k', '-f', f.p(`bad${i + 1}.keygen.krl`), ...args, s]);
    assert.notEqual(k.status, 0, `ssh-keygen also refuses ${lines.join(' | ')}`);
    const got = sshkit(['krl', '-q', '-f', out, ...args, s]);
    assert.equal(got.status, 2, got.stderr);
    assert.match(got.stderr, re);
    assert.equal(got.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(existsSync(out), false, 'nothing written');
  });
});

test('krl --check prints what ssh-keygen -Q prints, exit 1 when any key is revoked', () => {
  const spec = writeSpec(f, 'q.spec', [f.pub('u-ed')]);
  keygen(['-k', '-f', f.p('q.krl'), spec]);
  for (const keys of [['u-ed.pub', 'u-ok.pub'], ['u-ok.pub']]) {
    const paths = keys.map((k) => f.p(k));
    const theirs = openssh('ssh-keygen', ['-Q', '-f', f.p('q.krl'), ...paths]);
    const ours = sshkit(['krl', '--check', '-f', f.p('q.krl'), ...paths]);
    assert.equal(ours.stdout, theirs.stdout);
    assert.equal(ours.status, theirs.status);
  }
  // a plain list of keys is read too (the same reader as sshd's RevokedKeys)
  writeFileSync(f.p('list.txt'), `# revoked\n${f.pub('u-ed')}\n`);
  const l = sshkit(['krl', '--check', '-f', f.p('list.txt'), f.p('u-ed.pub'), f.p('u-ok.pub')]);
  assert.equal(l.status, 1);
  assert.match(l.stdout, /u-ed\.pub \(u-ed\): REVOKED\n.*u-ok\.pub \(u-ok\): ok\n$/s);
});

test('verify-signature -r and find-principals -r read a KRL ssh-keygen wrote (a revoked signer is refused; control passes)', () => {
  writeFileSync(f.p('data'), 'hello\n');
  keygen(['-Y', 'sign', '-q', '-f', f.p('u-ed'), '-n', 'file', f.p('data')]);
  writeFileSync(f.p('allowed'), `alice ${f.pub('u-ed')}\n`);
  keygen(['-k', '-f', f.p('vs-revoked.krl'), writeSpec(f, 'vs1.spec', [f.pub('u-ed')])]);
  keygen(['-k', '-f', f.p('vs-other.krl'), writeSpec(f, 'vs2.spec', [f.pub('u-ok')])]);
  const verify = (krl: string) => sshkit(['verify-signature', '-f', f.p('allowed'), '-I', 'alice', '-n', 'file', '-s', f.p('data.sig'), '-r', krl, f.p('data')]);
  const keygenVerify = (krl: string) => openssh('ssh-keygen', ['-Y', 'verify', '-f', f.p('allowed'), '-I', 'alice', '-n', 'file', '-s', f.p('data.sig'), '-r', krl], { input: 'hello\n' });
  const ok = verify(f.p('vs-other.krl'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(keygenVerify(f.p('vs-other.krl')).status, 0);
  const no = verify(f.p('vs-revoked.krl'));
  assert.equal(no.status, 1);
  assert.match(no.stderr, /revoked/);
  assert.notEqual(keygenVerify(f.p('vs-revoked.krl')).status, 0, 'ssh-keygen -Y verify refuses it too');
  const fp = (krl: string) => sshkit(['find-principals', '-f', f.p('allowed'), '-s', f.p('data.sig'), '-r', krl]);
  assert.equal(fp(f.p('vs-other.krl')).stdout, 'alice\n');
  const fr = fp(f.p('vs-revoked.krl'));
  assert.equal(fr.status, 1);
  assert.equal(fr.stdout, '');
});

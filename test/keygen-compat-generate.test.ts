/**
 * sshkit-keygen's non-deterministic modes against ssh-keygen 9.2 (issue 12): generation, -p, -c and -H
 * make fresh keys, salts and check bytes, so each run is compared with the real tool's run of the same
 * command line on what can be equal (status, stderr, files and modes, stdout with the key's own
 * fingerprint and randomart) and then checked by the other tool: `ssh-keygen -l/-y/-F` reads what
 * sshkit-keygen wrote and `sshkit-keygen -y` reads what ssh-keygen wrote. Also: the flags and modes
 * sshkit-keygen refuses (one line, exit 255), each beside a passing control.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { folderState, keygenRun, runBoth } from './keygen-compat-helper.js';
import { keygenFixtures } from './keygen-compat-fixtures.js';

function hasTty(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** Same file names and modes in both folders. */
function sameNamesAndModes(a: string, b: string): void {
  const [x, y] = [folderState(a), folderState(b)];
  assert.deepEqual([...x.keys()], [...y.keys()], 'file names');
  for (const [n, s] of x) assert.equal(y.get(n)!.mode.toString(8), s.mode.toString(8), `mode of ${n}`);
}

/** The `ssh-keygen -lv -f FILE` fingerprint and randomart of a key, as the generation report shows them. */
function report(dir: string, file: string): { fp: string; art: string; line: string } {
  const r = keygenRun('openssh', ['-lv', '-f', file], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const [line, ...art] = r.stdout.trimEnd().split('\n');
  return { fp: line.split(' ')[1], art: art.join('\n'), line };
}

function generationReport(type: string, file: string, fp: string, comment: string, art: string, extra = ''): string {
  return (
    `Generating public/private ${type} key pair.\n${extra}Your identification has been saved in ${file}\n` +
    `Your public key has been saved in ${file}.pub\nThe key fingerprint is:\n${fp} ${comment}\n` +
    `The key's randomart image is:\n${art}\n`
  );
}

/** ssh-keygen -y on `dir/file` (with passphrase `pass`), and the key part of `dir/file.pub`. */
function crossRead(dir: string, file: string, pass = '', which: 'openssh' | 'sshkit' = 'openssh'): void {
  const y = keygenRun(which, ['-y', '-P', pass, '-f', file], { cwd: dir });
  assert.equal(y.status, 0, `${which} -y: ${y.stderr}`);
  const pub = readFileSync(join(dir, file + '.pub'), 'latin1');
  assert.equal(y.stdout.split(' ').slice(0, 2).join(' ').trim(), pub.split(' ').slice(0, 2).join(' ').trim());
}

const QUIET: Array<{ args: string[]; pass?: string; head: string; bits: string }> = [
  { args: ['-t', 'ed25519', '-C', 'a b'], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '256' },
  { args: ['-t', 'ecdsa'], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '256' },
  { args: ['-t', 'ecdsa', '-b', '521', '-C', ''], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '521' },
  { args: ['-t', 'ecdsa-sha2-nistp384'], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '384' },
  { args: ['-t', 'rsa', '-b', '2048'], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '2048' },
  { args: [], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '3072' },
  { args: ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], head: '-----BEGIN RSA PRIVATE KEY-----', bits: '2048' },
  { args: ['-t', 'ecdsa', '-m', 'PKCS8'], head: '-----BEGIN PRIVATE KEY-----', bits: '256' },
  { args: ['-t', 'ed25519', '-m', 'PEM'], head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '256' },
  { args: ['-t', 'ed25519', '-C', 'enc', '-a', '16'], pass: 'sesame', head: '-----BEGIN OPENSSH PRIVATE KEY-----', bits: '256' },
  { args: ['-t', 'ecdsa', '-m', 'PKCS8'], pass: 'sesame', head: '-----BEGIN ENCRYPTED PRIVATE KEY-----', bits: '256' },
];

for (const c of QUIET) {
  const args = ['-q', ...c.args, '-N', c.pass ?? '', '-f', 'k'];
  test(`generate: ssh-keygen ${args.join(' ')} — files, modes, read back by the other tool`, () => {
    const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), args);
    assert.deepEqual(sshkit, openssh); // -q: no output at all, status 0
    sameNamesAndModes(dirs.sshkit, dirs.openssh);
    for (const dir of [dirs.openssh, dirs.sshkit]) assert.equal(readFileSync(join(dir, 'k'), 'latin1').split('\n')[0], c.head);
    const [mine, theirs] = [report(dirs.sshkit, 'k.pub').line, report(dirs.openssh, 'k.pub').line];
    assert.equal(mine.split(' ')[0], c.bits);
    assert.equal(mine.replace(/ \S+ /, ' FP '), theirs.replace(/ \S+ /, ' FP '), 'bits, comment and type as ssh-keygen -l');
    crossRead(dirs.sshkit, 'k', c.pass ?? '', 'openssh');
    crossRead(dirs.openssh, 'k', c.pass ?? '', 'sshkit');
  });
}

test('generate: the report (not -q) is ssh-keygen\'s, with the key\'s own fingerprint and randomart', () => {
  const args = ['-t', 'ed25519', '-C', 'me@there', '-N', '', '-f', 'k', '-E', 'md5'];
  const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), args);
  for (const [r, dir] of [[openssh, dirs.openssh], [sshkit, dirs.sshkit]] as const) {
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    const md5 = keygenRun('openssh', ['-lv', '-E', 'md5', '-f', 'k.pub'], { cwd: dir }).stdout.trimEnd().split('\n');
    assert.equal(r.stdout, generationReport('ed25519', 'k', md5[0].split(' ')[1], 'me@there', md5.slice(1).join('\n')));
  }
});

test('generate: prompted passphrase, twice, mismatch retried (no terminal: prompts on stderr, lines from stdin)', { skip: hasTty() && 'a terminal takes the prompts' }, () => {
  const input = 'one\ntwo\nsesame\nsesame\n';
  const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), ['-t', 'ed25519', '-C', 'c', '-f', 'k'], { input });
  assert.equal(sshkit.status, openssh.status);
  assert.equal(sshkit.stderr, openssh.stderr);
  const { fp, art } = report(dirs.sshkit, 'k.pub');
  assert.equal(sshkit.stdout, generationReport('ed25519', 'k', fp, 'c', art, 'Passphrases do not match.  Try again.\n'));
  sameNamesAndModes(dirs.sshkit, dirs.openssh);
  crossRead(dirs.sshkit, 'k', 'sesame');
  assert.notEqual(keygenRun('openssh', ['-y', '-P', 'one', '-f', 'k'], { cwd: dirs.sshkit }).status, 0, 'the mismatched one was not used');
});

test('generate: "Overwrite (y/n)?" answered y replaces the key (and n keeps it: modes table)', () => {
  const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), ['-t', 'ed25519', '-N', '', '-C', 'new', '-f', 'plain'], { input: 'y\n' });
  assert.equal(sshkit.status, 0);
  assert.equal(sshkit.stderr, openssh.stderr);
  const { fp, art } = report(dirs.sshkit, 'plain.pub');
  assert.equal(sshkit.stdout, generationReport('ed25519', 'plain', fp, 'new', art, 'plain already exists.\nOverwrite (y/n)? '));
  assert.notEqual(readFileSync(join(dirs.sshkit, 'plain.pub'), 'utf8'), readFileSync(join(keygenFixtures(), 'plain.pub'), 'utf8'));
  sameNamesAndModes(dirs.sshkit, dirs.openssh);
  crossRead(dirs.sshkit, 'plain');
});

const UPKEEP: Array<{ args: string[]; pass: string; file: string; comment?: string }> = [
  { args: ['-p', '-f', 'enc', '-P', 'secret', '-N', 'newpw'], pass: 'newpw', file: 'enc' },
  { args: ['-p', '-f', 'enc', '-P', 'secret', '-N', ''], pass: '', file: 'enc' },
  { args: ['-p', '-f', 'plain', '-N', 'pw2'], pass: 'pw2', file: 'plain' },
  { args: ['-p', '-f', 'pemkey', '-N', 'pw2'], pass: 'pw2', file: 'pemkey' },
  { args: ['-c', '-f', 'plain', '-C', 'new comment'], pass: '', file: 'plain', comment: 'new comment' },
  { args: ['-c', '-f', 'enc', '-P', 'secret', '-C', ''], pass: 'secret', file: 'enc', comment: '' },
  { args: ['-c', '-f', 'rsa', '-C', 'r2'], pass: '', file: 'rsa', comment: 'r2' },
];

for (const c of UPKEEP) {
  test(`upkeep: ssh-keygen ${c.args.map((a) => a || "''").join(' ')} — output exact, key read back by ssh-keygen`, () => {
    const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), c.args);
    assert.deepEqual(sshkit, openssh);
    sameNamesAndModes(dirs.sshkit, dirs.openssh);
    crossRead(dirs.sshkit, c.file, c.pass);
    if (c.pass !== '') assert.notEqual(keygenRun('openssh', ['-y', '-P', '', '-f', c.file], { cwd: dirs.sshkit }).status, 0, 'encrypted');
    if (c.comment !== undefined) {
      assert.equal(readFileSync(join(dirs.sshkit, c.file + '.pub'), 'latin1'), readFileSync(join(dirs.openssh, c.file + '.pub'), 'latin1'));
      const y = keygenRun('openssh', ['-y', '-P', c.pass, '-f', c.file], { cwd: dirs.sshkit }).stdout;
      assert.equal(y, keygenRun('openssh', ['-y', '-P', c.pass, '-f', c.file], { cwd: dirs.openssh }).stdout, 'comment stored in the private key');
    }
  });
}

test('-H: output and FILE.old exact; every host still found by ssh-keygen -F in the hashed file', () => {
  const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), ['-H', '-f', 'known_hosts']);
  assert.deepEqual(sshkit, openssh);
  sameNamesAndModes(dirs.sshkit, dirs.openssh);
  const [mine, theirs] = [folderState(dirs.sshkit), folderState(dirs.openssh)];
  assert.equal(mine.get('known_hosts.old')!.text, theirs.get('known_hosts.old')!.text);
  assert.equal(mine.get('known_hosts')!.text.split('\n').length, theirs.get('known_hosts')!.text.split('\n').length);
  assert.doesNotMatch(mine.get('known_hosts')!.text, /^host/m);
  for (const h of ['host1', 'host2', 'host3', 'host4', '[host1]:2222', 'x.example.org']) {
    const a = keygenRun('openssh', ['-F', h, '-f', 'known_hosts'], { cwd: dirs.sshkit });
    const b = keygenRun('openssh', ['-F', h, '-f', 'known_hosts'], { cwd: dirs.openssh });
    assert.equal(a.status, 0, h);
    assert.equal(a.stdout.replace(/\|1\|\S+/g, 'H'), b.stdout.replace(/\|1\|\S+/g, 'H'), h);
  }
});

const REFUSED: Array<{ args: string[]; names: string; control: string[] }> = [
  { args: ['-M', 'generate', 'out'], names: '-M', control: ['-l', '-f', 'plain.pub'] },
  { args: ['-D', 'libpkcs11.so'], names: '-D', control: ['-l', '-f', 'plain.pub'] },
  { args: ['-K'], names: '-K', control: ['-l', '-f', 'plain.pub'] },
  { args: ['-A'], names: '-A', control: ['-l', '-f', 'plain.pub'] },
  { args: ['-q', '-t', 'dsa', '-N', '', '-f', 'k'], names: '-t dsa', control: ['-q', '-t', 'ed25519', '-N', '', '-f', 'k'] },
  { args: ['-q', '-t', 'ed25519-sk', '-N', '', '-f', 'k'], names: '-t ed25519-sk', control: ['-q', '-t', 'ed25519', '-N', '', '-f', 'k'] },
  { args: ['-q', '-t', 'ed25519', '-a', '100', '-N', 'pw', '-f', 'k'], names: '-a 100', control: ['-q', '-t', 'ed25519', '-a', '100', '-N', '', '-f', 'k'] },
  { args: ['-q', '-t', 'ed25519', '-Z', 'aes128-ctr', '-N', 'pw', '-f', 'k'], names: '-Z aes128-ctr', control: ['-q', '-t', 'ed25519', '-Z', 'aes256-ctr', '-N', 'pw', '-f', 'k'] },
  { args: ['-p', '-m', 'PEM', '-f', 'plain', '-N', 'pw2'], names: '-m PEM', control: ['-p', '-f', 'plain', '-N', 'pw2'] },
  { args: ['-F', 'host1', '-H', '-f', 'known_hosts'], names: '-F with -H', control: ['-F', 'host1', '-f', 'known_hosts'] },
];

for (const c of REFUSED) {
  test(`refused: sshkit-keygen ${c.args.join(' ')} is one line naming ${c.names}, exit 255 (control: ${c.control.join(' ')} works)`, () => {
    const dir = keygenFixtures();
    // sshkit-keygen alone (ssh-keygen -M generate would run for hours): in a copy of the fixtures
    const dirs = { sshkit: mkdtempSync(join(tmpdir(), 'kg-refused-')) };
    cpSync(dir, dirs.sshkit, { recursive: true });
    const sshkit = keygenRun('sshkit', c.args, { cwd: dirs.sshkit });
    assert.equal(sshkit.status, 255);
    assert.equal(sshkit.stdout, '');
    assert.equal(sshkit.stderr.trimEnd().split('\n').length, 1, sshkit.stderr);
    assert.ok(sshkit.stderr.includes(c.names) && /not supported/.test(sshkit.stderr), sshkit.stderr);
    assert.deepEqual(folderState(dirs.sshkit), folderState(dir), 'nothing written');
    const ok = runBoth(dir, c.control);
    assert.equal(ok.sshkit.status, 0, ok.sshkit.stderr);
    assert.equal(ok.sshkit.status, ok.openssh.status);
  });
}

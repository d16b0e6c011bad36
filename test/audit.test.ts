/**
 * `sshkit audit` (issue 16) end to end: an inventory made by ssh-keygen with every problem planted is
 * reported with exactly the planted findings (rule, severity, file, line) and nothing else; a clean
 * inventory gives no finding and exit 0 (the control); exit statuses 0/1/2 and --fail-on; --json shape.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';
import { cleanInventory, plantedInventory, type Planted } from './audit-inventory.js';

let root: string;
let cleanup: () => void;
let planted: Planted[];
let revoked: string;
let clean: string;

before(() => {
  ({ dir: root, cleanup } = tempDir('sshkit-audit-'));
  ({ planted, revoked } = plantedInventory(root));
  clean = cleanInventory(root);
});
after(() => cleanup());

interface JsonFinding {
  rule: string;
  severity: string;
  file: string;
  line: number | null;
  message: string;
}

function auditJson(args: string[]): { status: number | null; doc: { findings: JsonFinding[]; summary: Record<string, unknown> }; stderr: string } {
  const r = sshkit(['audit', '--json', ...args], { cwd: root });
  return { status: r.status, doc: JSON.parse(r.stdout), stderr: r.stderr };
}

const key = (f: { rule: string; severity: string; file: string; line: number | null }) => `${f.file}:${f.line ?? '-'} ${f.rule} ${f.severity}`;

test('planted inventory: exactly the planted findings, each with its rule, severity, file and line', () => {
  const { status, doc, stderr } = auditJson(['--revoked', revoked, 'inv']);
  assert.equal(stderr, '');
  assert.equal(status, 1, 'errors were found: exit 1');
  const got = doc.findings.map(key).sort();
  const want = planted.map((p) => key({ ...p, file: 'inv/' + p.file })).sort();
  assert.deepEqual(got, want);
  for (const f of doc.findings) assert.ok(f.message.length > 0 && !f.message.includes('\n'), `one-line message: ${key(f)}`);
});

test('messages carry what ssh-keygen reports: key sizes (ssh-keygen -l), the SHA-1 CA signature (ssh-keygen -L)', () => {
  const { doc } = auditJson(['inv']);
  const at = (file: string, rule: string) => doc.findings.find((f) => f.file === `inv/${file}` && f.rule === rule)!;
  // ssh-keygen -l -f FILE.pub: "1024 SHA256:… (DSA)", "1024 … (RSA)", "2048 … (RSA)"
  for (const [file, rule] of [['keys/dsa.pub', 'dsa-key'], ['keys/rsa1024.pub', 'rsa-under-2048'], ['keys/rsa2048.pub', 'rsa-under-3072']]) {
    const bits = openssh('ssh-keygen', ['-l', '-f', join(root, 'inv', file)]).stdout.split(' ')[0];
    assert.match(at(file, rule).message, new RegExp(`\\b${bits} bits\\b`), file);
  }
  // ssh-keygen -L: "Signing CA: RSA SHA256:… (using ssh-rsa)"
  assert.match(openssh('ssh-keygen', ['-L', '-f', join(root, 'inv/certs/sha1-cert.pub')]).stdout, /\(using ssh-rsa\)/);
  assert.match(openssh('ssh-keygen', ['-L', '-f', join(root, 'inv/certs/expiring-cert.pub')]).stdout, /Valid: from/);
  assert.match(at('certs/sha1-cert.pub', 'cert-sha1-signature').message, /ssh-rsa \(SHA-1\)/);
  // ssh-keygen -L flags the option the audit reports: "frobnicate UNKNOWN OPTION"
  assert.match(openssh('ssh-keygen', ['-L', '-f', join(root, 'inv/certs/critical-cert.pub')]).stdout, /frobnicate UNKNOWN OPTION/);
  assert.match(at('certs/critical-cert.pub', 'cert-unknown-critical-option').message, /"frobnicate"/);
  // ssh-keygen itself refuses the readable private key: "UNPROTECTED PRIVATE KEY FILE!"
  const y = openssh('ssh-keygen', ['-y', '-P', 'secret', '-f', join(root, 'inv/keys/readable')]);
  assert.notEqual(y.status, 0);
  assert.match(y.stderr, /UNPROTECTED PRIVATE KEY FILE/);
  assert.match(at('keys/readable', 'readable-private-key').message, /0640/);
  // the duplicate names the other place
  assert.match(at('home/alice/.ssh/authorized_keys', 'duplicate-key').message, /inv\/home\/bob\/\.ssh\/authorized_keys:1/);
});

// (allowed_signers is left out: ssh-keygen -l cannot read a principals field followed by options)
test('unparsable lines are exactly the lines ssh-keygen -l -f skips (authorized_keys, known_hosts)', () => {
  const { doc } = auditJson(['inv']);
  for (const file of ['home/alice/.ssh/authorized_keys', 'known_hosts']) {
    const text = readFileSync(join(root, 'inv', file), 'latin1');
    // ssh-keygen 9.2 -l prints no marker line (@revoked, @cert-authority) at all: those are not counted
    const keyLines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#') && !l.startsWith('@')).length;
    const r = openssh('ssh-keygen', ['-l', '-f', join(root, 'inv', file)]);
    const printed = r.stdout.split('\n').filter((l) => l !== '').length;
    const unparsable = doc.findings.filter((f) => f.file === `inv/${file}` && f.rule === 'unparsable').length;
    assert.ok(unparsable > 0, `${file}: a bad line was planted`);
    assert.equal(printed + unparsable, keyLines, `${file}: ssh-keygen -l printed ${printed} of ${keyLines}`);
  }
});

test('--revoked also takes a binary KRL (ssh-keygen -k of the same list): the same findings as the key list', () => {
  const krl = join(root, 'revoked.krl');
  const made = spawnSync('ssh-keygen', ['-k', '-f', krl, revoked], { encoding: 'utf8' }); // ssh-keygen -k -f KRL LIST
  assert.equal(made.status, 0, made.stderr);
  const fromList = auditJson(['--revoked', revoked, 'inv']);
  const fromKrl = auditJson(['--revoked', krl, 'inv']);
  assert.equal(fromKrl.stderr, '');
  assert.ok(fromKrl.doc.findings.some((f: { rule: string }) => f.rule === 'revoked-key'), 'the KRL revokes the planted key');
  assert.deepEqual(fromKrl.doc.findings.map(key).sort(), fromList.doc.findings.map(key).sort());
});

test('without --revoked the revoked key is not reported (the revocation rule needs the list)', () => {
  const { doc } = auditJson(['inv']);
  assert.ok(!doc.findings.some((f) => f.rule === 'revoked-key'));
  assert.ok(doc.findings.some((f) => f.rule === 'dsa-key'));
});

test('clean inventory (control): no finding, exit 0, also with --fail-on warning', () => {
  for (const args of [['clean'], ['--fail-on', 'warning', 'clean'], ['--fail-on', 'never', 'clean']]) {
    const { status, doc } = auditJson(args);
    assert.deepEqual(doc.findings, [], args.join(' '));
    assert.equal(status, 0);
  }
  // --expiring-within widens the window: the clean certificate (valid 365 days) is then reported
  const wide = auditJson(['--expiring-within', '400', 'clean']);
  assert.deepEqual(wide.doc.findings.map(key), ['clean/keys/id_ed25519-cert.pub:1 expiring warning']);
  assert.equal(wide.status, 0);
  const text = sshkit(['audit', 'clean'], { cwd: root });
  assert.equal(text.status, 0);
  assert.match(text.stdout, /^audited \d+ files, \d+ keys: no findings\n$/);
});

test('--fail-on: warnings alone pass at error, fail at warning; never always passes', () => {
  const onlyWarnings = join(root, 'warn');
  sshkit(['keygen', '-q', '-t', 'rsa', '-b', '2048', '-N', 'pw', '-f', join(onlyWarnings, 'id_rsa')]);
  const base = auditJson(['warn']);
  assert.deepEqual(base.doc.findings.map((f) => f.severity), ['warning', 'warning'], 'id_rsa and id_rsa.pub: rsa-under-3072');
  assert.equal(base.status, 0, 'default --fail-on error: exit 0');
  assert.equal(auditJson(['--fail-on', 'warning', 'warn']).status, 1);
  assert.equal(auditJson(['--fail-on', 'never', 'inv']).status, 0);
  assert.equal(auditJson(['--fail-on', 'error', 'inv']).status, 1);
});

test('bad input is exit 2 with one line: missing path, bad --fail-on, unreadable or malformed --revoked (a truncated KRL)', () => {
  const cases: [string[], RegExp][] = [
    [['audit', 'no-such-dir'], /^sshkit: no-such-dir: No such file or directory\n$/],
    [['audit', '--fail-on', 'sometimes', 'clean'], /^sshkit: .*fail-on.*\n$/],
    [['audit', '--revoked', 'no-such-file', 'clean'], /^sshkit: no-such-file: No such file or directory\n$/],
    [['audit', '--revoked', 'krl.bin', 'clean'], /^sshkit: krl\.bin: .+\n$/],
    [['audit', '--expiring-within', '-3', 'clean'], /^sshkit: audit: --expiring-within.*\n$/],
    [['audit'], /^sshkit: .*\n$/],
  ];
  writeFileSync(join(root, 'krl.bin'), Buffer.concat([Buffer.from('SSHKRL\n\0', 'latin1'), Buffer.alloc(40)]));
  for (const [args, err] of cases) {
    const r = sshkit(args, { cwd: root });
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, err, args.join(' '));
    assert.equal(r.stdout, '');
  }
  assert.equal(sshkit(['audit', '--revoked', revoked, 'clean'], { cwd: root }).status, 0, 'control: a readable key list');
});

test('a FIFO named on the command line is reported, never opened for reading (no hang); in a folder it is skipped', () => {
  const fifo = join(root, 'fifo-dir', 'authorized_keys');
  mkdirSync(join(root, 'fifo-dir'));
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const named = auditJson(['fifo-dir/authorized_keys']);
  assert.deepEqual(named.doc.findings.map(key), ['fifo-dir/authorized_keys:- unreadable-file error']);
  assert.equal(named.status, 1);
  const walked = auditJson(['fifo-dir']);
  assert.deepEqual(walked.doc.findings, []);
  assert.equal(walked.status, 0);
});

test('worker threads (SSHKIT_AUDIT_JOBS=3) give the same report as one thread, --revoked included', () => {
  const run = (jobs: string) => sshkit(['audit', '--json', '--revoked', revoked, 'inv', 'clean'], { cwd: root, env: { SSHKIT_AUDIT_JOBS: jobs } });
  const one = run('1');
  const three = run('3');
  assert.equal(one.status, 1);
  assert.equal(three.status, 1);
  assert.equal(three.stderr, '');
  assert.equal(three.stdout, one.stdout);
  assert.ok(JSON.parse(three.stdout).findings.some((f: JsonFinding) => f.rule === 'revoked-key'), 'the revocation list reached the workers');
});

test('a key listed on 20,000 lines: each line names three others and counts the rest (O(n) per line, not O(n²))', () => {
  const line = readFileSync(join(root, 'side/good.pub'), 'latin1').trim();
  mkdirSync(join(root, 'many'));
  writeFileSync(join(root, 'many/authorized_keys'), (line + '\n').repeat(20000), { mode: 0o600 });
  const { status, doc } = auditJson(['many']);
  assert.equal(status, 0, 'warnings only');
  assert.equal(doc.findings.length, 20000);
  assert.equal(doc.findings[0].message, 'same key also at many/authorized_keys:2, many/authorized_keys:3, many/authorized_keys:4 and 19996 more');
  assert.equal(doc.findings[19999].message, 'same key also at many/authorized_keys:1, many/authorized_keys:2, many/authorized_keys:3 and 19996 more');
});

test('hostile bytes in a line or a file name never reach the terminal: escaped as \\xNN, one line per finding', () => {
  const dir = join(root, 'hostile');
  mkdirSync(dir);
  const name = 'authorized_keys\x1b[2J';
  writeFileSync(join(dir, name), '@\x1b]0;pwned\x07 host\n', { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '@\x1b]0;pwned\x07 host ' + readFileSync(join(root, 'side/good.pub'), 'latin1'));
  const r = sshkit(['audit', 'hostile'], { cwd: root });
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f]/, 'no control byte but newlines');
  assert.match(r.stdout, /hostile\/authorized_keys\\x1b\[2J\n/);
  assert.match(r.stdout, /unknown marker @\\x1b\]0;pwned\\x07/);
  assert.equal(r.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l)).length, 2, 'two findings, two lines');
});

test('--json shape: findings of {rule, severity, file, line, message}, summary counts', () => {
  const { doc } = auditJson(['inv']);
  assert.deepEqual(Object.keys(doc).sort(), ['findings', 'summary']);
  for (const f of doc.findings) {
    assert.deepEqual(Object.keys(f), ['rule', 'severity', 'file', 'line', 'message']);
    assert.ok(f.line === null || (Number.isInteger(f.line) && f.line >= 1));
  }
  const s = doc.summary as Record<string, number | string | boolean>;
  const count = (sev: string) => doc.findings.filter((f) => f.severity === sev).length;
  assert.equal(s.error, count('error'));
  assert.equal(s.warning, count('warning'));
  assert.equal(s.note, count('note'));
  assert.equal(s.findings, doc.findings.length);
  assert.equal(s.failOn, 'error');
  assert.equal(s.failed, true);
  assert.ok((s.files as number) > 20 && (s.keys as number) > 20);
});

test('text report: grouped by file, one line per finding, summary last', () => {
  const r = sshkit(['audit', 'inv/known_hosts', 'inv/keys/dsa.pub'], { cwd: root });
  assert.equal(r.status, 1);
  assert.equal(
    r.stdout.replace(/ {2,}/g, '  '),
    [
      'inv/known_hosts',
      '  -  warning  writable-trust-file  mode 0666: writable by everyone',
      '  1  note  shared-host-key  same key also at inv/known_hosts:2',
      '  2  note  shared-host-key  same key also at inv/known_hosts:1',
      '  3  error  rsa-under-2048  RSA key of 1024 bits (under 2048)',
      '  5  error  unparsable  public key: truncated',
      '',
      'inv/keys/dsa.pub',
      '  1  error  dsa-key  DSA key (ssh-dss, 1024 bits)',
      '',
      'audited 2 files, 5 keys: 3 errors, 1 warning, 2 notes',
      '',
    ].join('\n'),
  );
});

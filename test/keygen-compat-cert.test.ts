/**
 * `sshkit-keygen -s`, `-L`, `-k`, `-Q` against the real ssh-keygen 9.2 (issue 12), table-driven with
 * keygen-compat-helper.ts runBoth (the same command line in two copies of one folder): same status,
 * stdout and stderr byte for byte. What a run writes is compared as far as the formats allow: a
 * certificate carries a random nonce (and so a different signature), so each KEY-cert.pub is checked
 * with the other tool — `ssh-keygen -L` of sshkit-keygen's certificate equals `ssh-keygen -L` of
 * ssh-keygen's, and the line's comment and the file mode are equal; a KRL differs only in its
 * generation date (bytes 20..28 of the header, PROTOCOL.krl), so KRLs are compared with it zeroed.
 * Each refusal row states ssh-keygen's status beside a control row that succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBoth } from './keygen-compat-helper.js';
import { tempDir, testEnv } from './helpers.js';

const { dir: root, cleanup } = tempDir('kg-cert-');
const dir = join(root, 'files');
const sock = join(root, 'agent.sock');
let agent: ChildProcess | undefined;

function keygen(cwd: string, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ssh-keygen', args, { cwd, input, env: testEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function setup(args: string[]): void {
  const r = keygen(dir, args);
  assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
}

before(() => {
  mkdirSync(dir);
  setup(['-q', '-t', 'ed25519', '-N', '', '-C', 'ca@x', '-f', 'ca']);
  setup(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', 'rca']);
  setup(['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', 'u']);
  setup(['-q', '-t', 'ecdsa', '-N', '', '-C', 'host key', '-f', 'h']);
  setup(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa user', '-f', 'r']);
  setup(['-q', '-t', 'ed25519', '-N', 'pw', '-f', 'encca']);
  setup(['-q', '-t', 'ed25519', '-N', '', '-f', 'loose']);
  chmodSync(join(dir, 'loose'), 0o644);
  setup(['-q', '-s', 'ca', '-I', 'listed', '-n', 'p1,p2', '-V', '20200101:20300101', '-z', '42', '-O', 'no-pty', '-O', 'critical:foo=bar', '-O', 'extension:ext@x', 'u.pub']);
  writeFileSync(join(dir, 'uc.pub'), readFileSync(join(dir, 'u-cert.pub')));
  rmSync(join(dir, 'u-cert.pub'));
  setup(['-q', '-h', '-s', 'rca', '-I', 'host', '-n', 'h.example', 'h.pub']);
  writeFileSync(join(dir, 'hc.pub'), readFileSync(join(dir, 'h-cert.pub')));
  rmSync(join(dir, 'h-cert.pub'));
  writeFileSync(join(dir, 'multi.pub'), `# certificates\n\n${readFileSync(join(dir, 'uc.pub'), 'utf8')}${readFileSync(join(dir, 'u.pub'), 'utf8')}ssh-ed25519 AAAA\n${readFileSync(join(dir, 'hc.pub'), 'utf8')}`);
  writeFileSync(join(dir, 'spec'), `serial: 1-5\nserial: 42\nid: bob\n# comment\n\nhash: SHA256:${'A'.repeat(43)}\n`);
  writeFileSync(join(dir, 'badserial'), 'serial: x\n');
  writeFileSync(join(dir, 'badkey'), 'ssh-ed25519 AAAA\n');
  writeFileSync(join(dir, 'badhash'), 'hash: SHA256:xx\n');
  writeFileSync(join(dir, 'shorthash'), 'hash: SHA256:AAAA\n');
  setup(['-k', '-f', 'krl', '-s', 'ca.pub', 'spec', 'u.pub']);
  writeFileSync(join(dir, 'empty'), '');
  // a certificate whose key ID was changed after signing: its CA signature no longer verifies
  const [type, b64] = readFileSync(join(dir, 'uc.pub'), 'utf8').split(' ');
  const forged = Buffer.from(b64, 'base64');
  forged[forged.indexOf('listed')] = 'L'.charCodeAt(0);
  writeFileSync(join(dir, 'forged.pub'), `${type} ${forged.toString('base64')}\n`);
  // a KRL with every section krl_dump prints: keys, SHA256 and SHA1 hashes, serials and IDs, a wildcard CA
  const hfp = keygen(dir, ['-lf', 'h.pub']).stdout.split(' ')[1];
  writeFileSync(join(dir, 'dspec'), `hash: ${hfp}\nsha1: ${readFileSync(join(dir, 'r.pub'), 'utf8')}sha256: ${readFileSync(join(dir, 'ca.pub'), 'utf8')}id: zed\nid: alpha\nserial: 9\nserial: 1-3\n`);
  writeFileSync(join(dir, 'wspec'), 'id: w\nserial: 100\n');
  setup(['-k', '-f', 'dump.krl', '-s', 'ca.pub', '-C', 'my comment', '-z', '7', 'dspec', 'u.pub']);
  setup(['-k', '-u', '-f', 'dump.krl', '-s', 'none', 'wspec', 'hc.pub']);
});
after(() => {
  agent?.kill();
  cleanup();
});

const V = '20200101:20300101';

interface Row {
  readonly name: string;
  readonly args: string[];
  readonly status: number;
  readonly input?: string;
  /** Run with SSH_AUTH_SOCK: an ssh-agent holding the CAs `ca` and `rca`. */
  readonly agent?: boolean;
}

const CERTIFY: Row[] = [
  { name: 'a user certificate', args: ['-s', 'ca', '-I', 'id1', '-n', 'alice,bob', '-V', V, 'u.pub'], status: 0 },
  { name: 'two keys, serial counting up (+7)', args: ['-s', 'ca', '-I', 'id2', '-z', '+7', '-V', V, 'u.pub', 'r.pub'], status: 0 },
  { name: 'a host certificate by an RSA CA (rsa-sha2-512)', args: ['-s', 'rca', '-I', 'host', '-h', '-n', 'h.example,h', '-z', '5', '-V', V, 'h.pub'], status: 0 },
  { name: 'options: clear, permit-pty, force-command, source-address, extension, critical', args: ['-s', 'ca', '-I', 'o', '-V', V, '-O', 'clear', '-O', 'permit-pty', '-O', 'force-command=/bin/true', '-O', 'source-address=10.0.0.0/8', '-O', 'extension:x@y=v', 'u.pub'], status: 0 },
  { name: 'no -V: valid forever', args: ['-s', 'ca', '-I', 'f', 'u.pub'], status: 0 },
  { name: 'KEY (KEY.pub beside it)', args: ['-s', 'ca', '-I', 'k', '-V', V, 'u'], status: 0 },
  { name: 'encrypted CA with -P', args: ['-s', 'encca', '-P', 'pw', '-I', 'e', '-V', V, 'u.pub'], status: 0 },
  { name: 'quiet (-q)', args: ['-q', '-s', 'ca', '-I', 'q', '-V', V, 'u.pub'], status: 0 },
  { name: 'refused: wrong -P', args: ['-s', 'encca', '-P', 'nope', '-I', 'e', 'u.pub'], status: 255 },
  { name: 'refused: CA key readable by others', args: ['-s', 'loose', '-I', 'x', 'u.pub'], status: 255 },
  { name: 'refused: a public CA without -U', args: ['-s', 'ca.pub', '-I', 'x', 'u.pub'], status: 255 },
  { name: '-U: the CA in ssh-agent (ed25519)', args: ['-s', 'ca.pub', '-U', '-I', 'agent', '-n', 'alice', '-V', V, 'u.pub'], status: 0, agent: true },
  { name: '-U: the CA in ssh-agent (RSA, rsa-sha2-512)', args: ['-s', 'rca.pub', '-U', '-I', 'agent', '-h', '-V', V, 'h.pub', 'r.pub'], status: 0, agent: true },
  { name: 'refused: -U, CA not in the agent', args: ['-s', 'encca.pub', '-U', '-I', 'agent', 'u.pub'], status: 255, agent: true },
  { name: 'refused: -U without an agent', args: ['-s', 'ca.pub', '-U', '-I', 'x', 'u.pub'], status: 255 },
  { name: 'refused: empty principal', args: ['-s', 'ca', '-I', 'x', '-n', 'a,,b', 'u.pub'], status: 255 },
  { name: 'refused: unknown -O', args: ['-s', 'ca', '-I', 'x', '-O', 'bogus', 'u.pub'], status: 255 },
  { name: 'refused: bad -V', args: ['-s', 'ca', '-I', 'x', '-V', 'bad', 'u.pub'], status: 255 },
  { name: 'refused: empty validity interval', args: ['-s', 'ca', '-I', 'x', '-V', '20300101:20200101', 'u.pub'], status: 255 },
  { name: 'refused: no such key (after the first was written)', args: ['-s', 'ca', '-I', 'x', '-V', V, 'u.pub', 'nosuch.pub'], status: 255 },
  { name: 'refused: a certificate cannot be certified', args: ['-s', 'ca', '-I', 'x', 'uc.pub'], status: 255 },
  { name: 'refused: a forged certificate is no key (load pubkey fails)', args: ['-s', 'ca', '-I', 'x', 'forged.pub'], status: 255 },
  { name: 'refused: no such CA', args: ['-s', 'nosuch', '-I', 'x', 'u.pub'], status: 255 },
  { name: 'refused: -I missing', args: ['-s', 'ca', 'u.pub'], status: 255 },
  { name: 'refused: no key given', args: ['-s', 'ca', '-I', 'x'], status: 1 },
];

const LIST: Row[] = [
  { name: '-L a user certificate', args: ['-L', '-f', 'uc.pub'], status: 0 },
  { name: '-L a host certificate (RSA CA)', args: ['-L', '-f', 'hc.pub'], status: 0 },
  { name: '-L several lines, a comment, a blank line, a plain key, a bad key', args: ['-L', '-f', 'multi.pub'], status: 0 },
  { name: '-L -f - (stdin)', args: ['-L', '-f', '-'], status: 0 },
  { name: 'refused: -L of a plain key', args: ['-L', '-f', 'u.pub'], status: 1 },
  { name: 'refused: -L of a forged certificate (incorrect signature)', args: ['-L', '-f', 'forged.pub'], status: 1 },
  { name: 'refused: -L of a missing file', args: ['-L', '-f', 'nosuch'], status: 255 },
  { name: 'refused: -L of an empty file', args: ['-L', '-f', 'empty'], status: 1 },
];

const KRL: Row[] = [
  { name: '-k keys', args: ['-k', '-f', 'new.krl', 'u.pub', 'h.pub'], status: 0 },
  { name: '-k a spec with a CA', args: ['-k', '-f', 'new.krl', '-s', 'ca.pub', 'spec'], status: 0 },
  { name: '-k -s none, -z version, -C comment, a certificate', args: ['-k', '-f', 'new.krl', '-s', 'none', '-z', '3', '-C', 'my list', 'spec', 'uc.pub'], status: 0 },
  { name: '-k -u adds to a KRL', args: ['-k', '-u', '-f', 'krl', 'h.pub'], status: 0 },
  { name: '-k replaces an existing KRL without -u', args: ['-k', '-f', 'krl', 'r.pub'], status: 0 },
  { name: '-k - (spec on stdin)', args: ['-k', '-f', 'new.krl', '-'], status: 0, input: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n' },
  { name: 'refused: serial without a CA', args: ['-k', '-f', 'new.krl', 'spec'], status: 255 },
  { name: 'refused: bad serial line', args: ['-k', '-f', 'new.krl', '-s', 'ca.pub', 'badserial'], status: 255 },
  { name: 'refused: bad key line', args: ['-k', '-f', 'new.krl', 'badkey'], status: 255 },
  { name: 'refused: bad hash line', args: ['-k', '-f', 'new.krl', 'badhash'], status: 255 },
  { name: 'refused: hash of the wrong length', args: ['-k', '-f', 'new.krl', 'shorthash'], status: 255 },
  { name: 'refused: -k of a forged certificate (its serial is not revoked on its word)', args: ['-k', '-f', 'new.krl', 'forged.pub'], status: 255 },
  { name: 'refused: -Q of a forged certificate', args: ['-Q', '-f', 'krl', 'forged.pub'], status: 255 },
  { name: 'refused: no such spec file', args: ['-k', '-f', 'new.krl', 'nosuch'], status: 255 },
  { name: 'refused: -u of a missing KRL', args: ['-k', '-u', '-f', 'new.krl', 'u.pub'], status: 255 },
  { name: 'refused: -u of a file that is no KRL', args: ['-k', '-u', '-f', 'u.pub', 'h.pub'], status: 255 },
  { name: 'refused: no -f', args: ['-k', 'u.pub'], status: 255 },
  { name: '-Q: revoked and not', args: ['-Q', '-f', 'krl', 'u.pub', 'h.pub', 'r.pub'], status: 1 },
  { name: '-Q: a certificate revoked by serial', args: ['-Q', '-f', 'krl', 'hc.pub', 'uc.pub'], status: 1 },
  { name: '-Q -l prints the KRL (krl_dump) before the keys', args: ['-Q', '-l', '-f', 'dump.krl', 'u.pub', 'h.pub'], status: 1 },
  { name: '-Q -l alone', args: ['-Q', '-l', '-f', 'krl'], status: 0 },
  { name: '-k every spec keyword, -C and -z', args: ['-k', '-f', 'new.krl', '-s', 'ca.pub', '-C', 'c', '-z', '7', 'dspec', 'u.pub', 'hc.pub'], status: 0 },
  { name: '-Q: none revoked', args: ['-Q', '-f', 'krl', 'h.pub', 'r.pub'], status: 0 },
  { name: 'refused: -Q a missing key (earlier lines lost with the fatal)', args: ['-Q', '-f', 'krl', 'h.pub', 'nosuch'], status: 255 },
  { name: 'refused: -Q of a file that is no KRL', args: ['-Q', '-f', 'u.pub', 'u.pub'], status: 255 },
  { name: 'refused: -Q of a missing KRL', args: ['-Q', '-f', 'nosuch', 'u.pub'], status: 255 },
];

/** `ssh-keygen -L -f FILE` of a certificate one tool wrote. */
function listed(path: string): string {
  const r = keygen(root, ['-L', '-f', path]);
  assert.equal(r.status, 0, `ssh-keygen -L -f ${path}: ${r.stderr}`);
  return r.stdout.replace(/^[^\n]*\n/, ''); // the heading names the folder
}

/** Every file each run left, compared as the format allows (see the module comment). */
function compareFiles(a: string, b: string): void {
  const names = readdirSync(a).sort();
  assert.deepEqual(readdirSync(b).sort(), names);
  for (const name of names) {
    const pa = join(a, name);
    const pb = join(b, name);
    if (!statSync(pa).isFile()) continue;
    assert.equal(statSync(pb).mode & 0o777, statSync(pa).mode & 0o777, `${name}: mode`);
    const da = readFileSync(pa);
    const db = readFileSync(pb);
    if (name.endsWith('-cert.pub') && !da.equals(db)) {
      assert.equal(listed(pb), listed(pa), `${name}: ssh-keygen -L`);
      const comment = (d: Buffer) => d.toString('latin1').split(' ').slice(2).join(' ');
      assert.equal(comment(db), comment(da), `${name}: comment`);
    } else if (da.subarray(0, 8).equals(Buffer.from('SSHKRL\n\0', 'latin1'))) {
      const strip = (d: Buffer) => Buffer.concat([d.subarray(0, 20), Buffer.alloc(8), d.subarray(28)]);
      assert.deepEqual(strip(db), strip(da), `${name}: KRL apart from its date`);
    } else assert.deepEqual(db, da, `${name}: bytes`);
  }
}

function runRows(rows: Row[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const input = row.input ?? (row.args.includes('-') && row.args[0] === '-L' ? readFileSync(join(dir, 'uc.pub'), 'utf8') : '');
      const r = runBoth(dir, row.args, { input, env: row.agent ? { SSH_AUTH_SOCK: sock } : undefined });
      try {
        assert.equal(r.openssh.status, row.status, `ssh-keygen ${row.args.join(' ')}: ${r.openssh.stderr}`);
        assert.deepEqual(
          { status: r.sshkit.status, stdout: r.sshkit.stdout, stderr: r.sshkit.stderr },
          { status: r.openssh.status, stdout: r.openssh.stdout, stderr: r.openssh.stderr },
        );
        compareFiles(r.dirs.openssh, r.dirs.sshkit);
      } finally {
        rmSync(r.dirs.openssh, { recursive: true, force: true });
        rmSync(r.dirs.sshkit, { recursive: true, force: true });
      }
    });
  }
}

describe('sshkit-keygen -s = ssh-keygen 9.2 -s (certificates checked with ssh-keygen -L)', () => {
  before(async () => {
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), 'ssh-agent did not create its socket');
    for (const ca of ['ca', 'rca']) {
      const r = spawnSync('ssh-add', ['-q', join(dir, ca)], { env: testEnv({ SSH_AUTH_SOCK: sock }), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
  });
  runRows(CERTIFY);
});
describe('sshkit-keygen -L = ssh-keygen 9.2 -L', () => runRows(LIST));
describe('sshkit-keygen -k / -Q = ssh-keygen 9.2 -k / -Q (KRLs apart from their date)', () => {
  runRows(KRL);
  it("ssh-keygen -Q reads sshkit-keygen's KRL as its own", () => {
    const r = runBoth(dir, ['-k', '-f', 'new.krl', '-s', 'ca.pub', 'spec', 'u.pub']);
    assert.equal(r.sshkit.status, 0, r.sshkit.stderr);
    assert.ok(existsSync(join(r.dirs.sshkit, 'new.krl')));
    for (const [key, want] of [['u.pub', 1], ['uc.pub', 1], ['h.pub', 0]] as const) {
      const q = keygen(r.dirs.sshkit, ['-Q', '-f', 'new.krl', key]);
      assert.equal(q.status, want, `${key}: ${q.stdout}${q.stderr}`);
    }
    rmSync(r.dirs.openssh, { recursive: true, force: true });
    rmSync(r.dirs.sshkit, { recursive: true, force: true });
  });
});

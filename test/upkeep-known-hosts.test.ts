/**
 * `sshkit known-hosts -F/-R/-H` against `ssh-keygen -F/-R/-H` (OpenSSH 9.2) on copies of the same file in
 * this run: -F's stdout and exit status byte for byte, -R's stdout, resulting file, FILE.old and modes;
 * for -H (salted at random) the same line structure and `ssh-keygen -F` finding every host in sshkit's
 * hashed file. A file with an unreadable line is left unchanged by -R/-H (ssh-keygen refuses it too).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openssh, sshkit, SSHKIT, tempDir, testEnv } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-upkeep-kh-');
after(cleanup);

function keyOf(type: string): string {
  const f = join(dir, `key_${type}`);
  assert.equal(openssh('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', f]).status, 0);
  return readFileSync(`${f}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
}
const ED = keyOf('ed25519');
const EC = keyOf('ecdsa');

/** A known_hosts with every kind of line: comments, blanks, lists, ports, wildcards, negation, markers, hashes, CRLF. */
let cached: string | undefined;
function sample(): string {
  if (cached !== undefined) return cached;
  const hf = join(dir, 'pre-hashed');
  writeFileSync(hf, `hashed.example ${ED}\n`);
  openssh('ssh-keygen', ['-H', '-f', hf]);
  const hashedLine = readFileSync(hf, 'utf8').trim();
  cached = [
    '# a comment',
    `example.com,10.0.0.1 ${ED} first comment`,
    '',
    `[example.com]:2222 ${EC}`,
    `*.example.org,!bad.example.org ${ED}`,
    `@revoked example.com ${EC}`,
    `@cert-authority *.example.com ${ED} ca`,
    hashedLine,
    `Mixed.Case.Example ${EC}`,
    `  example.com\t${EC}  trailing  `,
    `other,,after-empty ${ED}`,
    `crlf.example ${ED}\r`,
  ].join('\n') + '\n';
  return cached;
}

let seq = 0;
/** Two folders holding the same file, one for ssh-keygen and one for sshkit. */
function pair(text: string, mode = 0o640): { a: string; b: string } {
  const base = join(dir, `case${seq++}`);
  const out = { a: join(base, 'ssh-keygen', 'known_hosts'), b: join(base, 'sshkit', 'known_hosts') };
  for (const f of [out.a, out.b]) {
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, text);
    chmodSync(f, mode);
  }
  return out;
}
/** Runs a tool in the file's folder with a relative -f, so the printed names are the same. */
function runIn(file: string, cmd: string, args: string[]) {
  const cwd = join(file, '..');
  const r = spawnSync(cmd, args, { cwd, env: testEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function listing(file: string): string[] {
  const d = join(file, '..');
  return readdirSync(d).sort().map((n) => `${n} ${(statSync(join(d, n)).mode & 0o777).toString(8)}`);
}
const SSHKIT_ARGS = (args: string[]) => [SSHKIT, ...args];
const node = process.execPath;

const HOSTS = ['example.com', 'EXAMPLE.COM', '10.0.0.1', '[example.com]:2222', 'www.example.org', 'bad.example.org', 'hashed.example', 'HASHED.example', 'mixed.case.example', 'after-empty', 'crlf.example', 'www.example.com', 'absent.example'];

describe('known-hosts -F = ssh-keygen -F', () => {
  for (const host of HOSTS) {
    test(host, () => {
      const { a } = pair(sample());
      const want = runIn(a, 'ssh-keygen', ['-F', host, '-f', 'known_hosts']);
      const got = runIn(a, node, SSHKIT_ARGS(['known-hosts', '-F', host, '-f', 'known_hosts']));
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.status, want.status);
    });
  }
  test('--json lists the same lines', () => {
    const { a } = pair(sample());
    const got = JSON.parse(runIn(a, node, SSHKIT_ARGS(['known-hosts', '--json', '-F', 'example.com', '-f', 'known_hosts'])).stdout);
    const want = runIn(a, 'ssh-keygen', ['-F', 'example.com', '-f', 'known_hosts']).stdout;
    assert.deepEqual(got.found.map((f: { line: number }) => f.line), [...want.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1])));
  });
});

describe('known-hosts -R = ssh-keygen -R', () => {
  for (const host of HOSTS) {
    test(host, () => {
      const { a, b } = pair(sample());
      const want = runIn(a, 'ssh-keygen', ['-R', host, '-f', 'known_hosts']);
      const got = runIn(b, node, SSHKIT_ARGS(['known-hosts', '-R', host, '-f', 'known_hosts']));
      assert.equal(got.status, 0, got.stderr);
      assert.equal(got.stdout, want.stdout);
      assert.equal(readFileSync(b, 'latin1'), readFileSync(a, 'latin1'));
      assert.equal(existsSync(`${b}.old`), existsSync(`${a}.old`));
      if (existsSync(`${a}.old`)) assert.equal(readFileSync(`${b}.old`, 'latin1'), sample());
      assert.deepEqual(listing(b), listing(a)); // same files, same modes, no temp file left
    });
  }
});

describe('known-hosts -H = ssh-keygen -H', () => {
  test('same structure, same .old, and ssh-keygen -F finds every host in the hashed file', () => {
    const { a, b } = pair(sample(), 0o600);
    const want = runIn(a, 'ssh-keygen', ['-H', '-f', 'known_hosts']);
    const got = runIn(b, node, SSHKIT_ARGS(['known-hosts', '-H', '-f', 'known_hosts']));
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout, want.stdout);
    const shape = (t: string) => t.replace(/\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28}/g, 'HASHED');
    const hashedA = readFileSync(a, 'latin1');
    const hashedB = readFileSync(b, 'latin1');
    assert.equal(shape(hashedB), shape(hashedA));
    assert.notEqual(hashedB, hashedA); // fresh salts, not copied
    assert.equal(readFileSync(`${b}.old`, 'latin1'), sample());
    assert.deepEqual(listing(b), listing(a));
    for (const host of HOSTS) {
      const inA = runIn(a, 'ssh-keygen', ['-F', host, '-f', 'known_hosts']);
      const inB = runIn(b, 'ssh-keygen', ['-F', host, '-f', 'known_hosts']);
      assert.equal(inB.status, inA.status, host);
      assert.equal(shape(inB.stdout), shape(inA.stdout), host);
    }
    assert.match(got.stderr, /known_hosts:5: ignoring host name with wildcard: \*\.example\.org,!bad\.example\.org\n/);
  });
});

describe('an unreadable line: -R and -H leave the file as it is', () => {
  const broken = `example.com ${ED}\nthis is no key line\n`;
  for (const args of [['-R', 'example.com'], ['-H']]) {
    test(args.join(' '), () => {
      const { a, b } = pair(broken);
      const want = runIn(a, 'ssh-keygen', [...args, '-f', 'known_hosts']);
      assert.notEqual(want.status, 0); // ssh-keygen: "not a valid known_hosts file"
      const got = runIn(b, node, SSHKIT_ARGS(['known-hosts', ...args, '-f', 'known_hosts']));
      assert.equal(got.status, 2);
      assert.match(got.stderr, /^sshkit: known_hosts:2: [^\n]+\n$/);
      assert.equal(readFileSync(b, 'latin1'), broken);
      assert.deepEqual(listing(b), listing(a));
      // control: the same file without the bad line is rewritten
      writeFileSync(b, `example.com ${ED}\n`);
      assert.equal(runIn(b, node, SSHKIT_ARGS(['known-hosts', ...args, '-f', 'known_hosts'])).status, 0);
      assert.notEqual(readFileSync(b, 'latin1'), `example.com ${ED}\n`);
    });
  }
  test('-F skips the bad line, as ssh-keygen -F', () => {
    const { a } = pair(broken);
    const want = runIn(a, 'ssh-keygen', ['-F', 'example.com', '-f', 'known_hosts']);
    assert.equal(runIn(a, node, SSHKIT_ARGS(['known-hosts', '-F', 'example.com', '-f', 'known_hosts'])).stdout, want.stdout);
  });
  test('exactly one of -F/-R/-H', () => {
    const r = sshkit(['known-hosts', '-H', '-R', 'x', '-f', join(dir, 'none')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
  });
});

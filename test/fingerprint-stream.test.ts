/**
 * `sshkit fingerprint FILE` reads a file of key lines in 64 KiB pieces (issue 14: memory flat in its size),
 * while stdin is still read whole and scanned at once. The same bytes through both must print the same:
 * a differential over files larger than many pieces, with lines cut by the piece boundaries, CRLF lines,
 * comments, blank and bad lines, certificates (valid and with a broken CA signature) among keys, and a
 * file with no key at all. The fingerprints themselves are checked against `ssh-keygen -l -f`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, sshkit, tempDir } from './helpers.js';

let t: { dir: string; cleanup: () => void };
let keys: string[];
let cert: string;
let badCert: string;

before(() => {
  t = tempDir('sshkit-fpstream-');
  keys = [];
  for (const [type, bits] of [['ed25519', ''], ['ecdsa', '256'], ['rsa', '2048']]) {
    const f = join(t.dir, `id_${type}`);
    assert.equal(openssh('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', `${type}@stream`, '-f', f]).status, 0);
    keys.push(readFileSync(`${f}.pub`, 'utf8').trim());
  }
  const ca = join(t.dir, 'ca');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', ca]).status, 0);
  assert.equal(openssh('ssh-keygen', ['-q', '-s', ca, '-I', 'stream', '-n', 'alice', join(t.dir, 'id_ed25519.pub')]).status, 0);
  cert = readFileSync(join(t.dir, 'id_ed25519-cert.pub'), 'utf8').trim();
  // the last bytes of the blob are the CA's signature: flip one (canonical base64 kept: 'A' ↔ 'B' mid-text)
  const [type, b64, ...rest] = cert.split(' ');
  const blob = Buffer.from(b64, 'base64');
  blob[blob.length - 5] ^= 1;
  badCert = [type, blob.toString('base64'), ...rest].join(' ');
});
after(() => t?.cleanup());

/** A file of `n` lines cycling through keys, options, comments, blank, CRLF and bad lines, certificates. */
function mixed(n: number, withKeys = true): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = keys[i % 3];
    switch (i % 11) {
      case 0: out.push(withKeys ? k : 'ssh-ed25519 AAAA-not-base64'); break;
      case 1: out.push(withKeys ? `command="echo ${'x'.repeat(i % 200)}" ${k}` : '# a comment'); break;
      case 2: out.push('# a comment line ' + 'c'.repeat(i % 300)); break;
      case 3: out.push(''); break;
      case 4: out.push(withKeys ? `${k}\r` : 'not a key at all'); break;
      case 5: out.push('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== truncated'); break;
      case 6: out.push(withKeys ? cert : '   '); break;
      case 7: out.push(badCert); break;
      case 8: out.push(withKeys ? `${k.split(' ').slice(0, 2).join(' ')} comment with tab\tand é bytes ${'y'.repeat(i % 500)}` : 'x'); break;
      case 9: out.push(withKeys ? `@cert-authority *.example.com ${k}` : '\t'); break;
      default: out.push(withKeys ? k.split(' ').slice(0, 2).join(' ') : 'junk junk'); break;
    }
  }
  return out.join('\n') + '\n';
}

/** `sshkit fingerprint ARGS FILE` (streamed) against `sshkit fingerprint ARGS -` with the file on stdin (read whole). */
function both(file: string, args: string[] = []) {
  const streamed = sshkit(['fingerprint', ...args, file]);
  const whole = sshkit(['fingerprint', ...args, '-'], { input: readFileSync(file) });
  const named = (s: string) => s.split('(stdin)').join(file);
  return { streamed, whole: { status: whole.status, stdout: named(whole.stdout), stderr: named(whole.stderr) } };
}

describe('fingerprint: a file streamed in pieces prints what the whole file scanned at once prints', () => {
  it('a 3 MiB file of mixed lines (pieces cut lines): same lines, errors and status; fingerprints are ssh-keygen\'s', () => {
    const file = join(t.dir, 'mixed');
    writeFileSync(file, mixed(20_000));
    assert.ok(readFileSync(file).length > 3 * (1 << 20), 'many pieces');
    const { streamed, whole } = both(file);
    assert.deepEqual(streamed, whole);
    assert.equal(streamed.status, 2, 'bad lines make the exit status 2');
    assert.match(streamed.stderr, /:8: certificate signature is invalid\n/, 'the broken certificate is its line\'s error');
    assert.match(streamed.stderr, /:6: /, 'a bad line is reported with its number');
    // differential with ssh-keygen on the good keys alone
    const good = join(t.dir, 'good');
    writeFileSync(good, `${keys.join('\n')}\n${cert}\n`);
    assert.equal(sshkit(['fingerprint', good]).stdout, openssh('ssh-keygen', ['-l', '-f', good]).stdout);
  });

  it('the same with --json, -v and -E md5', () => {
    const file = join(t.dir, 'mixed-small');
    writeFileSync(file, mixed(3_000));
    for (const args of [['--json'], ['-v'], ['-E', 'md5'], ['--json', '-v', '-E', 'md5']]) {
      const { streamed, whole } = both(file, args);
      assert.deepEqual(streamed, whole, args.join(' '));
    }
    assert.doesNotThrow(() => JSON.parse(sshkit(['fingerprint', '--json', file]).stdout));
  });

  it('a 2 MiB file with no key at all is one "no key found" line, as before', () => {
    const file = join(t.dir, 'nokeys');
    writeFileSync(file, mixed(60_000, false));
    assert.ok(readFileSync(file).length > 1 << 20);
    const { streamed, whole } = both(file);
    assert.deepEqual(streamed, whole);
    assert.equal(streamed.status, 2);
    assert.equal(streamed.stdout, '');
    assert.match(streamed.stderr, /^sshkit: \S+nokeys: no key found \(line 1: /);
    assert.equal(streamed.stderr.trimEnd().split('\n').length, 1);
  });

  it('bad lines before the first key are reported once it is found; a key file beside lines files still works', () => {
    const file = join(t.dir, 'late');
    writeFileSync(file, 'junk one\njunk two\n' + '# pad\n'.repeat(300_000) + `${keys[0]}\nbad tail\n`);
    const { streamed, whole } = both(file);
    assert.deepEqual(streamed, whole);
    assert.deepEqual(streamed.stderr.split('\n').map((l) => l.replace(/^.*late:/, '')).filter(Boolean).map((l) => l.split(':')[0]), ['1', '2', '300004']);
    const priv = join(t.dir, 'id_ed25519');
    const r = sshkit(['fingerprint', file, priv]);
    assert.equal(r.stdout.split('\n')[1], openssh('ssh-keygen', ['-l', '-f', priv]).stdout.trimEnd(), 'a private key (read whole) after a streamed file');
  });
});

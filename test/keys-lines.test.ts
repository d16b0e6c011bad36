/**
 * Key lines read as `ssh-keygen -l -f` reads them (ssh-keygen.c do_fingerprint, sshkey.c sshkey_read,
 * sshkey_ec_validate_public): each line here is given to the real ssh-keygen and to sshkit's one line
 * reader, which must print the same line or refuse it as ssh-keygen does. Cases: the SSH1 leading-number
 * test ((int)strtol), signature-algorithm names as key types, and ECDSA points that are on the curve
 * but outside OpenSSH's bounds. Each table has accepted controls.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WireWriter } from '../src/core/wire.js';
import { inspectBlob } from '../src/core/key.js';
import { scanKeyLines } from '../src/core/key-file.js';
import { fingerprintLine } from '../src/core/fingerprint.js';
import { openssh, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-lines-');
after(cleanup);

function pub(name: string, args: string[]): string {
  const f = join(dir, name);
  assert.equal(openssh('ssh-keygen', ['-q', ...args, '-N', '', '-C', name, '-f', f]).status, 0);
  return readFileSync(`${f}.pub`, 'latin1').trim();
}

let n = 0;
/** What `ssh-keygen -l -f FILE` prints for a one-line FILE, or null when it refuses it. */
function keygen(line: string): string | null {
  const f = join(dir, `line-${n++}`);
  writeFileSync(f, line + '\n', 'latin1');
  const r = openssh('ssh-keygen', ['-l', '-f', f]);
  return r.status === 0 ? r.stdout : null;
}

function kit(line: string): string | null {
  const { keys, errors } = scanKeyLines(line + '\n');
  if (errors.length || keys.length !== 1) return null;
  return fingerprintLine(keys[0].key.blob, inspectBlob(keys[0].key.blob), keys[0].comment) + '\n';
}

function agree(cases: [string, string, boolean][]): void {
  for (const [what, line, accepted] of cases) {
    test(what, () => {
      const want = keygen(line);
      assert.equal(want !== null, accepted, `ssh-keygen -l ${want === null ? 'refuses' : 'accepts'} it (the table says otherwise)`);
      assert.equal(kit(line), want);
    });
  }
}

const ED = pub('ed', ['-t', 'ed25519']);
const RSA = pub('rsa', ['-t', 'rsa', '-b', '2048']);
const EC = pub('ec', ['-t', 'ecdsa', '-b', '256']);
const bare = (line: string) => line.split(' ').slice(0, 2).join(' ');

describe('a leading number: the SSH1 test is (int)strtol(...) != 0 followed by a blank', () => {
  agree([
    ['0 is skipped like options (control)', `0 ${bare(ED)} c`, true],
    ['4294967296 is 0 as an int: skipped', `4294967296 ${bare(ED)} c`, true],
    ['-9223372036854775809 saturates to LONG_MIN, 0 as an int: skipped', `-9223372036854775809 ${bare(ED)} c`, true],
    ['5x is no number followed by a blank: skipped', `5x ${bare(ED)} c`, true],
    ['4294967297 is 1: an SSH1 line, refused', `4294967297 ${bare(ED)} c`, false],
    ['+5 is an SSH1 line, refused', `+5 ${bare(ED)} c`, false],
    ['a vertical tab before 5 (strtol skips it): refused', `\v5 ${bare(ED)} c`, false],
    ['99999999999999999999999 saturates to LONG_MAX, -1 as an int: refused', `99999999999999999999999 ${bare(ED)} c`, false],
  ]);
});

describe('signature-algorithm names as the key type (sshkey_type_from_name)', () => {
  const b64 = RSA.split(' ')[1];
  agree([
    ['ssh-rsa (control)', RSA, true],
    ['rsa-sha2-256 names an ssh-rsa key', `rsa-sha2-256 ${b64} c`, true],
    ['rsa-sha2-512 names an ssh-rsa key', `rsa-sha2-512 ${b64} c`, true],
    ['rsa-sha2-256 over an ed25519 blob: type mismatch, refused', `rsa-sha2-256 ${ED.split(' ')[1]} c`, false],
    ['a short name (RSA) is no key type: refused', `RSA ${b64} c`, false],
  ]);
});

describe('ECDSA points on the curve but outside sshkey_ec_validate_public', () => {
  const p = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
  const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
  const order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
  const pow = (a: bigint, e: bigint) => {
    let r = 1n;
    a %= p;
    for (; e; e >>= 1n, a = (a * a) % p) if (e & 1n) r = (r * a) % p;
    return r;
  };
  /** The first point of P-256 with x ≥ x0 (p ≡ 3 mod 4, so y = rhs^((p+1)/4)). */
  const pointFrom = (x0: bigint): [bigint, bigint] => {
    for (let x = x0; ; x++) {
      const rhs = (((x * x * x - 3n * x + b) % p) + p) % p;
      const y = pow(rhs, (p + 1n) / 4n);
      if ((y * y) % p === rhs) return [x, y];
    }
  };
  const line = ([x, y]: [bigint, bigint]) => {
    const q = Buffer.from('04' + x.toString(16).padStart(64, '0') + y.toString(16).padStart(64, '0'), 'hex');
    const blob = new WireWriter().string('ecdsa-sha2-nistp256').string('nistp256').string(q).toBuffer();
    return `ecdsa-sha2-nistp256 ${blob.toString('base64')} c`;
  };
  agree([
    ['a point made by ssh-keygen (control)', EC, true],
    ['x ≥ order − 1 (on the curve, below p): refused', line(pointFrom(order - 1n)), false],
    ['x of 128 bits or fewer: refused', line(pointFrom(1n)), false],
  ]);
});

describe('a blank inside the options field: no second chance to find a key', () => {
  agree([
    ['options with a tab inside (fuzz find): refused, as ssh-keygen refuses it', `restrict,pty,ex\tiry-time="20991231" ${bare(EC)} c2`, false],
    ['control: the same options without the tab', `restrict,pty,expiry-time="20991231" ${bare(EC)} c2`, true],
  ]);
  test('deliberate superset (SPEC): known_hosts markers and allowed_signers options are read, ssh-keygen -l skips them', () => {
    for (const line of [`@cert-authority *.example.com ${bare(ED)}`, `alice@example.com namespaces="git",valid-after="20200101" ${bare(ED)}`]) {
      assert.equal(keygen(line), null, 'ssh-keygen -l reads it now: the README difference can go');
      assert.notEqual(kit(line), null, line);
    }
  });
});

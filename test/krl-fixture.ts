/**
 * Keys, certificates and KRLs for the KRL tests, all made by the real ssh-keygen in a temp folder:
 * two CAs (ed25519, ecdsa), users of several types, certificates with serials and key IDs
 * (`ssh-keygen -s CA -I ID -z SERIAL`), plus helpers that run `ssh-keygen -k` / `-Q` and compare KRL
 * bytes with the generation date (the one non-deterministic field) masked.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';

export interface KrlFixture {
  dir: string;
  p(name: string): string;
  /** The `.pub` line of a key or certificate made here. */
  pub(name: string): string;
  cleanup(): void;
}

/** The date field of a KRL header: magic (8) + format (4) + krl_version (8), then 8 bytes. */
export function maskDate(krl: Buffer): Buffer {
  const b = Buffer.from(krl);
  b.fill(0, 20, 28);
  return b;
}

/** `ssh-keygen ARGS`, asserting success; returns stdout. */
export function keygen(args: string[]): string {
  const r = openssh('ssh-keygen', args);
  assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `ssh-keygen -Q -f KRL KEY`: true when it says REVOKED (exit 1), false for ok (0); throws on anything else. */
export function keygenRevoked(krl: string, key: string): boolean {
  const r = openssh('ssh-keygen', ['-Q', '-f', krl, key]);
  if (r.status === 0 && / ok\n$/.test(r.stdout)) return false;
  if (r.status === 1 && / REVOKED\n$/.test(r.stdout)) return true;
  throw new Error(`ssh-keygen -Q -f ${krl} ${key}: exit ${r.status}: ${r.stdout}${r.stderr}`);
}

/**
 * Users u-ed, u-ec, u-rsa (plain keys) and certificates: c-serial5 (CA1, serial 5), c-serial9 (CA1,
 * serial 9), c-id (CA1, serial 0, id "alice-laptop"), c-id2 (CA1, serial 0, id "bob"), c-ca2
 * (CA2, serial 5), c-ok (CA1, serial 1000). Control keys/certs stay unrevoked in every test.
 */
export function makeFixture(): KrlFixture {
  const { dir, cleanup } = tempDir('sshkit-krl-');
  const p = (name: string) => join(dir, name);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'ca1', '-f', p('ca1')]);
  keygen(['-q', '-t', 'ecdsa', '-N', '', '-C', 'ca2', '-f', p('ca2')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'u-ed', '-f', p('u-ed')]);
  keygen(['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-C', 'u-ec', '-f', p('u-ec')]);
  keygen(['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'u-rsa', '-f', p('u-rsa')]);
  keygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'u-ok', '-f', p('u-ok')]);
  const certs: [string, string, string, string][] = [
    ['c-serial5', 'ca1', 'id5', '5'],
    ['c-serial9', 'ca1', 'id9', '9'],
    ['c-id', 'ca1', 'alice-laptop', '0'],
    ['c-id2', 'ca1', 'bob', '0'],
    ['c-ca2', 'ca2', 'id5', '5'],
    ['c-ok', 'ca1', 'carol', '1000'],
  ];
  for (const [name, ca, id, serial] of certs) {
    keygen(['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', p(name)]);
    keygen(['-q', '-s', p(ca), '-I', id, '-z', serial, '-n', 'root,alice', p(`${name}.pub`)]);
  }
  return { dir, p, pub: (name) => readFileSync(p(`${name}.pub`), 'utf8').trim(), cleanup };
}

/** Every key and certificate of the fixture, by file name (for -Q / --check sweeps). */
export const ALL_KEYS = [
  'u-ed.pub',
  'u-ec.pub',
  'u-rsa.pub',
  'u-ok.pub',
  'ca1.pub',
  'ca2.pub',
  'c-serial5-cert.pub',
  'c-serial9-cert.pub',
  'c-id-cert.pub',
  'c-id2-cert.pub',
  'c-ca2-cert.pub',
  'c-ok-cert.pub',
];

/** Writes a spec file and returns its path. */
export function writeSpec(f: KrlFixture, name: string, lines: string[]): string {
  writeFileSync(f.p(name), lines.join('\n') + '\n');
  return f.p(name);
}

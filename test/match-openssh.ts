/**
 * The real OpenSSH tools as oracles for the matching tests (test/match-*.test.ts, test/fuzz-match.test.ts):
 * `ssh-keygen -Y verify` for allowed_signers lines, `ssh-keygen -F` for known_hosts host patterns and
 * `ssh-keygen -s … -V FROM:forever` for parse_absolute_time, each next to sshkit's answer on the same input.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAllowedSigners } from '../src/core/allowed-signers.js';
import { parseCertificate } from '../src/core/certificate.js';
import { hostMatches, parseKnownHosts } from '../src/core/known-hosts.js';
import { tempDir, testEnv } from './helpers.js';

function keygen(args: string[], input?: string | Buffer) {
  const r = spawnSync('ssh-keygen', args, { input: input ?? '', env: testEnv({ TZ: process.env.TZ ?? 'UTC' }) });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1') };
}

/** A throw-away ed25519 signer: its key line, blob, and a signature over `data` in namespace `file`. */
export interface Signer {
  readonly dir: string;
  /** `ssh-ed25519 AAAA…` (no comment). */
  readonly keyText: string;
  readonly blob: Buffer;
  readonly pubPath: string;
  readonly keyPath: string;
  /** ssh-keygen -Y verify's verdict on allowed_signers bytes for this identity (true: "Good … signature"). */
  opensshGrants(allowed: Buffer | string, identity: string): boolean;
  /** checkAllowedSigners's verdict on the same bytes (read as latin1, as verify-signature does). */
  sshkitGrants(allowed: Buffer | string, identity: string): boolean;
  cleanup(): void;
}

/** Makes a signer with `ssh-keygen -t ed25519` and signs a small file with `ssh-keygen -Y sign -n file`. */
export function makeSigner(): Signer {
  const tmp = tempDir('sshkit-match-');
  const keyPath = join(tmp.dir, 'id');
  if (keygen(['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', keyPath]).status !== 0) throw new Error('ssh-keygen -t ed25519 failed');
  const data = join(tmp.dir, 'data');
  writeFileSync(data, 'signed data\n');
  if (keygen(['-Y', 'sign', '-f', keyPath, '-n', 'file', data]).status !== 0) throw new Error('ssh-keygen -Y sign failed');
  const keyText = readFileSync(`${keyPath}.pub`, 'latin1').trim().split(' ').slice(0, 2).join(' ');
  const blob = Buffer.from(keyText.split(' ')[1], 'base64');
  const allowedPath = join(tmp.dir, 'allowed');
  return {
    dir: tmp.dir,
    keyText,
    blob,
    keyPath,
    pubPath: `${keyPath}.pub`,
    opensshGrants(allowed, identity) {
      writeFileSync(allowedPath, allowed);
      const r = keygen(['-Y', 'verify', '-f', allowedPath, '-I', identity, '-n', 'file', '-s', `${data}.sig`], readFileSync(data));
      return r.status === 0 && /^Good "file" signature/.test(r.stdout);
    },
    sshkitGrants(allowed, identity) {
      const text = typeof allowed === 'string' ? Buffer.from(allowed, 'utf8').toString('latin1') : allowed.toString('latin1');
      return checkAllowedSigners(text, { key: blob, principal: identity, namespace: 'file', now: Math.floor(Date.now() / 1000) }).ok;
    },
    cleanup: tmp.cleanup,
  };
}

/** ssh-keygen -F HOST on a one-line known_hosts file (hashing off): does the line name the host? */
export function opensshKnowsHost(dir: string, line: Buffer | string, host: string): boolean {
  const file = join(dir, 'known_hosts');
  writeFileSync(file, line);
  const r = keygen(['-F', host, '-f', file]);
  return r.status === 0 && r.stdout.includes('found:');
}

/** sshkit's answer for the same line (the client reads known_hosts as UTF-8). */
export function sshkitKnowsHost(line: Buffer | string, host: string): boolean {
  const text = typeof line === 'string' ? line : line.toString('utf8');
  const kh = parseKnownHosts(text);
  return kh.entries.some((e) => e.marker === null && hostMatches(e, host));
}

/**
 * parse_absolute_time as ssh-keygen 9.2 applies it: certify a key with `-V TIME:forever` and read the
 * certificate's valid_after; null where ssh-keygen refuses ("Invalid from time"). TZ as this process's.
 */
export function opensshAbsoluteTime(ca: string, pub: string, time: string): number | null {
  const r = keygen(['-q', '-s', ca, '-I', 'probe', '-V', `${time}:forever`, pub]);
  if (r.status !== 0) return null;
  const cert = readFileSync(pub.replace(/\.pub$/, '-cert.pub'), 'latin1').trim().split(' ')[1];
  return Number(parseCertificate(Buffer.from(cert, 'base64')).validAfter);
}

/** CA and subject keys for ssh-keygen -s. */
export function certKeys(dir: string): { ca: string; pub: string } {
  for (const name of ['ca', 'user']) {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(dir, name)]);
    if (r.status !== 0) throw new Error('ssh-keygen -t ed25519 failed');
  }
  return { ca: join(dir, 'ca'), pub: join(dir, 'user.pub') };
}


/** Spellings around every rule of misc.c + glibc strptime/mktime. */
export const TIME_TABLE = [
  '20200101', '20200101Z', '20200101z', '20200101UTC', '20200101utc', '202001011230', '20200101123045', '20200101123045Z',
  '00990101', '00700701', '19700101Z', '19700101000001Z', '19691231235959Z', '99991231235959Z', '10000101',
  '20201301', '20200001', '20200100', '20200132', '20200231', '20200229Z', '20210229Z', '202001012400', '202001012360',
  '20200101235960Z', '20200101235961Z', '20200101235962Z', '2020 101', '2020010 ', ' 2020101', '2020-1-1',
  '2020010', '202001011', '2020010112', '2020010112300', '20200101Zz', '20200101ZUTC', 'Z', 'UTC', '20200101 Z',
  '2020\t101', '202001 1', '20200101 230', '20200101\u00e9', '0000000000000',
] as const;


/**
 * Shared by the certify/inspect tests: key pairs made by the real ssh-keygen, and certificates made by
 * `ssh-keygen -s` and by `sshkit certify` from the same keys with the same flags.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, openssh, sshkit, type RunResult } from './helpers.js';

/** The key types every subject/CA pair is drawn from (rsa: ssh-keygen signs with rsa-sha2-512). */
export const CERT_KEY_TYPES = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa2048'] as const;

/** `ssh-keygen -q -t … -N '' -C COMMENT -f DIR/NAME`; returns the private key path. */
export function makeKey(dir: string, name: string, type: string, comment = name): string {
  const path = join(dir, name);
  const r = openssh('ssh-keygen', ['-q', ...KEY_TYPES[type], '-N', '', '-C', comment, '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen -t ${type}: ${r.stderr}`);
  return path;
}

/** Copies KEY.pub to DIR/NAME.pub (so both tools can write NAME-cert.pub beside their own copy). */
export function copyPub(key: string, dir: string, name: string): string {
  const to = join(dir, `${name}.pub`);
  copyFileSync(`${key}.pub`, to);
  return to;
}

/** `ssh-keygen -s CA ARGS PUB...`, failing loudly. */
export function keygenSign(ca: string, args: string[], pubs: string[], env?: Record<string, string>): RunResult {
  const r = openssh('ssh-keygen', ['-q', '-s', ca, ...args, ...pubs], { env });
  if (r.status !== 0) throw new Error(`ssh-keygen -s ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** `sshkit certify -s CA ARGS PUB...`, failing loudly. */
export function sshkitSign(ca: string, args: string[], pubs: string[], env?: Record<string, string>): RunResult {
  const r = sshkit(['certify', '-q', '-s', ca, ...args, ...pubs], { env });
  if (r.status !== 0) throw new Error(`sshkit certify ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** The -cert.pub path each tool writes for PUB. */
export function certPath(pub: string): string {
  return pub.replace(/\.pub$/, '') + '-cert.pub';
}

/** `ssh-keygen -L -f FILE` output (the reference). */
export function keygenList(file: string, env?: Record<string, string>): string {
  const r = openssh('ssh-keygen', ['-L', '-f', file], { env });
  if (r.status !== 0) throw new Error(`ssh-keygen -L -f ${file}: ${r.stderr}`);
  return r.stdout;
}

/** The certificate blob of a -cert.pub file. */
export function certBlob(file: string): Buffer {
  return Buffer.from(readFileSync(file, 'utf8').split(' ')[1], 'base64');
}

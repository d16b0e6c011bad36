/**
 * Host keys for `sshkit serve` (SPEC: `--host-key` files; without one, an ed25519 key generated once and
 * kept in `~/.config/sshkit/host_ed25519` (0600) so the host's identity survives restarts). Keys are
 * read through core private-key.ts and generated through core keygen.ts + atomic-write.ts (O_EXCL temp
 * file, mode 0600 before the first byte, link(2) so two servers starting at once cannot both write).
 * A key file readable by group or others is refused, as sshd refuses it (`hostKeyPermsProblem`).
 * Only keys whose algorithms are offered are handed to ssh2 (its `serverHostKey` list does not filter
 * what it advertises): DSA host keys are refused; one key per type, the first given wins.
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { keyFileTooOpen } from '../core/key-file.js';
import { homeDir } from '../home.js';
import { join } from 'node:path';
import { bad, fsError, SshkitError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { keyFromBlob } from '../core/key.js';
import { loadPrivateKey } from '../core/private-key.js';
import type { Logger } from './log.js';

/** A host key ready for ssh2: the private key in OpenSSH form, its public blob and fingerprint. */
export interface HostKey {
  readonly file: string;
  readonly type: string;
  readonly privateText: string;
  readonly blob: Buffer;
  readonly fingerprint: string;
  readonly generated: boolean;
}

const OFFERED_TYPES = new Set(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa']);

/** Where the generated host key lives: `$XDG_CONFIG_HOME/sshkit/host_ed25519`, else `~/.config/sshkit/…`. */
export function defaultHostKeyPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homeDir(), '.config');
  return join(base, 'sshkit', 'host_ed25519');
}

/**
 * sshd's rule for private key files (authfile.c `sshkey_perm_ok`): a key file owned by the user running
 * the server must not be readable or writable by group or others (`mode & 077`), else sshd prints
 * "UNPROTECTED PRIVATE KEY FILE!" and ignores the key. sshkit refuses to start instead (one line).
 */
export function hostKeyPermsProblem(st: { uid: number; mode: number }, uid: number | undefined): string | null {
  if (!keyFileTooOpen(st, uid)) return null;
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  return `UNPROTECTED PRIVATE KEY FILE: permissions ${mode} are too open; it must not be accessible by others (chmod 600)`;
}

/** Reads one host key file (unencrypted; a host key cannot prompt for a passphrase). */
export function readHostKey(file: string, generated = false): HostKey {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const problem = hostKeyPermsProblem(fstatSync(fd), process.getuid?.());
    if (problem) throw bad(`${file}: ${problem}`);
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof SshkitError) throw err;
    throw fsError(file, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const key = loadPrivateKey(text, undefined, file);
  const blob = Buffer.from(key.toPublic().toBuffer('rfc4253'));
  const pub = keyFromBlob(blob);
  if (!OFFERED_TYPES.has(pub.type)) throw bad(`${file}: host key type ${pub.type} is not offered (use ed25519, ecdsa or rsa)`);
  const privateText = key.toBuffer('openssh').toString('utf8');
  return { file, type: pub.type, privateText, blob, fingerprint: fingerprint(blob), generated };
}

/** Makes the default host key if it is missing (0600, parent 0700), then reads it. */
export async function defaultHostKey(file = defaultHostKeyPath()): Promise<HostKey> {
  const { pathExists, writeFilesAtomic } = await import('../core/atomic-write.js');
  if (!pathExists(file)) {
    const { generateKey, keySpec } = await import('../core/keygen.js');
    const os = await import('node:os');
    const key = generateKey(keySpec('ed25519'), { comment: `sshkit-host@${os.hostname()}` });
    try {
      writeFilesAtomic([{ path: file, data: key.privateText, mode: 0o600 }], false);
      return readHostKey(file, true);
    } catch (err) {
      if (!pathExists(file)) throw err; // another server won the race: use its key
    }
  }
  return readHostKey(file);
}

/** Loads the configured host keys (or the default one), one per type, and logs each fingerprint. */
export async function loadHostKeys(files: readonly string[], log: Logger): Promise<HostKey[]> {
  const keys = files.length ? files.map((f) => readHostKey(f)) : [await defaultHostKey()];
  const seen = new Set<string>();
  const out: HostKey[] = [];
  for (const k of keys) {
    if (seen.has(k.type)) {
      log.event('host-key-skipped', { file: k.file, type: k.type, reason: 'another key of this type was given first' });
      continue;
    }
    seen.add(k.type);
    out.push(k);
    log.event('host-key', { file: k.file, type: k.type, fingerprint: k.fingerprint, generated: k.generated || undefined });
  }
  return out;
}

/**
 * `sshkit-keygen -A [-f prefix]` (ssh-keygen.c do_gen_all_hostkeys, 9.2): for RSA (3072), ECDSA (256)
 * and Ed25519, the host key PREFIX/etc/ssh/ssh_host_TYPE_key that is missing or empty is generated,
 * unencrypted, comment user@host, FILE 0600 and FILE.pub 0644 (core/keygen.ts generateKey/saveKeyPair,
 * each pair written atomically), and stdout says `ssh-keygen: generating new host keys: RSA ECDSA
 * ED25519 `. A type that cannot be written (missing folder) is ssh-keygen's "Could not save your
 * private key in …" line and the next type is tried; the exit status is 0 either way, as there.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKey, saveKeyPair, type KeySpec } from '../core/keygen.js';
import { userAtHost } from '../home.js';
import { strerror } from './files.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';
import { logLine } from './usage.js';

/** do_gen_all_hostkeys' key_types table (DSA and XMSS are not in 9.2's). */
const HOST_KEY_TYPES: ReadonlyArray<{ display: string; path: string; spec: KeySpec }> = [
  { display: 'RSA', path: '/etc/ssh/ssh_host_rsa_key', spec: { kind: 'rsa', bits: 3072 } },
  { display: 'ECDSA', path: '/etc/ssh/ssh_host_ecdsa_key', spec: { kind: 'ecdsa', bits: 256 } },
  { display: 'ED25519', path: '/etc/ssh/ssh_host_ed25519_key', spec: { kind: 'ed25519', bits: 256 } },
];

/** mkstemp's template suffix (only named in an error message: the core writes its own temp files). */
function mkstempName(path: string): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `${path}.${[...randomBytes(10)].map((b) => abc[b % abc.length]).join('')}`;
}

/** `-A`. */
export async function runHostKeys(a: KgArgs, io: KgIO): Promise<number> {
  const prefix = lastArg(a, 'f') ?? '';
  let first = false;
  for (const t of HOST_KEY_TYPES) {
    const file = prefix + t.path;
    try {
      if (statSync(file).size !== 0) continue;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        io.stderr(logLine(`Could not stat ${t.path}: ${strerror(err)}`));
        first = false;
        continue;
      }
    }
    if (!first) {
      first = true;
      io.stdout('ssh-keygen: generating new host keys: ');
    }
    io.stdout(`${t.display} `);
    try {
      if (!statSync(dirname(file)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      io.stderr(logLine(`Could not save your private key in ${mkstempName(file)}: ${strerror(err)}`));
      first = false;
      continue;
    }
    saveKeyPair(file, generateKey(t.spec, { comment: userAtHost(), format: 'openssh' }), true);
  }
  if (first) io.stdout('\n');
  return 0;
}

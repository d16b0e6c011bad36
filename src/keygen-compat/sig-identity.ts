/**
 * ssh-keygen.c load_identity for `sshkit-keygen -Y sign` and `-s` (issue 12): sshkey_load_private's
 * order — open the file, refuse it when group/other may read it (authfile.c sshkey_perm_ok, with its
 * "UNPROTECTED PRIVATE KEY FILE" block), try the empty passphrase, then -P or a prompt — on sshkit's
 * private key reader (core/private-key.ts). Every failure is ssh-keygen's fatal `Load key "PATH": why`.
 */
import { statSync } from 'node:fs';
import { SshkitError } from '../core/errors.js';
import { loadPrivateKey, PassphraseError } from '../core/private-key.js';
import { loadFile, logLine } from './sig-common.js';
import { KgFatal } from './usage.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';

/** sshkey_perm_ok: a private key file of ours that others may read is refused (log lines as OpenSSH). */
function permOk(io: KgIO, path: string): boolean {
  let st;
  try {
    st = statSync(path);
  } catch {
    return true;
  }
  const uid = process.getuid?.();
  if (uid === undefined || st.uid !== uid || (st.mode & 0o077) === 0) return true;
  const bar = '@'.repeat(59);
  logLine(io, bar);
  logLine(io, '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @');
  logLine(io, bar);
  logLine(io, `Permissions 0${(st.mode & 0o777).toString(8).padStart(3, '0')} for '${path}' are too open.`);
  logLine(io, 'It is required that your private key files are NOT accessible by others.');
  logLine(io, 'This private key will be ignored.');
  return false;
}

/** load_identity(path): the private key, or a KgFatal with ssh-keygen's line. */
export async function loadIdentity(args: KgArgs, io: KgIO, path: string): Promise<ReturnType<typeof loadPrivateKey>> {
  const file = loadFile(path);
  if ('error' in file) throw new KgFatal(`Load key "${path}": ${file.error}`);
  if (!permOk(io, path)) throw new KgFatal(`Load key "${path}": bad permissions`);
  try {
    try {
      return loadPrivateKey(file.data, '', path);
    } catch (err) {
      if (!(err instanceof PassphraseError)) throw err;
      const pass = lastArg(args, 'P') ?? (await io.readSecret('Enter passphrase: '));
      return loadPrivateKey(file.data, pass, path);
    }
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    const why = err instanceof PassphraseError ? 'incorrect passphrase supplied to decrypt private key' : 'invalid format';
    throw new KgFatal(`Load key "${path}": ${why}`);
  }
}

/**
 * `sshkit-keygen -e [-m RFC4716|PKCS8|PEM] [-f file]` and `-i [-m …] [-f file]` (ssh-keygen.c
 * do_convert_to, do_convert_from, 9.2) on core/key-export.ts: -e takes sshkey_load_public's key (the
 * file as a public key, its clear private part or FILE.pub) and else load_identity(); -i prints the
 * imported key as `type base64`. Deliberate difference: -i of a private key (ssh.com or PEM) is refused
 * with 255, sshkit has no writer for it there.
 */
import { readFileSync } from 'node:fs';
import { exportPublicKey, importPublicKey, type ConvertFormat } from '../core/key-export.js';
import { publicKeyOfFile } from '../core/upkeep.js';
import { formatPublicKey, inspectBlob, keyFromBlob, type PublicKey } from '../core/key.js';
import { isPrivateKeyText } from '../core/private-key.js';
import { SshkitError } from '../core/errors.js';
import { userAtHost } from '../home.js';
import { identityFile, loadIdentity, statOrFatal } from './files.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, unsupported } from './usage.js';

/** -m as convert_format (RFC4716/ssh2, PKCS8, PEM; main's option loop refused the rest). */
function formatOf(a: KgArgs): ConvertFormat {
  const m = (lastArg(a, 'm') ?? 'RFC4716').toLowerCase();
  return m === 'pkcs8' ? 'PKCS8' : m === 'pem' ? 'PEM' : 'RFC4716';
}

/** sshkey_load_public, else load_identity (which may ask for the passphrase). */
async function keyToExport(file: string, a: KgArgs, io: KgIO): Promise<PublicKey> {
  try {
    return publicKeyOfFile(file, readFileSync(file));
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
  }
  const id = await loadIdentity(file, a, io);
  return keyFromBlob(Buffer.from(id.key.toPublic().toBuffer('rfc4253')));
}

/** `-e` (do_convert_to). */
export async function runExport(a: KgArgs, io: KgIO): Promise<number> {
  const file = await identityFile(a, io);
  statOrFatal(file, true);
  const format = formatOf(a);
  const key = await keyToExport(file, a, io);
  const info = inspectBlob(key.blob);
  if (format !== 'RFC4716' && info.baseType !== 'ssh-rsa' && !info.baseType.startsWith('ecdsa-sha2-')) {
    throw new KgFatal(`do_convert_to_${format.toLowerCase()}: unsupported key type ${info.label}`);
  }
  io.stdout(exportPublicKey(key, format, userAtHost()));
  return 0;
}

/** ssh-keygen's message when the input is not of the -m format. */
const IMPORT_ERRORS: ReadonlyMap<ConvertFormat, (file: string) => string> = new Map([
  ['RFC4716', () => 'do_convert_from_ssh2: base64 decode: invalid format'],
  ['PKCS8', (file: string) => `do_convert_from_pkcs8: ${file} is not a recognised public key format`],
  ['PEM', () => 'do_convert_from_pem: unrecognised raw private key format'],
]);

/** `-i` (do_convert_from). */
export async function runImport(a: KgArgs, io: KgIO): Promise<number> {
  const file = await identityFile(a, io);
  statOrFatal(file, true);
  const format = formatOf(a);
  const text = readFileSync(file, 'latin1');
  if (/^\s*---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----/.test(text) || (format !== 'RFC4716' && isPrivateKeyText(text))) {
    throw unsupported('-i of a private key');
  }
  let key: PublicKey;
  try {
    key = importPublicKey(text, format, file);
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    throw new KgFatal(IMPORT_ERRORS.get(format)!(file));
  }
  io.stdout(formatPublicKey(keyFromBlob(key.blob)) + '\n');
  return 0;
}

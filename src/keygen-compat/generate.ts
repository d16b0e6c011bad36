/**
 * `sshkit-keygen [-q] [-t type] [-b bits] [-C comment] [-f file] [-N pass] [-m format]`: key generation
 * as the end of ssh-keygen.c main() (9.2): type_bits_valid() (default type rsa, as 9.2; RSA 1024–16384
 * bits, ECDSA 256/384/521), "Generating public/private TYPE key pair.", ask_filename(), ~/.ssh made
 * 0700 ("Created directory"), confirm_overwrite() on stdout/stdin, private_key_passphrase() (-N, -P or
 * asked twice), then FILE (0600) and FILE.pub and the fingerprint + randomart report. The key itself is
 * core/keygen.ts generateKey + saveKeyPair. Refused with 255: dsa and FIDO (-sk) types, and KDF settings
 * sshpk cannot write (-a other than 16 rounds, -Z other than aes256-ctr, for an encrypted key).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateKey, saveKeyPair, type KeySpec, type PrivateFormat } from '../core/keygen.js';
import { fingerprint, randomart, type FingerprintHash } from '../core/fingerprint.js';
import { base64Fingerprint, type DigestName } from '../core/fingerprint-extra.js';
import { userAtHost } from '../home.js';
import { identityFile, pwHome, strerror } from './files.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, logLine, unsupported } from './usage.js';

/** sshkey_type_from_name(): short names and the key type names ssh-keygen -t accepts. */
const TYPES: ReadonlyMap<string, KeySpec['kind'] | 'dsa' | 'sk'> = new Map([
  ['rsa', 'rsa'],
  ['ssh-rsa', 'rsa'],
  ['ecdsa', 'ecdsa'],
  ['ecdsa-sha2-nistp256', 'ecdsa'],
  ['ecdsa-sha2-nistp384', 'ecdsa'],
  ['ecdsa-sha2-nistp521', 'ecdsa'],
  ['ed25519', 'ed25519'],
  ['ssh-ed25519', 'ed25519'],
  ['dsa', 'dsa'],
  ['ssh-dss', 'dsa'],
  ['ecdsa-sk', 'sk'],
  ['ed25519-sk', 'sk'],
  ['sk-ecdsa-sha2-nistp256@openssh.com', 'sk'],
  ['sk-ssh-ed25519@openssh.com', 'sk'],
]);

/** type_bits_valid(): the spec ssh-keygen would generate, or its fatal() (exit 255). */
export function generationSpec(typeName: string, bitsArg: string | undefined): KeySpec {
  const kind = TYPES.get(typeName);
  if (kind === undefined) throw new KgFatal(`unknown key type ${typeName}`);
  if (kind === 'dsa') throw unsupported('-t dsa (DSA keys)');
  if (kind === 'sk') throw unsupported(`-t ${typeName} (FIDO authenticator keys)`);
  let bits = bitsArg === undefined ? 0 : Number(bitsArg.trim()); // -b was range-checked by main's option loop
  if (kind === 'rsa') {
    bits ||= 3072;
    if (bits < 1024) throw new KgFatal('Invalid RSA key length: minimum is 1024 bits');
    if (bits > 16384) throw new KgFatal('Invalid RSA key length: maximum is 16384 bits');
    return { kind, bits };
  }
  if (kind === 'ecdsa') {
    const named = /nistp(256|384|521)$/.exec(typeName);
    bits ||= named ? Number(named[1]) : 256;
    if (bits !== 256 && bits !== 384 && bits !== 521) throw new KgFatal('Invalid ECDSA key length: valid lengths are 256, 384 or 521 bits');
    return { kind, bits };
  }
  return { kind, bits: 256 };
}

/** -m for the private key file (convert_format also sets private_key_format in ssh-keygen). */
function privateFormatOf(a: KgArgs): PrivateFormat {
  const m = lastArg(a, 'm')?.toLowerCase();
  return m === 'pem' ? 'pem' : m === 'pkcs8' ? 'pkcs8' : 'openssh';
}

/** hostfile_create_user_ssh_dir(): ~/.ssh (0700) when the key goes straight into it and it is missing. */
function createUserSshDir(file: string, notify: boolean, io: KgIO): void {
  const slash = file.lastIndexOf('/');
  if (slash < 0) return;
  const dotssh = join(pwHome(), '.ssh');
  if (dotssh.length > slash || file.slice(0, slash) !== dotssh.slice(0, slash)) return;
  if (existsSync(dotssh)) return;
  try {
    mkdirSync(dotssh, 0o700);
    if (notify) io.stderr(logLine(`Created directory '${dotssh}'.`));
  } catch (err) {
    io.stderr(logLine(`Could not create directory '${dotssh}' (${strerror(err)}).`));
  }
}

/** private_key_passphrase(): -N, else -P, else asked twice until both agree. */
async function newPassphrase(a: KgArgs, io: KgIO): Promise<string> {
  const given = lastArg(a, 'N') ?? lastArg(a, 'P');
  if (given !== undefined) return given;
  for (;;) {
    const p1 = await io.readSecret('Enter passphrase (empty for no passphrase): ');
    const p2 = await io.readSecret('Enter same passphrase again: ');
    if (p1 === p2) return p1;
    io.stdout('Passphrases do not match.  Try again.\n');
  }
}

/** The -E digest for the report (sha256 by default). */
function reportFingerprint(blob: Buffer, a: KgArgs): { fp: string; alg: DigestName } {
  const alg = (lastArg(a, 'E') ?? 'sha256').toLowerCase() as DigestName;
  const fp = alg === 'md5' || alg === 'sha256' ? fingerprint(blob, alg) : base64Fingerprint(blob, alg);
  return { fp, alg };
}

/** -a/-Z values sshpk cannot write for an encrypted OpenSSH key (it writes bcrypt 16 rounds, aes256-ctr). */
function refuseKdf(a: KgArgs, written: PrivateFormat): void {
  if (written !== 'openssh') return;
  const rounds = lastArg(a, 'a');
  if (rounds !== undefined && Number(rounds) !== 16) throw unsupported(`-a ${rounds} (only 16 KDF rounds are written)`);
  const cipher = lastArg(a, 'Z');
  if (cipher !== undefined && cipher !== 'aes256-ctr') throw unsupported(`-Z ${cipher} (only aes256-ctr is written)`);
}

/** Generation (the default mode). */
export async function runGenerate(a: KgArgs, io: KgIO): Promise<number> {
  const typeName = lastArg(a, 't') ?? 'rsa';
  const spec = generationSpec(typeName, lastArg(a, 'b'));
  const quiet = a.flags.has('q');
  const given = lastArg(a, 'N') ?? lastArg(a, 'P');
  if (given) refuseKdf(a, spec.kind === 'ed25519' ? 'openssh' : privateFormatOf(a)); // before any output
  if (!quiet) io.stdout(`Generating public/private ${typeName} key pair.\n`);
  const format = privateFormatOf(a);
  const file = await identityFile(a, io, 'Enter file in which to save the key');
  createUserSshDir(file, !quiet, io);
  if (existsSync(file)) {
    io.stdout(`${file} already exists.\n`);
    let answer: string;
    try {
      answer = await io.readLine('Overwrite (y/n)? ');
    } catch {
      return 1;
    }
    if (answer[0] !== 'y' && answer[0] !== 'Y') return 1;
  }
  const pass = await newPassphrase(a, io);
  const comment = lastArg(a, 'C') ?? userAtHost();
  const written = spec.kind === 'ed25519' ? 'openssh' : format;
  if (pass !== '') {
    refuseKdf(a, written);
    if (written !== 'openssh' && Buffer.byteLength(pass) < 5) {
      io.stderr(logLine(`Saving key "${file}" failed: passphrase is too short (minimum five characters)`));
      return 1;
    }
  }
  const dir = dirname(file);
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    io.stderr(logLine(`Saving key "${file}" failed: ${strerror(err)}`));
    return 1;
  }
  // ssh-keygen makes the key before asking for the file; made here, once comment and passphrase are
  // known, the output is the same (only the wait moves)
  const key = generateKey(spec, { comment, passphrase: pass, format });
  saveKeyPair(file, key, true);
  if (quiet) return 0;
  const { fp, alg } = reportFingerprint(key.publicKey.blob, a);
  io.stdout(
    `Your identification has been saved in ${file}\n` +
      `Your public key has been saved in ${file}.pub\n` +
      'The key fingerprint is:\n' +
      `${fp} ${comment}\n` +
      "The key's randomart image is:\n" +
      `${randomart(key.publicKey.blob, key.info, alg as FingerprintHash)}\n`,
  );
  return 0;
}


/**
 * What every sshkit-keygen mode does with its `-f` file, as ssh-keygen.c does: ask_filename() when -f is
 * missing (prompt on stdout, a line from stdin, exit 1 at EOF), strerror() wording for a missing file,
 * and load_identity(): authfile.c's permission check ("UNPROTECTED PRIVATE KEY FILE!"), the empty
 * passphrase first, then -P or "Enter passphrase: ", and `Load key "F": …` (ssherr.c wording) on failure.
 * Keys are decoded by core/private-key.ts only.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { isPrivateKeyText, loadPrivateKey, PassphraseError, plainOpensshKey } from '../core/private-key.js';
import type { PlainPrivateKey } from '../core/openssh-key.js';
import { SshkitError } from '../core/errors.js';
import { keyFileTooOpen } from '../core/key-file.js';
import { KgFatal, logLine } from './usage.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';

/** strerror(3) of the errno values a key file read meets (glibc wording). */
const STRERROR: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'No such file or directory'],
  ['EACCES', 'Permission denied'],
  ['EISDIR', 'Is a directory'],
  ['ENOTDIR', 'Not a directory'],
  ['ELOOP', 'Too many levels of symbolic links'],
  ['ENAMETOOLONG', 'File name too long'],
  ['EPERM', 'Operation not permitted'],
  ['EROFS', 'Read-only file system'],
  ['EEXIST', 'File exists'],
  ['ENOSPC', 'No space left on device'],
]);

/** glibc's strerror for a Node fs error. */
export function strerror(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  return STRERROR.get(code) ?? (err as Error)?.message ?? String(err);
}

/** The user's home as ssh-keygen finds it (getpwuid's pw_dir, not $HOME). */
export function pwHome(): string {
  return userInfo().homedir;
}

/** ssh-keygen's default key file names by `-t` (ask_filename, pathnames.h). */
function defaultName(type: string | undefined): string {
  const t = (type ?? 'rsa').toLowerCase();
  if (t === 'dsa' || t.startsWith('ssh-dss')) return 'id_dsa';
  if (t.startsWith('ecdsa-sk') || t.startsWith('sk-ecdsa')) return 'id_ecdsa_sk';
  if (t.startsWith('ecdsa')) return 'id_ecdsa';
  if (t.startsWith('ed25519-sk') || t.startsWith('sk-ssh-ed25519')) return 'id_ed25519_sk';
  if (t.startsWith('ed25519') || t.startsWith('ssh-ed25519')) return 'id_ed25519';
  return 'id_rsa';
}

/** The default path ask_filename offers: ~/.ssh/id_TYPE. */
export function defaultIdentity(a: KgArgs): string {
  return join(pwHome(), '.ssh', defaultName(lastArg(a, 't')));
}

/** `-f`, or ssh-keygen's ask_filename(PROMPT): "PROMPT (~/.ssh/id_rsa): " on stdout, a line from stdin. */
export async function identityFile(a: KgArgs, io: KgIO, prompt = 'Enter file in which the key is'): Promise<string> {
  const f = lastArg(a, 'f');
  if (f !== undefined) return f;
  const def = defaultIdentity(a);
  let line: string;
  try {
    line = await io.readLine(`${prompt} (${def}): `);
  } catch {
    throw new KgFatal('', 1); // fgets() == NULL: exit(1), nothing more printed
  }
  return line === '' ? def : line;
}

/** stat(2) the file or fatal "PREFIX: FILE: strerror" as the modes do before reading. */
export function statOrFatal(file: string, withProgname: boolean): void {
  try {
    statSync(file);
  } catch (err) {
    throw new KgFatal(`${withProgname ? 'ssh-keygen: ' : ''}${file}: ${strerror(err)}`);
  }
}

/** authfile.c sshkey_perm_ok: our own key file readable by others is refused, with its six lines. */
function permOk(file: string, io: KgIO): boolean {
  let st;
  try {
    st = statSync(file);
  } catch {
    return true;
  }
  if (!keyFileTooOpen(st, process.getuid?.())) return true;
  const at = '@'.repeat(59);
  const lines = [
    at,
    '@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @',
    at,
    `Permissions 0${(st.mode & 0o777).toString(8).padStart(3, '0')} for '${file}' are too open.`,
    'It is required that your private key files are NOT accessible by others.',
    'This private key will be ignored.',
  ];
  io.stderr(lines.map(logLine).join(''));
  return false;
}

/** A private key read as load_identity() does; the comment is the OpenSSH key's (null for PEM/PKCS#8). */
export interface Identity {
  readonly key: ReturnType<typeof loadPrivateKey>;
  readonly comment: string | null;
  readonly text: string;
  /** The passphrase that opened it ('' for a clear key). */
  readonly passphrase: string;
}

const OPENSSH_ARMOR = /^\s*-----BEGIN OPENSSH PRIVATE KEY-----/;

/** Reads a key file's bytes or fatal `Load key "F": strerror`. */
function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new KgFatal(`Load key "${file}": ${strerror(err)}`);
  }
}

/**
 * Why sshkey_load_private refuses a file that is no key (ssherr.c wording): a broken openssh-key-v1 is
 * "invalid format"; anything else went on to OpenSSL's PEM reader, which says "error in libcrypto".
 */
export function notAKeyReason(text: string): string {
  return /-----BEGIN OPENSSH PRIVATE KEY-----/.test(text) ? 'invalid format' : 'error in libcrypto';
}

/** sshkey_load_private(file, pass): a KgFatal with ssherr.c's wording on failure; null for a wrong passphrase. */
function tryLoad(file: string, text: string, pass: string): Identity | null {
  if (!isPrivateKeyText(text)) throw new KgFatal(`Load key "${file}": ${notAKeyReason(text)}`);
  try {
    const key = loadPrivateKey(text, pass, file);
    return { key, comment: OPENSSH_ARMOR.test(text) ? (key.comment ?? '') : null, text, passphrase: pass };
  } catch (err) {
    if (err instanceof PassphraseError) return null;
    if (err instanceof SshkitError) throw new KgFatal(`Load key "${file}": ${notAKeyReason(text)}`);
    throw err;
  }
}

/** The passphrase a mode was given with -P, or asked for (read_passphrase "Enter passphrase: "). */
export async function askOldPassphrase(a: KgArgs, io: KgIO, prompt = 'Enter passphrase: '): Promise<string> {
  return lastArg(a, 'P') ?? (await io.readSecret(prompt));
}

/**
 * ssh-keygen.c load_identity(): the key with the empty passphrase, else with -P or the one asked for;
 * failures are fatal `Load key "FILE": REASON` (exit 255).
 */
export async function loadIdentity(file: string, a: KgArgs, io: KgIO): Promise<Identity> {
  if (!permOk(file, io)) throw new KgFatal(`Load key "${file}": bad permissions`);
  return loadIdentityText(file, readKey(file), a, io);
}

/**
 * load_identity() for signing (-Y sign, -s): an unencrypted ed25519/ECDSA OpenSSH key goes straight into
 * Node's crypto (private-key.ts plainOpensshKey: no sshpk, ≈ 10 ms of a cold start, issue 14), any other
 * the {@link loadIdentity} way, with its prompts and messages. Hand the key to signature.ts createSigner.
 */
export async function loadSigningIdentity(file: string, a: KgArgs, io: KgIO): Promise<Identity['key'] | PlainPrivateKey> {
  if (!permOk(file, io)) throw new KgFatal(`Load key "${file}": bad permissions`);
  const text = readKey(file);
  return plainOpensshKey(text) ?? (await loadIdentityText(file, text, a, io)).key;
}

async function loadIdentityText(file: string, text: string, a: KgArgs, io: KgIO): Promise<Identity> {
  const clear = tryLoad(file, text, '');
  if (clear) return clear;
  const pass = await askOldPassphrase(a, io);
  const got = pass === '' ? null : tryLoad(file, text, pass);
  if (!got) throw new KgFatal(`Load key "${file}": incorrect passphrase supplied to decrypt private key`);
  return got;
}

/** Runs the permission check alone (for modes that load with their own passphrase logic). */
export function checkPerms(file: string, io: KgIO, prefix = `Load key "${file}"`): void {
  if (!permOk(file, io)) throw new KgFatal(`${prefix}: bad permissions`);
}

/** Reads a file for a mode; `Load key` wording is not wanted here, so the caller names the failure. */
export function readText(file: string): string | Error {
  try {
    return readFileSync(file, 'latin1');
  } catch (err) {
    return err as Error;
  }
}

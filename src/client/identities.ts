/**
 * Which private keys exec authenticates with (SPEC "sshkit exec"; ssh(1) -i and IdentityFile): the
 * `-i` keys when given, else the default `~/.ssh/id_*` files that exist. Keys are decoded by the core
 * (private-key.ts) and sign through the core (signature.ts): ssh2 only ever sees public blobs and
 * finished signatures. Encrypted keys take `--passphrase-file`, else a prompt on the terminal (three
 * tries, as ssh); with neither, an explicit `-i` key is an error and a default key is skipped. A key
 * file others may read is refused as ssh refuses it ("UNPROTECTED PRIVATE KEY FILE"): an error for
 * `-i`, a skipped default key.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { keyFileTooOpen } from '../core/key-file.js';
import { join } from 'node:path';
import { ParseError, SshkitError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { inspectBlob } from '../core/key.js';
import { isEncrypted, loadSigningKey, PassphraseError } from '../core/private-key.js';
import { createSigner, type Signer } from '../core/signature.js';
import { execError } from './host-keys.js';
import { haveTerminal, readPassphrase } from './prompt.js';

/** A usable key: where it came from and the core signer. */
export interface Identity {
  readonly path: string;
  readonly signer: Signer;
}

/** Where exec finds identities: -i files (else ~/.ssh/id_*), a passphrase file, an ssh-agent socket. */
export interface IdentityOptions {
  /** `-i` files; empty means the default files. */
  keys: string[];
  /** First line of this file is the passphrase for every encrypted key. */
  passphraseFile?: string;
  home: string;
  warn: (line: string) => void;
}

/** Default identity files, in ssh 9.2's order of the types sshkit can sign with. */
export function defaultKeyFiles(home: string): string[] {
  return ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((n) => join(home, '.ssh', n));
}

/** One line for messages: `PATH (ED25519 SHA256:…)`. */
export function describeIdentity(id: Identity): string {
  return `${id.path} (${inspectBlob(id.signer.publicKey.blob).label} ${fingerprint(id.signer.publicKey.blob)})`;
}

function readPassphraseFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n')[0].replace(/\r$/, '');
  } catch (err) {
    throw execError(`${path}: cannot read the passphrase file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

async function loadOne(path: string, text: string, opts: IdentityOptions, explicit: boolean): Promise<Identity | null> {
  let encrypted: boolean;
  try {
    encrypted = isEncrypted(text);
  } catch (err) {
    if (err instanceof ParseError) throw execError(`${path}: ${err.message}`);
    throw err;
  }
  const sign = (pass?: string) => ({ path, signer: createSigner(loadSigningKey(text, pass, path)) });
  try {
    if (!encrypted) return sign();
    if (opts.passphraseFile !== undefined) return sign(readPassphraseFile(opts.passphraseFile));
    if (!haveTerminal()) {
      if (explicit) throw execError(`${path}: encrypted, a passphrase is required (--passphrase-file, or run on a terminal)`);
      opts.warn(`sshkit: ${path}: encrypted and no passphrase available; key skipped`);
      return null;
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const pass = await readPassphrase(`Enter passphrase for key '${path}': `);
      if (pass === null || pass === '') break;
      try {
        return sign(pass);
      } catch (err) {
        if (!(err instanceof PassphraseError)) throw err;
        opts.warn(`sshkit: ${path}: incorrect passphrase`);
      }
    }
    if (explicit) throw execError(`${path}: no correct passphrase given`);
    return null;
  } catch (err) {
    if (err instanceof ParseError || err instanceof PassphraseError) throw execError(err.message);
    throw err;
  }
}

/**
 * ssh's refusal of a private key file that others may read (authfile.c sshkey_perm_ok): owned by us
 * and any group/other permission bit set. Its warning, on one line; the key is not used.
 */
function unprotected(path: string, st: Stats): string | null {
  if (!keyFileTooOpen(st, process.getuid?.())) return null;
  const mode = `0${(st.mode & 0o777).toString(8).padStart(3, '0')}`;
  return `WARNING: UNPROTECTED PRIVATE KEY FILE! Permissions ${mode} for '${path}' are too open. It is required that your private key files are NOT accessible by others.`;
}

/**
 * The key file's text, read from the descriptor whose mode was checked (no swap between the two).
 * Like ssh (authfile.c sshkey_load_file), a pipe is accepted too (`-i <(vault read …)`): the open waits
 * for a named FIFO's writer, as ssh's does, and the same descriptor is read until the writer closes it.
 * (Opening it a second time to read lost a writer that had written and closed in between: that open
 * then waited for another writer for ever — seen once in a CI run of test/exec-hostile.test.ts.)
 */
function readKeyFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) throw execError(`${path}: cannot read the identity file: not a regular file`);
    const refusal = unprotected(path, st);
    if (refusal) throw execError(refusal);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Loads the identities exec offers, in order. */
export async function loadIdentities(opts: IdentityOptions): Promise<Identity[]> {
  const explicit = opts.keys.length > 0;
  const out: Identity[] = [];
  for (const path of explicit ? opts.keys : defaultKeyFiles(opts.home)) {
    let text: string;
    try {
      text = readKeyFile(path);
    } catch (err) {
      if (err instanceof SshkitError) {
        if (explicit) throw err;
        opts.warn(`sshkit: ${err.message}; key skipped`);
        continue;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (!explicit && code === 'ENOENT') continue;
      throw execError(`${path}: cannot read the identity file: ${code === 'ENOENT' ? 'No such file or directory' : code ?? String(err)}`);
    }
    try {
      const id = await loadOne(path, text, opts, explicit);
      if (id) out.push(id);
    } catch (err) {
      // A default key sshkit cannot use is skipped with a note; a key the user named is an error.
      if (explicit) throw err;
      opts.warn(`sshkit: ${(err as Error).message}; key skipped`);
    }
  }
  return out;
}

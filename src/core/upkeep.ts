/**
 * Key upkeep on an existing private key, as `ssh-keygen -p` (new passphrase) and `ssh-keygen -c` (new
 * comment) do (ssh-keygen.c do_change_passphrase, do_change_comment, OpenSSH 9.2): the key is decoded
 * with the one loader (private-key.ts loadPrivateKey), written again in the OpenSSH format ssh-keygen
 * 9.2 saves (openssh-key-v1, bcrypt KDF, aes256-ctr, as keygen.ts), and replaced atomically
 * (atomic-write.ts). Every check happens before the first write, so on any error the old files keep
 * their bytes. Deliberate difference: ssh-keygen rewrites the file in place (O_TRUNC); sshkit renames a
 * complete 0600 temp file over it, so a crash never leaves half a key.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { keyFileTooOpen } from './key-file.js';
import { bad, fsError } from './errors.js';
import { publicKeyPath } from './keygen.js';
import { keyFromBlob, parsePublicKeyText, type PublicKey } from './key.js';
import { isEncrypted, isPrivateKeyText, loadPrivateKey, publicFromPrivate } from './private-key.js';
import { writeFilesAtomic } from './atomic-write.js';

const OPENSSH_ARMOR = /^\s*-----BEGIN OPENSSH PRIVATE KEY-----/;

function readFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw fsError(path, err);
  }
}

/**
 * sshkey_perm_ok (authfile.c): a private key of ours that others may read is refused before it is
 * read, as `ssh-keygen -p/-c` refuse it ("UNPROTECTED PRIVATE KEY FILE!"), so no rewrite blesses it.
 */
function refuseOpenPermissions(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw fsError(file, err);
  }
  if (keyFileTooOpen(st, process.getuid?.())) {
    throw bad(`${file}: UNPROTECTED PRIVATE KEY FILE: permissions 0${(st.mode & 0o777).toString(8)} are too open (chmod 600)`);
  }
}

/**
 * Where to write `file`: through a symlink to its target, as ssh-keygen's open(2) does (a rename over
 * the link itself would replace it with a plain file); a missing file (FILE.pub) is written as named.
 */
function writeTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/** openssh-key-v1 text of a decoded key, encrypted when `pass` is non-empty (ssh-keygen 9.2's defaults). */
function opensshText(key: ReturnType<typeof loadPrivateKey>, pass: Buffer): string {
  return key.toBuffer('openssh', pass.length > 0 ? { passphrase: pass as any, cipher: 'aes256-ctr' } : {}).toString('utf8');
}

/** What a passphrase or comment change did, for the command's report. */
export interface UpkeepResult {
  readonly file: string;
  readonly publicFile?: string;
  readonly key: PublicKey;
  /** The comment before the change (`ssh-keygen -c`'s "Old comment:"); null for PEM/PKCS#8, which hold none. */
  readonly oldComment: string | null;
  readonly encrypted: boolean;
}

/**
 * `ssh-keygen -p`: decrypts FILE with `oldPass` (ignored for an unencrypted key, as ssh-keygen tries
 * the empty passphrase first) and writes it back under `newPass` ('' = unencrypted), mode 0600. PEM
 * and PKCS#8 keys come back in OpenSSH format, as ssh-keygen 9.2 writes them. FILE.pub is not touched.
 */
export function changePassphrase(file: string, oldPass: Buffer, newPass: Buffer): UpkeepResult {
  refuseOpenPermissions(file);
  const text = readFile(file).toString('utf8');
  const key = loadPrivateKey(text, oldPass, file);
  const out = opensshText(key, newPass);
  writeFilesAtomic([{ path: writeTarget(file), data: out, mode: 0o600 }], true);
  const pub = keyFromBlob(Buffer.from(key.toPublic().toBuffer('rfc4253')), key.comment ?? '');
  const oldComment = OPENSSH_ARMOR.test(text) ? (key.comment ?? '') : null;
  return { file, key: pub, oldComment, encrypted: newPass.length > 0 };
}

/**
 * `ssh-keygen -c`: sets the comment of FILE (re-encrypted under the same passphrase) and writes FILE.pub
 * as `type base64 comment\n` — with the blank before an empty comment, byte for byte as ssh-keygen
 * (`fprintf(f, " %s\n", comment)`). Both files are staged before either is replaced.
 */
export function changeComment(file: string, pass: Buffer, comment: string): UpkeepResult {
  if (/[\r\n\0]/.test(comment)) throw bad('-C: a comment cannot hold a line break or NUL');
  refuseOpenPermissions(file);
  const text = readFile(file).toString('utf8');
  const key = loadPrivateKey(text, pass, file);
  // PEM and PKCS#8 carry no comment: ssh-keygen says "No existing comment" (sshkey_load_private gives NULL)
  const oldComment = OPENSSH_ARMOR.test(text) ? (key.comment ?? '') : null;
  key.comment = comment;
  // an unencrypted key stays unencrypted whatever -P says (loadPrivateKey ignored it too)
  const keep = isEncrypted(text) ? pass : Buffer.alloc(0);
  const out = opensshText(key, keep);
  const blob = Buffer.from(key.toPublic().toBuffer('rfc4253'));
  const pubLine = `${keyFromBlob(blob).type} ${blob.toString('base64')} ${comment}\n`;
  const publicFile = publicKeyPath(file);
  writeFilesAtomic(
    [
      { path: writeTarget(file), data: out, mode: 0o600 },
      { path: writeTarget(publicFile), data: pubLine, mode: 0o644 },
    ],
    true,
  );
  return { file, publicFile, key: keyFromBlob(blob, comment), oldComment, encrypted: keep.length > 0 };
}

/**
 * The public key `ssh-keygen -e -f FILE` converts (sshkey_load_public): FILE as a public key line, else
 * the clear public part of a private key, else FILE.pub next to it.
 */
export function publicKeyOfFile(file: string, data: Buffer): PublicKey {
  const text = data.toString('latin1');
  if (!isPrivateKeyText(text)) return parsePublicKeyText(text);
  const pub = publicFromPrivate(text);
  if (pub) return pub;
  const p = publicKeyPath(file);
  return parsePublicKeyText(readFile(p).toString('latin1'));
}

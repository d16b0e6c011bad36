/**
 * `sshkit-keygen -p [-P old] [-N new] [-f file]` and `-c [-P pass] [-C comment] [-f file]`
 * (ssh-keygen.c do_change_passphrase, do_change_comment, 9.2): the prompts, messages and exits of
 * ssh-keygen around core/upkeep.ts changePassphrase / changeComment, which rewrite the key in the
 * OpenSSH format ssh-keygen 9.2 writes. Refused with 255: -m PEM/PKCS8 (the core writes OpenSSH only)
 * and -a/-Z values sshpk cannot write.
 */
import { readFileSync } from 'node:fs';
import { changeComment, changePassphrase } from '../core/upkeep.js';
import { isPrivateKeyText, loadPrivateKey, PassphraseError } from '../core/private-key.js';
import { SshkitError } from '../core/errors.js';
import { checkPerms, identityFile, notAKeyReason, statOrFatal, strerror } from './files.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, logLine, unsupported } from './usage.js';

const OPENSSH_ARMOR = /^\s*-----BEGIN OPENSSH PRIVATE KEY-----/;

/** sshkey_load_private(file, pass): the comment (null for PEM/PKCS#8), or why it failed (ssherr wording). */
function load(file: string, pass: string): { comment: string | null } | { error: string; wrong: boolean } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { error: strerror(err), wrong: false };
  }
  if (!isPrivateKeyText(text)) return { error: notAKeyReason(text), wrong: false };
  try {
    const k = loadPrivateKey(text, pass, file);
    return { comment: OPENSSH_ARMOR.test(text) ? (k.comment ?? '') : null };
  } catch (err) {
    if (err instanceof PassphraseError) return { error: 'incorrect passphrase supplied to decrypt private key', wrong: true };
    if (err instanceof SshkitError) return { error: notAKeyReason(text), wrong: false };
    throw err;
  }
}

/**
 * What only ssh-keygen's own writer can do: another private format, KDF rounds or cipher. Checked before
 * anything is printed; -a/-Z only matter for an encrypted result (`-p -N ''` writes no KDF at all).
 */
function refuseWriterOptions(a: KgArgs): void {
  const m = lastArg(a, 'm')?.toLowerCase();
  if (m === 'pem' || m === 'pkcs8') throw unsupported(`-m ${lastArg(a, 'm')} with -p/-c (keys are rewritten in OpenSSH format)`);
  if (a.flags.has('p') && lastArg(a, 'N') === '') return;
  const rounds = lastArg(a, 'a');
  if (rounds !== undefined && Number(rounds) !== 16) throw unsupported(`-a ${rounds} (only 16 KDF rounds are written)`);
  const cipher = lastArg(a, 'Z');
  if (cipher !== undefined && cipher !== 'aes256-ctr') throw unsupported(`-Z ${cipher} (only aes256-ctr is written)`);
}

/** Opens the key as both modes do: the empty passphrase, then `pass()`; fatal `PREFIX: why` on failure. */
async function open(file: string, io: KgIO, prefix: string, pass: () => Promise<string>): Promise<{ comment: string | null; pass: string }> {
  checkPerms(file, io, prefix);
  const first = load(file, '');
  if ('comment' in first) return { comment: first.comment, pass: '' };
  if (!first.wrong) throw new KgFatal(`${prefix}: ${first.error}`);
  const p = await pass();
  const second = p === '' ? first : load(file, p);
  if ('comment' in second) return { comment: second.comment, pass: p };
  throw new KgFatal(`${prefix}: ${second.error}`);
}

/** `-p` (do_change_passphrase). */
export async function runPassphrase(a: KgArgs, io: KgIO): Promise<number> {
  refuseWriterOptions(a);
  const file = await identityFile(a, io);
  statOrFatal(file, false);
  const old = await open(file, io, `Failed to load key ${file}`, async () => lastArg(a, 'P') ?? io.readSecret('Enter old passphrase: '));
  if (old.comment !== null) io.stdout(`Key has comment '${old.comment}'\n`);
  let pass = lastArg(a, 'N');
  if (pass === undefined) {
    const p1 = await io.readSecret('Enter new passphrase (empty for no passphrase): ');
    const p2 = await io.readSecret('Enter same passphrase again: ');
    if (p1 !== p2) {
      io.stdout('Pass phrases do not match.  Try again.\n');
      return 1;
    }
    pass = p1;
  }
  try {
    changePassphrase(file, Buffer.from(old.pass), Buffer.from(pass));
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    io.stderr(logLine(`Saving key "${file}" failed: ${err.message}`));
    return 1;
  }
  io.stdout('Your identification has been saved with the new passphrase.\n');
  return 0;
}

/** `-c` (do_change_comment). */
export async function runComment(a: KgArgs, io: KgIO): Promise<number> {
  refuseWriterOptions(a);
  const file = await identityFile(a, io);
  statOrFatal(file, false);
  const given = async () => lastArg(a, 'P') ?? lastArg(a, 'N') ?? io.readSecret('Enter passphrase: ');
  const cur = await open(file, io, `Cannot load private key "${file}"`, given);
  io.stdout(cur.comment !== null ? `Old comment: ${cur.comment}\n` : 'No existing comment\n');
  let comment = lastArg(a, 'C');
  if (comment === undefined) {
    try {
      comment = await io.readLine('New comment: ');
    } catch {
      return 1;
    }
  }
  if (cur.comment !== null && cur.comment === comment) {
    io.stdout('No change to comment\n');
    return 0;
  }
  try {
    changeComment(file, Buffer.from(cur.pass), comment);
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    io.stderr(logLine(`Saving key "${file}" failed: ${err.message}`));
    return 1;
  }
  io.stdout(comment.length > 0 ? `Comment '${comment}' applied\n` : 'Comment removed\n');
  return 0;
}

/**
 * `sshkit-keygen -Y verify`, `-Y check-novalidate`, `-Y find-principals`, `-Y match-principals` —
 * ssh-keygen.c sig_verify, sig_find_principals, sig_match_principals, with their stdout/stderr lines
 * and exit statuses (a negative ssh_err code as the status: -46 KEY_NOT_FOUND is 210, -24 SYSTEM_ERROR
 * 232, -4 INVALID_FORMAT 252, -10 INVALID_ARGUMENT 246). The decisions are sshkit's core: sshsig.ts
 * verifySshsig, revocation.ts, allowed-signers.ts checkAllowedSigners / parseAllowedSignersLine.
 */
import { checkAllowedSigners, parseAllowedSignersLine, type Grant, type SignerQuery } from '../core/allowed-signers.js';
import { ParseError } from '../core/errors.js';
import { formatPublicKey, keyFromBlob } from '../core/key.js';
import { isRevoked, parseRevokedKeys } from '../core/revocation.js';
import { verifySshsig } from '../core/sshsig.js';
import { FATAL, hashStream, kgLog, loadFile, sigOpts } from './sig-common.js';
import { readSigFile } from './sig-read.js';
import type { KgArgs, KgIO } from './types.js';

/** ssh_err codes used as exit statuses (ssherr.h), as `return sig_match_principals(...)` from main. */
export const ERR_STATUS = { KEY_NOT_FOUND: 256 - 46, SYSTEM_ERROR: 256 - 24, INVALID_FORMAT: 256 - 4, INVALID_ARGUMENT: 256 - 10 } as const;

/** The allowed_signers text, or null after sshsig.c's "Unable to open allowed keys file" line. */
function allowedText(io: KgIO, path: string, onError?: (why: string) => void): string | null {
  const f = loadFile(path);
  if ('error' in f) {
    kgLog(io, `Unable to open allowed keys file "${path}": ${f.error}`);
    onError?.(f.error);
    return null;
  }
  return f.data.toString('latin1');
}

/**
 * checkAllowedSigners with ssh-keygen's log: every line's refusal is logged as it is met, also the
 * lines before the one that grants (the core returns those reasons only on a refusal, so the lines
 * before a grant are asked again on their own). With no principal (find-principals), a blank line
 * that ends in a newline is OpenSSH's "missing key" too (parse_principals_key_and_options skips only
 * an empty or `#` line: `\n` is neither), which the core, rightly for a decision, just skips.
 */
function allowedSigners(io: KgIO, path: string, text: string, q: SignerQuery): Grant | null {
  const r = checkAllowedSigners(text, q);
  const lines = text.split('\n');
  const before = r.ok ? checkAllowedSigners(lines.slice(0, r.grant.line - 1).join('\n') + '\n', q) : r;
  const reasons = before.ok ? [] : [...before.reasons];
  if (q.principal === undefined) {
    const last = r.ok ? r.grant.line - 1 : lines.length - 1;
    for (let n = 0; n < last; n++) if (/^[ \t]*(\r.*)?$/s.test(lines[n])) reasons.push({ line: n + 1, reason: 'missing key' });
    reasons.sort((x, y) => x.line - y.line);
  }
  for (const x of reasons) kgLog(io, `${path}:${x.line}: ${x.reason}`);
  return r.ok ? r.grant : null;
}

/** The checks of sig_verify after the signature parsed; true when all pass (errors already logged). */
async function verifyChecks(io: KgIO, read: NonNullable<ReturnType<typeof readSigFile>>, namespace: string, principal: string | undefined, allowed: string | undefined, revoked: string | undefined, now: number): Promise<boolean> {
  const { sig } = read;
  // sshsig_verify_fd hashes stdin with the signature's algorithm, then sshsig_wrap_verify checks
  const digest = await hashStream(io.stdin, sig.hashAlgorithm);
  const c = verifySshsig(sig, digest, namespace);
  if (!c.ok) {
    kgLog(io, c.reason === 'namespace does not match' ? "Couldn't verify signature: namespace does not match" : `Signature verification failed: ${c.reason}`);
    return false;
  }
  if (revoked !== undefined) {
    // sshkey_check_revoked: a KRL, else a key list; a file that cannot be read fails closed, silently
    const f = loadFile(revoked);
    if ('error' in f) return false;
    let list;
    try {
      list = parseRevokedKeys(f.data);
    } catch (err) {
      if (err instanceof ParseError) return false;
      throw err;
    }
    if (isRevoked(list, sig.publicKey) || list.errors.length > 0) return false;
  }
  if (allowed === undefined) return true;
  const text = allowedText(io, allowed);
  if (text === null) return false;
  return allowedSigners(io, allowed, text, { key: sig.publicKey, principal, namespace, now }) !== null;
}

/**
 * sig_verify: `-Y verify` (principal and allowed_signers given) or `-Y check-novalidate` (neither):
 * `Good "NS" signature [for ID] with TYPE key FP` or `Could not verify signature.` on stdout;
 * `-O print-pubkey` adds the signer's key line. Exit 0, or 255 (ret -1).
 */
export async function sigVerify(args: KgArgs, io: KgIO, sigPath: string, namespace: string, principal?: string, allowed?: string, revoked?: string): Promise<number> {
  const quiet = args.flags.has('q');
  let ok = false;
  let read: ReturnType<typeof readSigFile> = null;
  const opts = sigOpts(args, io, { verifyTime: true, printPubkey: true });
  if (opts) {
    read = readSigFile(io, sigPath, 'sig_verify');
    if (read) ok = await verifyChecks(io, read, namespace, principal, allowed, revoked, opts.verifyTime);
  }
  if (!quiet) {
    if (ok && read) {
      const who = principal === undefined ? '' : ` for ${principal}`;
      io.stdout(`Good "${namespace}" signature${who} with ${read.signer.label} key ${read.signer.fingerprint}\n`);
    } else io.stdout('Could not verify signature.\n');
  }
  if (ok && read && opts?.printPubkey) {
    const k = keyFromBlob(read.sig.publicKey);
    io.stdout(`${formatPublicKey({ type: k.type, blob: k.blob, comment: '' })}\n`);
  }
  return ok ? 0 : FATAL;
}

/** sig_find_principals: the principals of the first line allowing the signature's key, one a line. */
export async function sigFindPrincipals(args: KgArgs, io: KgIO, sigPath: string, allowed: string): Promise<number> {
  const opts = sigOpts(args, io, { verifyTime: true });
  let principals: string[] | null = null;
  if (opts) {
    const read = readSigFile(io, sigPath, 'sig_find_principals');
    const text = read ? allowedText(io, allowed, (why) => kgLog(io, `sig_find_principals: sshsig_find_principal: ${why}`)) : null;
    if (read && text !== null) {
      principals = allowedSigners(io, allowed, text, { key: read.sig.publicKey, now: opts.verifyTime })?.principals ?? null;
    }
  }
  if (principals === null) {
    io.stderr('No principal matched.\n');
    return FATAL;
  }
  // strsep on "," stopping at the first empty field, puts() each
  for (const p of principals) {
    if (p === '') break;
    io.stdout(`${p}\n`);
  }
  return 0;
}

/** sig_match_principals: every line whose principals match ID, its principals field printed as written. */
export async function sigMatchPrincipals(args: KgArgs, io: KgIO, allowed: string, principal: string): Promise<number> {
  if (!sigOpts(args, io, {})) return ERR_STATUS.INVALID_ARGUMENT;
  const text = allowedText(io, allowed);
  if (text === null) {
    io.stderr('No principal matched.\n');
    return ERR_STATUS.SYSTEM_ERROR;
  }
  const found: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    if (n === lines.length - 1 && lines[n] === '') break;
    try {
      const s = parseAllowedSignersLine(n < lines.length - 1 ? `${lines[n]}\n` : lines[n], n + 1, principal);
      if (s) found.push(s.principals);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      // sshsig_match_principals stops at an unparsable matching line and fails with its error
      kgLog(io, `${allowed}:${n + 1}: ${err.message}`);
      io.stderr('No principal matched.\n');
      return ERR_STATUS.INVALID_FORMAT;
    }
  }
  if (found.length === 0) {
    io.stderr('No principal matched.\n');
    return ERR_STATUS.KEY_NOT_FOUND;
  }
  for (const p of found) io.stdout(`${p}\n`);
  return 0;
}

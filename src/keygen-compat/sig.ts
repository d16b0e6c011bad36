/**
 * `sshkit-keygen -Y sign|verify|find-principals|check-novalidate|match-principals` (issue 12): the `-Y`
 * block of ssh-keygen.c main() — the operation chosen by prefix (strncmp), each one's "Too few
 * arguments" checks (exit 1) in OpenSSH's order and words — handing over to sig-sign.ts and
 * sig-verify.ts. `-n` is the namespace, `-s` the signature file, `-f` the key or allowed_signers file,
 * `-I` the principal, `-r` the revocation file, as main() maps them.
 */
import { kgLog } from './sig-common.js';
import { sigSign } from './sig-sign.js';
import { sigFindPrincipals, sigMatchPrincipals, sigVerify } from './sig-verify.js';
import { KgUsage } from './usage.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';

/** ssh-keygen's `error("Too few arguments for …"); exit(1);`. */
function tooFew(io: KgIO, what: string): number {
  kgLog(io, what);
  return 1;
}

/** ssh-keygen's `-Y` modes (ssh-keygen.c sig_sign/sig_verify/sig_find_principals/sig_match_principals). */
export async function runY(args: KgArgs, io: KgIO): Promise<number> {
  const op = lastArg(args, 'Y') ?? '';
  const keyFile = lastArg(args, 'f');
  const sigFile = lastArg(args, 's');
  const namespace = lastArg(args, 'n');
  const id = lastArg(args, 'I');
  const noNamespace = namespace === undefined || namespace === '';
  if (op.startsWith('find-principals')) {
    if (sigFile === undefined) return tooFew(io, 'Too few arguments for find-principals:missing signature file');
    if (keyFile === undefined) return tooFew(io, 'Too few arguments for find-principals:missing allowed keys file');
    return sigFindPrincipals(args, io, sigFile, keyFile);
  }
  if (op.startsWith('match-principals')) {
    if (keyFile === undefined) return tooFew(io, 'Too few arguments for match-principals:missing allowed keys file');
    if (id === undefined) return tooFew(io, 'Too few arguments for match-principals: missing principal ID');
    return sigMatchPrincipals(args, io, keyFile, id);
  }
  if (op.startsWith('sign')) {
    if (noNamespace) return tooFew(io, 'Too few arguments for sign: missing namespace');
    if (keyFile === undefined) return tooFew(io, 'Too few arguments for sign: missing key');
    return sigSign(args, io, keyFile, namespace);
  }
  if (op.startsWith('check-novalidate')) {
    if (noNamespace) return tooFew(io, 'Too few arguments for check-novalidate: missing namespace');
    if (sigFile === undefined) return tooFew(io, 'Too few arguments for check-novalidate: missing signature file');
    return sigVerify(args, io, sigFile, namespace);
  }
  if (op.startsWith('verify')) {
    if (noNamespace) return tooFew(io, 'Too few arguments for verify: missing namespace');
    if (sigFile === undefined) return tooFew(io, 'Too few arguments for verify: missing signature file');
    if (keyFile === undefined) return tooFew(io, 'Too few arguments for sign: missing allowed keys file');
    if (id === undefined) return tooFew(io, 'Too few arguments for verify: missing principal identity');
    return sigVerify(args, io, sigFile, namespace, id, keyFile, lastArg(args, 'r'));
  }
  throw new KgUsage(`Unsupported operation for -Y: "${op}"`);
}

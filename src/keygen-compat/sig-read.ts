/**
 * Reading a signature file for `sshkit-keygen -Y verify|check-novalidate|find-principals` with
 * ssh-keygen 9.2's failure lines (sshsig.c sshsig_dearmor, sshsig_parse_preamble, sshsig_peek_hashalg).
 * The parsing is core/sshsig-verify.ts readSignature (the one SSHSIG reader); this module only decides
 * which of OpenSSH's messages a refused file gets, from where the blob stops being readable.
 */
import { ParseError } from '../core/errors.js';
import { readSignature, type SignerInfo } from '../core/sshsig-verify.js';
import { dearmorSignature, type Sshsig } from '../core/sshsig.js';
import { loadFile, kgLog } from './sig-common.js';
import type { KgIO } from './types.js';

const BEGIN = '-----BEGIN SSH SIGNATURE-----\n';
const MAGIC = Buffer.from('SSHSIG', 'latin1');

/** ssh_err texts of the two sshbuf failures a truncated or wrong blob gives. */
const INCOMPLETE = 'incomplete message';
const INVALID = 'invalid format';

/** sshsig_parse_preamble: null when fine, else the ssh_err text (the "version" case logs its own line). */
function preamble(blob: Buffer): { err: string; line?: string } | null {
  if (blob.length < MAGIC.length) return { err: INCOMPLETE };
  if (!blob.subarray(0, MAGIC.length).equals(MAGIC)) return { err: INVALID };
  if (blob.length < MAGIC.length + 4) return { err: INCOMPLETE };
  const v = blob.readUInt32BE(MAGIC.length);
  if (v > 1) return { err: INVALID, line: `Signature version ${v} is larger than supported version 1` };
  return null;
}

/** sshsig_peek_hashalg's walk: four strings and a cstring after the preamble; the ssh_err text or null. */
function peekFailure(blob: Buffer): string | null {
  let pos = MAGIC.length + 4;
  for (let i = 0; i < 5; i++) {
    if (blob.length < pos + 4) return INCOMPLETE;
    const n = blob.readUInt32BE(pos);
    if (n > 0x1000000) return 'string is too large';
    if (blob.length < pos + 4 + n) return INCOMPLETE;
    if (i === 3 && blob.subarray(pos + 4, pos + 4 + n).includes(0)) return INVALID;
    pos += 4 + n;
  }
  return null;
}

/** Which -Y mode reads: the function name ssh-keygen's error_fr lines carry. */
export type Reader = 'sig_verify' | 'sig_find_principals';

/**
 * Loads, dearmors and parses `path`, logging ssh-keygen's lines for a file it refuses; null then.
 * `fn` names the caller as ssh-keygen's messages do.
 */
export function readSigFile(io: KgIO, path: string, fn: Reader): { sig: Sshsig; signer: SignerInfo } | null {
  const file = loadFile(path);
  if ('error' in file) {
    kgLog(io, `Couldn't read signature file: ${file.error}`);
    return null;
  }
  const text = file.data.toString('latin1');
  let blob: Buffer;
  try {
    blob = dearmorSignature(file.data);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    if (!text.startsWith(BEGIN)) {
      kgLog(io, "Couldn't parse signature: missing header");
      kgLog(io, `${fn}: sshsig_armor: ${file.data.length < BEGIN.length ? INCOMPLETE : INVALID}`);
    } else if (/missing footer/.test(err.message)) {
      kgLog(io, "Couldn't parse signature: missing footer");
      kgLog(io, `${fn}: sshsig_armor: ${INCOMPLETE}`);
    } else {
      kgLog(io, `sshsig_dearmor: decode base64: ${INVALID}`);
      kgLog(io, `${fn}: sshsig_armor: ${INVALID}`);
    }
    return null;
  }
  const pre = preamble(blob);
  if (pre) {
    kgLog(io, pre.line ?? `Couldn't verify signature: ${INVALID}`);
    if (fn === 'sig_find_principals') kgLog(io, `${fn}: sshsig_get_pubkey: ${pre.line ? INVALID : pre.err}`);
    return null;
  }
  try {
    return readSignature(file.data);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const peek = peekFailure(blob);
    if (fn === 'sig_find_principals') kgLog(io, `${fn}: sshsig_get_pubkey: ${peek ?? INVALID}`);
    else if (peek) kgLog(io, `sshsig_peek_hashalg: parse signature object: ${peek}`);
    else kgLog(io, `Couldn't parse signature: ${err.message.replace(/^signature: /, '')}`);
    return null;
  }
}

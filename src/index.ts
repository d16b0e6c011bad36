/**
 * `sshkit` — the pure core as a library (issue 15): public keys, fingerprints, authorized_keys and
 * SSHSIG sign/verify, OpenSSH-exact. Importing it runs nothing, opens nothing and prints nothing; no
 * sshpk/ssh2 type appears in its signatures. The server is `sshkit/server`, the client `sshkit/client`.
 */
import { sign, verify } from './api/sshsig.js';

export { describeKey, fingerprint, formatPublicKey, parseAuthorizedKeys, parsePublicKey } from './api/keys.js';
export type { AuthorizedKey, FingerprintHash, KeyInput, KeyOptions, LineError, PublicKey } from './api/keys.js';
export type { SignParams, SignedData, SshsigHash, VerifyParams, VerifyResult } from './api/sshsig.js';
export { ParseError, SshkitError, Exit, type ErrorCode, type ErrorLocation } from './core/errors.js';

/** SSHSIG (OpenSSH PROTOCOL.sshsig): `sign` as `ssh-keygen -Y sign`, `verify` as `ssh-keygen -Y verify`. */
export const sshsig: { readonly sign: typeof sign; readonly verify: typeof verify } = Object.freeze({ sign, verify });

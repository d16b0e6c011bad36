/**
 * The revocation file of `sshkit serve --revoked FILE`, as sshd's RevokedKeys (sshd_config(5);
 * auth2-pubkey.c user_key_allowed → auth_key_is_revoked → sshkey_check_revoked): a binary KRL or a
 * list of public keys, read by the one core reader (core/revocation.ts) through the server's safe
 * reader (safe-read.ts: async, no symlinks or FIFOs, size-capped), re-read only when the file's
 * (dev, inode, size, mtime, ctime) changed, as authorized.ts does. A revoked key, a certificate of
 * one, a certificate revoked by serial or key ID under its CA, or one whose CA is revoked, is refused.
 * A missing, unreadable, refused or malformed file denies every key (sshd: "Revoked keys file is
 * unreadable: refusing public key authentication"), logged once per reason: never fail open.
 * StrictModes is not applied (sshd does not apply it to RevokedKeys either).
 */
import { fingerprint } from '../core/fingerprint.js';
import { isRevoked, parseRevokedKeys, type RevokedKeys } from '../core/revocation.js';
import type { Logger } from './log.js';
import { serverOwner } from './safe-path.js';
import { readTrusted } from './safe-read.js';

/** The answer for one key: null when it may go on to authorization, else why it is refused. */
export type RevocationCheck = (keyBlob: Buffer) => string | null;

/** A revocation file kept parsed and refreshed on change. */
export class RevokedFile {
  private stamp?: string;
  private current: RevocationCheck = () => 'revocation list not loaded yet';
  private lastProblem?: string;
  private inflight?: Promise<RevocationCheck>;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** The check for the file as it is now (re-read if it changed). Never rejects. */
  load(): Promise<RevocationCheck> {
    // concurrent logins share one read; each login still sees the file as of its own read
    this.inflight ??= this.refresh()
      .catch((err: Error) => this.denyAll(`cannot read: ${err.message}`))
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async refresh(): Promise<RevocationCheck> {
    const r = await readTrusted(this.path, { owner: serverOwner(), strictModes: false, known: this.stamp, encoding: 'latin1' }, (text) => {
      try {
        return parseRevokedKeys(Buffer.from(text, 'latin1'));
      } catch (err) {
        return (err as Error).message;
      }
    });
    if (r.status === 'missing' || r.status === 'refused') return this.denyAll(r.reason);
    if (r.status === 'unchanged') return this.current;
    if (typeof r.value === 'string') return this.denyAll(`invalid: ${r.value}`, r.stamp);
    const list: RevokedKeys = r.value;
    if (list.errors.length) return this.denyAll(`line ${list.errors[0].line}: ${list.errors[0].message}`, r.stamp);
    this.stamp = r.stamp;
    this.lastProblem = undefined;
    this.log.event('revoked-keys', { file: this.path, kind: list.krl ? 'krl' : 'keys', keys: list.krl ? list.krl.keys.size : list.keys.size });
    this.current = (blob) => {
      try {
        return isRevoked(list, blob) ? `key ${fingerprint(blob)} revoked by ${this.path}` : null;
      } catch (err) {
        return `revocation check failed: ${(err as Error).message}`;
      }
    };
    return this.current;
  }

  /** Every key refused; the reason logged once until it changes. */
  private denyAll(why: string, stamp?: string): RevocationCheck {
    this.stamp = stamp;
    if (this.lastProblem !== why) this.log.event('revoked-keys-unusable', { file: this.path, reason: why, effect: 'all keys denied' });
    this.lastProblem = why;
    const reason = `revoked keys file ${this.path} unusable (${why}): all keys denied`;
    this.current = () => reason;
    return this.current;
  }
}

/**
 * `sshkit serve --trusted-user-ca-keys FILE [--authorized-principals PATH]` (issue 17): sshd's
 * TrustedUserCAKeys and AuthorizedPrincipalsFile (sshd_config(5); auth2-pubkey.c `user_cert_trusted_ca`,
 * `match_principals_file`). A user certificate signed by a CA listed in FILE (one public key a line,
 * as `sshkey_in_file`) logs in when one of its principals is the user name — or, with PATH (`%u %U %h
 * %%`; relative to the server's home, as sshd's is to the user's), when the first line of that file
 * naming one of its principals allows it (core principals-file.ts; that line's options apply). A missing
 * or unreadable PATH means no principals: refused, never a fallback to the user name.
 *
 * No second certificate checker: a trusted CA becomes one synthesized authorized_keys line,
 * `cert-authority,principals="P"[,OPTIONS] CA-KEY`, in a KeyIndex for this request, and the one core
 * checker (pubkey-auth.ts) does the rest — CA signature, user type, validity, principals, critical
 * options, source-address, from=, expiry-time, force-command. sshd's differences between the two paths
 * cancel out: TrustedUserCAKeys requires a principal list (`principals="P"` requires P to be listed),
 * and the first matching principals line decides even when its options then refuse (one line is
 * synthesized, never a second). A principal holding `"`, `\`, `,` or a control character cannot be
 * written into principals= and is refused (logged). Revoked CAs and certificates are refused before (auth-flow.ts, --revoked).
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { indexOneLine, KeyIndex } from '../core/authorized-keys.js';
import { isCertificateBlob, parseCertificate, type Certificate } from '../core/certificate.js';
import { checkTokens, percentExpand } from '../core/command-line.js';
import { bad, ParseError } from '../core/errors.js';
import { parsePublicKeyLine, type PublicKey } from '../core/key.js';
import { eachLine } from '../core/lines.js';
import { matchPrincipals } from '../core/principals-file.js';
import { safeUserForPath } from './authorized.js';
import type { Logger } from './log.js';
import { serverOwner, type Owner } from './safe-path.js';
import { logLineErrors, readTrusted } from './safe-read.js';

/** Tokens sshd expands in AuthorizedPrincipalsFile. */
export const PRINCIPALS_TOKENS = 'uUh';
/** Principals files kept read (per-user `%u` files, missing ones included). */
export const MAX_CACHED_PRINCIPALS = 1024;

interface Read<T> {
  stamp: string;
  value: T | null;
}

const EMPTY = new KeyIndex();

/** Parses a TrustedUserCAKeys file: plain public keys, one a line (options and certificates are bad lines). */
function parseCaKeys(text: string): { keys: Map<string, PublicKey>; errors: ReturnType<typeof eachLine> } {
  const keys = new Map<string, PublicKey>();
  const errors = eachLine(text, (line) => {
    const k = parsePublicKeyLine(line);
    if (isCertificateBlob(k.blob)) throw new ParseError('a certificate is not a CA key');
    keys.set(k.blob.toString('base64'), k);
  });
  return { keys, errors };
}

/**
 * The authorized_keys line standing for "CA may sign for principal P, with these options", or null when P
 * cannot be written into `principals="…"` so that it means exactly P (empty, or holding `"`, `\`, `,` — the
 * list separator — or a control character).
 */
export function caLine(principal: string, options: string, ca: PublicKey): string | null {
  if (principal === '' || /[",\\\x00-\x1f\x7f]/.test(principal)) return null;
  return `cert-authority,principals="${principal}"${options ? ',' + options : ''} ${ca.type} ${ca.blob.toString('base64')}`;
}

/** The --trusted-user-ca-keys source: `forKey()` answers with the synthesized line for a trusted certificate. */
export class TrustedCa {
  private ca: Read<Map<string, PublicKey>> = { stamp: '', value: null };
  private caLoading: Promise<Map<string, PublicKey>> | null = null;
  private readonly principals = new Map<string, Read<string>>();

  constructor(
    readonly file: string,
    readonly principalsPattern: string | undefined,
    private readonly log: Logger,
    private readonly owner: Owner = serverOwner(),
    private readonly strictModes = process.platform !== 'win32',
  ) {
    if (principalsPattern !== undefined) {
      try {
        checkTokens(principalsPattern, PRINCIPALS_TOKENS);
      } catch (err) {
        throw bad(`--authorized-principals: ${(err as Error).message}`);
      }
    }
  }

  /** The CA keys now (re-read when FILE changed; empty when missing or refused, logged). Never rejects. */
  caKeys(): Promise<Map<string, PublicKey>> {
    this.caLoading ??= readTrusted(this.file, { owner: this.owner, strictModes: this.strictModes, known: this.ca.stamp || undefined }, parseCaKeys)
      .then((r) => {
        if (r.status === 'unchanged') return this.ca.value!;
        if (r.status === 'missing' || r.status === 'refused') {
          const stamp = `${r.status}:${r.reason}`;
          if (this.ca.stamp !== stamp) this.log.event(`trusted-ca-keys-${r.status}`, { file: this.file, reason: r.reason, effect: 'no certificate trusted through it' });
          this.ca = { stamp, value: new Map() };
          return this.ca.value!;
        }
        logLineErrors(this.log, 'trusted-ca-keys-error', this.file, r.value.errors);
        this.log.event('trusted-ca-keys', { file: this.file, keys: r.value.keys.size, errors: r.value.errors.length });
        this.ca = { stamp: r.stamp, value: r.value.keys };
        return r.value.keys;
      })
      .catch(() => new Map<string, PublicKey>())
      .finally(() => (this.caLoading = null));
    return this.caLoading;
  }

  /** The user's principals file text, or null when it is missing or refused (logged once per path and reason). */
  private async principalsText(path: string): Promise<string | null> {
    const hit = this.principals.get(path);
    this.principals.delete(path);
    const r = await readTrusted(path, { owner: this.owner, strictModes: this.strictModes, known: hit?.value != null ? hit.stamp : undefined }, (t) => t);
    let entry: Read<string>;
    if (r.status === 'unchanged') entry = hit!;
    else if (r.status === 'read') {
      logLineErrors(this.log, 'authorized-principals-error', path, matchPrincipals(r.value, []).errors);
      entry = { stamp: r.stamp, value: r.value };
    } else {
      const stamp = `${r.status}:${r.reason}`;
      if (hit?.stamp !== stamp) this.log.event(`authorized-principals-${r.status}`, { file: path, reason: r.reason, effect: 'no principals: certificates refused' });
      entry = { stamp, value: null };
    }
    this.principals.set(path, entry);
    while (this.principals.size > MAX_CACHED_PRINCIPALS) this.principals.delete(this.principals.keys().next().value as string);
    return entry.value;
  }

  /** The principals file for `user` (tokens expanded, relative to the server's home), or null when the name cannot be a path. */
  principalsPath(user: string): string | null {
    if (this.principalsPattern === undefined || !safeUserForPath(user)) return null;
    const values = new Map([
      ['u', user],
      ['U', String(process.getuid?.() ?? 0)],
      ['h', homedir()],
    ]);
    const p = percentExpand(this.principalsPattern, values);
    return isAbsolute(p) ? p : join(homedir(), p);
  }

  /** A one-line index admitting this certificate through its trusted CA, or an empty one. Never rejects. */
  async forKey(user: string, keyBlob: Buffer): Promise<KeyIndex> {
    let cert: Certificate;
    try {
      if (!isCertificateBlob(keyBlob)) return EMPTY;
      cert = parseCertificate(keyBlob);
    } catch {
      return EMPTY; // a malformed certificate: the checker refuses it and logs why
    }
    try {
      const ca = (await this.caKeys()).get(cert.signatureKey.toString('base64'));
      if (!ca) return EMPTY;
      let principal = user;
      let options = '';
      let line = 0;
      if (this.principalsPattern !== undefined) {
        const path = this.principalsPath(user);
        const text = path === null ? null : await this.principalsText(path);
        if (text === null) return EMPTY;
        const m = matchPrincipals(text, cert.principals).match;
        if (!m) {
          this.log.event('authorized-principals', { file: path!, user, cert: cert.keyId, reason: 'no principal of the certificate is listed' });
          return EMPTY;
        }
        ({ principal, options, line } = m);
      }
      const text = caLine(principal, options, ca);
      if (text === null) {
        this.log.event('authorized-principals', { user, cert: cert.keyId, reason: `principal ${JSON.stringify(principal)} cannot be matched (holds " , \\ or a control character)` });
        return EMPTY;
      }
      return indexOneLine(text, line);
    } catch (err) {
      this.log.event('trusted-ca', { user, reason: (err as Error).message.slice(0, 200), effect: 'certificate refused' });
      return EMPTY;
    }
  }
}

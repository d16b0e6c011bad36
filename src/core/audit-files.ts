/**
 * `sshkit audit` over one file's text, by kind: authorized_keys (sshd(8) AUTHORIZED_KEYS FILE FORMAT),
 * known_hosts (SSH_KNOWN_HOSTS FILE FORMAT), allowed_signers (ssh-keygen(1) ALLOWED SIGNERS), public
 * keys and certificates, private keys. Lines are read by the same parsers sshd's stand-ins use
 * (authorized-keys.ts, known-hosts.ts, allowed-signers.ts, key-file.ts, private-key.ts), walked by
 * lines.ts, so a line the audit calls unparsable is one those readers skip. Pure: text in, findings out.
 */
import { ParseError } from './errors.js';
import { parseAuthorizedKeysLine, type KeyOptions } from './authorized-keys.js';
import { parseKnownHostsLine } from './known-hosts.js';
import { parseAllowedSignersLine } from './allowed-signers.js';
import { classify, parseRfc4716, scanKeyLines, type ScanResult } from './key-file.js';
import { isEncrypted, publicFromPrivate } from './private-key.js';
import { eachLine, type LineError } from './lines.js';
import { finding, type Finding } from './audit-rules.js';
import { checkEnd, checkKey, checkStart, type AuditContext, type Site } from './audit-keys.js';

/** What a file is, by name (or, for a private key, by content). */
export type FileKind = 'authorized' | 'known-hosts' | 'allowed-signers' | 'public' | 'private';

/**
 * Where a file lists keys that count for duplicates. Only listings of one `group` are compared: a key in
 * a private key file and in authorized_keys (or in authorized_keys and allowed_signers) is the normal
 * case. Kept as parallel arrays (no object per key: 100,000 keys are 100,000 strings, not objects).
 */
export interface Listings {
  readonly group: 'authorized' | 'signer' | 'private' | 'host';
  /** Each listed key's identity: its blob's bytes as a latin1 string (identity is bytes). */
  readonly ids: string[];
  readonly lines: number[];
}

/** What auditing one file gives: findings, listings (for duplicates), keys seen. */
export interface FileAudit {
  readonly findings: Finding[];
  readonly listings: Listings;
  keys: number;
}

/** A key's identity for duplicate detection: its blob's bytes (latin1: one char per byte, cheap to make). */
export const keyId = (blob: Buffer) => blob.toString('latin1');

const GROUP: ReadonlyMap<FileKind, Listings['group']> = new Map([
  ['authorized', 'authorized'],
  ['known-hosts', 'host'],
  ['allowed-signers', 'signer'],
  ['private', 'private'],
  ['public', 'private'], // never used: public key files list nothing
]);

/** The file as the walker read it: display name, text (latin1, bytes as they are), its mode bits. */
export interface FileInput {
  readonly name: string;
  readonly kind: FileKind;
  readonly text: string;
  readonly mode: number;
}

/** authorized_keys of root: a file under a `root/.ssh/` folder (by path, so a test tree can plant one). */
const ROOT_AUTHORIZED = /(^|\/)root\/\.ssh\/authorized_keys[^/]*$/;
/** sshd's host keys cannot carry a passphrase (sshd has no one to ask). */
const HOST_KEY = /(^|\/)ssh_host_[^/]*_key$/;

function list(a: FileAudit, blob: Buffer, line: number): void {
  a.listings.ids.push(keyId(blob));
  a.listings.lines.push(line);
}

function unparsable(errors: readonly LineError[], file: string, out: Finding[]): void {
  for (const e of errors) out.push(finding('unparsable', file, e.line, e.message));
}

/** A line is restricted by `from=`, `command=` or `restrict` (forwarding and pty all off). */
function restricted(o: KeyOptions): boolean {
  return o.from !== undefined || o.command !== undefined || (!o.portForwarding && !o.agentForwarding && !o.x11Forwarding && !o.pty);
}

function auditAuthorized(f: FileInput, ctx: AuditContext, a: FileAudit): void {
  const root = ROOT_AUTHORIZED.test(f.name);
  const errors = eachLine(f.text, (line, n) => {
    const ak = parseAuthorizedKeysLine(line, n);
    const site: Site = { file: f.name, line: n, trusted: true };
    a.keys++;
    checkKey(ak.key.blob, site, ctx, a.findings);
    if (ak.options.expiryTime !== undefined) checkEnd('expiry-time', ak.options.expiryTime, site, ctx, a.findings);
    if (!ak.options.certAuthority) list(a, ak.key.blob, n);
    if (root && !restricted(ak.options)) {
      a.findings.push(finding('unrestricted-root-key', f.name, n, `${ak.key.type} key for root has no from=, command= or restrict`));
    }
  });
  unparsable(errors, f.name, a.findings);
}

function auditKnownHosts(f: FileInput, ctx: AuditContext, a: FileAudit): void {
  const errors = eachLine(f.text, (line, n) => {
    const kh = parseKnownHostsLine(line, n);
    a.keys++;
    if (kh.marker === 'revoked') return; // a list of keys never to trust: their weakness is no finding
    checkKey(kh.key.blob, { file: f.name, line: n, trusted: true }, ctx, a.findings);
    if (kh.marker === null) list(a, kh.key.blob, n);
  });
  unparsable(errors, f.name, a.findings);
}

function auditAllowedSigners(f: FileInput, ctx: AuditContext, a: FileAudit): void {
  const lines = f.text.split('\n');
  const errors: LineError[] = [];
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    try {
      // the newline matters to the principals field (allowed-signers.ts principalsField)
      const s = parseAllowedSignersLine(i < lines.length - 1 ? lines[i] + '\n' : lines[i], n);
      if (!s) continue;
      const site: Site = { file: f.name, line: n, trusted: true };
      a.keys++;
      checkKey(s.key.blob, site, ctx, a.findings);
      if (s.options.validBefore !== undefined) checkEnd('valid-before', s.options.validBefore, site, ctx, a.findings);
      if (s.options.validAfter !== undefined) checkStart('valid-after', s.options.validAfter, site, ctx, a.findings);
      if (!s.options.certAuthority) list(a, s.key.blob, n);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      errors.push({ line: n, message: err.message });
    }
  }
  unparsable(errors, f.name, a.findings);
}

/** A .pub, -cert.pub or any other key-lines file: keys judged, but none of them trusted by the file. */
function auditPublic(f: FileInput, ctx: AuditContext, a: FileAudit): void {
  const kind = classify(f.text);
  let scan: ScanResult;
  if (kind === 'rfc4716') scan = parseRfc4716(f.text);
  else if (kind === 'lines') scan = scanKeyLines(f.text);
  else throw new ParseError(kind === 'private' ? 'a private key in a public key file' : 'PEM public keys are not audited');
  unparsable(scan.errors, f.name, a.findings);
  for (const k of scan.keys) {
    a.keys++;
    try {
      checkKey(k.key.blob, { file: f.name, line: k.line, trusted: false }, ctx, a.findings);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      a.findings.push(finding('unparsable', f.name, k.line, err.message));
    }
  }
}

function auditPrivate(f: FileInput, ctx: AuditContext, a: FileAudit): void {
  if ((f.mode & 0o077) !== 0) {
    const mode = (f.mode & 0o777).toString(8).padStart(4, '0');
    a.findings.push(finding('readable-private-key', f.name, null, `private key file has mode ${mode}: ssh refuses it (needs 0600 or stricter)`));
  }
  // the key first: a file that is no readable key is one `unparsable` finding, nothing more
  const pub = publicFromPrivate(f.text);
  if (!isEncrypted(f.text) && !HOST_KEY.test(f.name)) a.findings.push(finding('unencrypted-private-key', f.name, 1, 'private key is not protected by a passphrase'));
  if (!pub) return; // an encrypted PEM/PKCS#8 key: its public part needs the passphrase
  a.keys++;
  checkKey(pub.blob, { file: f.name, line: 1, trusted: false }, ctx, a.findings);
  list(a, pub.blob, 1);
}

const BY_KIND: ReadonlyMap<FileKind, (f: FileInput, ctx: AuditContext, a: FileAudit) => void> = new Map([
  ['authorized', auditAuthorized],
  ['known-hosts', auditKnownHosts],
  ['allowed-signers', auditAllowedSigners],
  ['public', auditPublic],
  ['private', auditPrivate],
]);

/** Audits one file; a file that cannot be read as its kind at all is one `unparsable` finding. */
export function auditFile(f: FileInput, ctx: AuditContext): FileAudit {
  const a: FileAudit = { findings: [], listings: { group: GROUP.get(f.kind)!, ids: [], lines: [] }, keys: 0 };
  try {
    BY_KIND.get(f.kind)!(f, ctx, a);
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    a.findings.push(finding('unparsable', f.name, err.line ?? 1, err.message));
  }
  return a;
}

/**
 * One file of an `sshkit audit` run, from its path to its findings: read (regular files only, without
 * blocking), audited by kind (audit-files.ts), plus what needs the file's mode or a neighbour — ssh's
 * sshkey_perm_ok for private keys (in audit-files.ts), known_hosts/allowed_signers writable by others,
 * FILE.pub against FILE. The same work runs on the main thread or in audit-pool.ts's workers, so the
 * result is plain data (structured-clone safe).
 */
import { finding, type Finding } from './audit-rules.js';
import { auditFile, keyId, type FileKind, type Listings } from './audit-files.js';
import { parsePublicKeyText } from './key.js';
import { readRegular, type Target } from './audit-walk.js';
import type { AuditContext } from './audit-keys.js';

/** Files larger than this are not read (no key file is); reported as unparsable. */
export const MAX_AUDIT_FILE = 64 << 20;

/** What one file gave: findings (of this file or its FILE.pub), listings for duplicates, counts. */
export interface TargetResult {
  readonly findings: Finding[];
  readonly listings: Listings | null;
  readonly keys: number;
  /** Was the file read (counted in the summary's `files`)? */
  readonly read: boolean;
}

const TRUST_FILES: ReadonlySet<FileKind> = new Set(['known-hosts', 'allowed-signers']);
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** FILE.pub beside the private key FILE holding another key (ssh offers FILE.pub's key first). */
function pubMismatch(path: string, key: string | undefined, out: Finding[]): void {
  if (key === undefined) return;
  let text: string;
  try {
    text = readRegular(path + '.pub', MAX_AUDIT_FILE).data.toString('latin1');
  } catch {
    return;
  }
  try {
    if (keyId(parsePublicKeyText(text).blob) === key) return;
  } catch {
    return; // an unparsable FILE.pub is reported when FILE.pub itself is audited
  }
  out.push(finding('pub-mismatch', path + '.pub', 1, `holds another key than its private key ${path}`));
}

/** Audits one target; never throws for what the file holds (only for a bug). */
export function auditTarget(t: Target, ctx: AuditContext): TargetResult {
  let mode: number;
  let text: string;
  try {
    const got = readRegular(t.path, MAX_AUDIT_FILE);
    mode = Number(got.st.mode);
    text = got.data.toString('latin1');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' ? 'Permission denied' : e.code === 'ENOTREG' ? e.message : (e.code ?? e.message);
    const f = e.code === 'EFBIG' ? finding('unparsable', t.path, null, e.message) : finding('unreadable-file', t.path, null, `cannot read: ${why}`);
    return { findings: [f], listings: null, keys: 0, read: false };
  }
  const kind = t.kind ?? 'public';
  const a = auditFile({ name: t.path, kind, text, mode }, ctx);
  if (kind === 'private') pubMismatch(t.path, a.listings.ids[0], a.findings);
  if (TRUST_FILES.has(kind) && (mode & 0o022) !== 0) {
    a.findings.push(finding('writable-trust-file', t.path, null, `mode ${octal(mode)}: writable by ${mode & 0o002 ? 'everyone' : 'its group'}`));
  }
  return { findings: a.findings, listings: a.listings, keys: a.keys, read: true };
}

/**
 * What `ssh-keygen -L -f FILE` prints (ssh-keygen.c do_show_cert, print_cert, show_options), as text
 * and as data. The certificate is read as ssh-keygen reads it: by the one blob parser (key-blob.ts
 * readKeyFields + readCertBody, cert_parse's rules) with the CA signature checked as cert_parse does
 * (certificate.ts certificateAcceptedByCertParse), and with the option lists shown as they are stored
 * (order and duplicates kept), not as certificate.ts's stricter login checks would have them.
 *
 * Where ssh-keygen -L stops with "Option corrupt" or "parse critical" half-way through a certificate
 * (a flag extension with data, a force-command that is not one string), sshkit refuses the line
 * with one error and prints nothing of it.
 */
import { formatValidity } from './cert-time.js';
import { certificateAcceptedByCertParse } from './certificate.js';
import { ParseError } from './errors.js';
import { fingerprint } from './fingerprint.js';
import { baseKeyType, inspectBlob, inspectPlainBlob, readCertBody, readKeyFields } from './key.js';
import { parseSignatureBlob } from './signature.js';
import { WireReader } from './wire.js';

/** One critical option or extension as stored: its name, raw data (hex) and how ssh-keygen shows it. */
export interface OptionView {
  readonly name: string;
  /** The option's data as stored (hex; for a value, the inner string with its length). */
  readonly data: string;
  /** The value of force-command / source-address, else null. */
  readonly value: string | null;
  /** What follows the name in ssh-keygen -L's line ('' for a known flag). */
  readonly shown: string;
}

/** A certificate's fields, as `sshkit inspect --json` gives them. */
export interface CertView {
  readonly type: string;
  readonly certType: 'user' | 'host';
  /** sshkey_type of the certificate, e.g. ED25519-CERT, and the certified key's fingerprint. */
  readonly keyLabel: string;
  readonly fingerprint: string;
  readonly caLabel: string;
  readonly caFingerprint: string;
  readonly signatureAlgorithm: string;
  readonly keyId: string;
  readonly serial: string;
  readonly validAfter: string;
  readonly validBefore: string;
  readonly valid: string;
  readonly principals: readonly string[];
  readonly criticalOptions: readonly OptionView[];
  readonly extensions: readonly OptionView[];
}

const FLAG_EXTENSIONS = new Set(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc', 'no-touch-required']);

/** show_options for one list. */
function options(buf: Buffer, critical: boolean): OptionView[] {
  const what = critical ? 'critical option' : 'extension';
  const r = new WireReader(buf, `certificate ${what}s`);
  const out: OptionView[] = [];
  while (r.remaining > 0) {
    const name = r.cstring(`${what} name`);
    const data = r.string();
    const hex = data.toString('hex');
    const flagOnly = (known: boolean) => {
      if (data.length !== 0) throw new ParseError(`certificate: Option corrupt: extra data at end of ${what} "${name}"`);
      return known ? '' : ' UNKNOWN FLAG OPTION';
    };
    if (!critical && FLAG_EXTENSIONS.has(name)) {
      out.push({ name, data: hex, value: null, shown: flagOnly(true) });
    } else if (critical && (name === 'force-command' || name === 'source-address')) {
      const inner = new WireReader(data, `critical option "${name}"`);
      const value = inner.cstring('value');
      if (inner.remaining !== 0) throw new ParseError(`certificate: Option corrupt: extra data at end of ${what} "${name}"`);
      out.push({ name, data: hex, value, shown: ` ${value}` });
    } else if (critical && name === 'verify-required') {
      out.push({ name, data: hex, value: null, shown: flagOnly(true) });
    } else if (data.length > 0) {
      out.push({ name, data: hex, value: null, shown: ` UNKNOWN OPTION: ${hex} (len ${data.length})` });
    } else {
      out.push({ name, data: hex, value: null, shown: flagOnly(false) });
    }
  }
  return out;
}

/**
 * Reads a certificate blob for display; ParseError for anything ssh-keygen -L would not show (not a
 * certificate, malformed, a CA signature that does not verify, an option it cannot print).
 */
export function viewCertificate(blob: Buffer): CertView {
  const info = inspectBlob(blob);
  if (!info.isCert) throw new ParseError('not a certificate');
  if (!certificateAcceptedByCertParse(blob)) throw new ParseError('invalid certificate: the CA signature does not verify');
  const r = new WireReader(blob, 'certificate');
  const type = r.cstring();
  r.string(); // nonce
  readKeyFields(baseKeyType(type), r);
  const body = readCertBody(r, blob.length);
  const ca = inspectPlainBlob(body.signatureKey, 'certificate CA key');
  return {
    type,
    certType: body.certType === 1 ? 'user' : 'host',
    keyLabel: info.label,
    fingerprint: fingerprint(blob),
    caLabel: ca.label,
    caFingerprint: fingerprint(body.signatureKey),
    signatureAlgorithm: parseSignatureBlob(body.signature).algorithm,
    keyId: body.keyId,
    serial: body.serial.toString(),
    validAfter: body.validAfter.toString(),
    validBefore: body.validBefore.toString(),
    valid: formatValidity(body.validAfter, body.validBefore),
    principals: body.principals,
    criticalOptions: options(body.criticalOptions, true),
    extensions: options(body.extensions, false),
  };
}

const IND = '        ';
const IND2 = '                ';

/** print_cert's lines for one certificate (each ending in a newline). */
export function formatCertificate(v: CertView): string {
  const list = (items: readonly OptionView[]) => (items.length === 0 ? '(none)\n' : '\n' + items.map((o) => `${IND2}${o.name}${o.shown}\n`).join(''));
  return [
    `${IND}Type: ${v.type} ${v.certType} certificate\n`,
    `${IND}Public key: ${v.keyLabel} ${v.fingerprint}\n`,
    `${IND}Signing CA: ${v.caLabel} ${v.caFingerprint} (using ${v.signatureAlgorithm})\n`,
    `${IND}Key ID: "${v.keyId}"\n`,
    `${IND}Serial: ${v.serial}\n`,
    `${IND}Valid: ${v.valid}\n`,
    `${IND}Principals: ${v.principals.length === 0 ? '(none)\n' : v.principals.map((p) => `\n${IND2}${p}`).join('') + '\n'}`,
    `${IND}Critical Options: ${list(v.criticalOptions)}`,
    `${IND}Extensions: ${list(v.extensions)}`,
  ].join('');
}

/** The heading do_show_cert prints before a certificate: `FILE:` for line 1 of a named file, else `FILE:N:`. */
export function certHeading(name: string, line: number, isStdin: boolean): string {
  return !isStdin && line === 1 ? `${name}:` : `${name}:${line}:`;
}

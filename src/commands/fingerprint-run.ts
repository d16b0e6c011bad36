/** The work behind `sshkit fingerprint`, loaded only when that command runs. */
import { readFileSync, statSync } from 'node:fs';
import { Exit, ParseError, SshkitError } from '../core/errors.js';
import { fingerprint, fingerprintLine, randomart, type FingerprintHash } from '../core/fingerprint.js';
import { inspectBlob, keyFromBlob, parsePublicKeyText, type PublicKey } from '../core/key.js';
import { classify, parseRfc4716, scanKeyLines, type FoundKey, type ScanResult } from '../core/key-file.js';
import { inputName, readInput } from '../input.js';
import { Output, requestStatus } from '../output.js';
import type { FingerprintArgs } from './fingerprint.js';

/** FILE.pub beside a private key, as sshkey_try_load_public reads it: an empty comment becomes its path. */
function readPubBeside(file: string): PublicKey | null {
  try {
    const pub = parsePublicKeyText(readFileSync(file + '.pub', 'latin1'));
    return { ...pub, comment: pub.comment.replace(/[\r\n].*$/s, '') || file + '.pub' };
  } catch {
    return null; // no usable FILE.pub: the private key speaks for itself
  }
}

/**
 * sshkey_perm_ok: ssh-keygen ignores a private key file of the user's own that others may read
 * ("UNPROTECTED PRIVATE KEY FILE!"), so `ssh-keygen -l` never reads the comment stored in it.
 */
function unprotected(file: string): boolean {
  if (file === '-') return false;
  try {
    const st = statSync(file);
    return st.uid === process.getuid?.() && (st.mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/**
 * A private key file: its public part, and the comment ssh-keygen would show (fingerprint_private) —
 * FILE.pub's when that holds the same key (deliberate difference: ssh-keygen trusts a FILE.pub even when
 * it holds another key), else the one stored in an unencrypted OpenSSH key, even an empty one; none
 * ("no comment") for encrypted, PEM and PKCS#8 keys, and for a key file others may read.
 */
async function scanPrivate(file: string, text: string): Promise<ScanResult> {
  const pk = await import('../core/private-key.js');
  let key = pk.publicFromPrivate(text);
  let comment: string | null = null;
  const pub = file === '-' ? null : readPubBeside(file);
  if (pub && (!key || pub.blob.equals(key.blob))) {
    key = pub;
    comment = pub.comment;
  }
  if (!key) throw new ParseError('encrypted private key: its public key cannot be read without the passphrase (and no matching FILE.pub)');
  if (comment === null && !unprotected(file)) {
    const stored = pk.privateKeyComment(text, inputName(file));
    comment = stored === null ? null : Buffer.from(stored, 'utf8').toString('latin1');
  }
  return { keys: [{ line: 1, key, comment }], errors: [] };
}

async function scanPemPublic(text: string): Promise<ScanResult> {
  const { sshpk } = await import('../core/private-key.js');
  try {
    const k = sshpk().parseKey(text, 'pem');
    return { keys: [{ line: 1, key: keyFromBlob(Buffer.from(k.toBuffer('rfc4253'))), comment: null }], errors: [] };
  } catch (err) {
    throw new ParseError(`invalid PEM public key: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Certificates count only with a valid CA signature, as OpenSSH's cert_parse; a bad one is its line's error. */
async function dropBadCertificates(result: ScanResult): Promise<ScanResult> {
  if (!result.keys.some((f) => inspectBlob(f.key.blob).isCert)) return result;
  const { certificateAcceptedByCertParse } = await import('../core/certificate.js');
  const keys: FoundKey[] = [];
  const errors = [...result.errors];
  for (const f of result.keys) {
    if (!inspectBlob(f.key.blob).isCert || certificateAcceptedByCertParse(f.key.blob)) keys.push(f);
    else errors.push({ line: f.line, message: 'certificate signature is invalid' });
  }
  errors.sort((a, b) => a.line - b.line);
  return { keys, errors };
}

async function scan(file: string, buf: Buffer): Promise<ScanResult> {
  const text = buf.toString('latin1');
  switch (classify(text)) {
    case 'private':
      return scanPrivate(file, text);
    case 'rfc4716':
      return parseRfc4716(text);
    case 'pem-public':
      return scanPemPublic(text);
    default:
      return dropBadCertificates(scanKeyLines(text));
  }
}

/** Every key of every file, printed as `ssh-keygen -l [-v] [-E]`; bad lines reported, exit 2 after. */
export async function runFingerprint(argv: FingerprintArgs): Promise<void> {
  const out = new Output(argv);
  const hash = argv.hash.toLowerCase() as FingerprintHash;
  const records: object[] = [];
  let text = '';
  for (const file of argv.files) {
    const name = inputName(file);
    let found: FoundKey[];
    try {
      const result = await scan(file, await readInput(file));
      if (result.keys.length === 0) {
        const first = result.errors[0];
        throw new ParseError(first ? `no key found (line ${first.line}: ${first.message})` : 'no key found');
      }
      for (const e of result.errors) out.warn(`${name}:${e.line}: ${e.message}`);
      if (result.errors.length) requestStatus(Exit.BAD);
      found = result.keys;
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      out.warn(`sshkit: ${err.message.startsWith(name + ':') ? err.message : `${name}: ${err.message}`}`);
      requestStatus(Exit.BAD);
      continue;
    }
    // colour is decided only after stdin was read: loading chalk touches the terminal's stdin
    const c = await out.colors();
    for (const f of found) {
      const info = inspectBlob(f.key.blob);
      if (out.json) {
        records.push({
          file: name,
          line: f.line,
          type: info.label,
          keyType: info.type,
          bits: info.bits,
          fingerprint: fingerprint(f.key.blob, hash),
          comment: Buffer.from(f.comment ?? '', 'latin1').toString('utf8'),
          ...(argv.visual ? { randomart: randomart(f.key.blob, info, hash) } : {}),
        });
        continue;
      }
      let line = fingerprintLine(f.key.blob, info, f.comment, hash);
      if (c) line = line.replace(/ (SHA256:\S+|MD5:\S+) /, (_, fp) => ` ${c.bold(fp)} `);
      text += line + '\n';
      if (argv.visual) text += randomart(f.key.blob, info, hash) + '\n';
      if (text.length > 1 << 20) {
        out.stdout.write(Buffer.from(text, 'latin1'));
        text = '';
      }
    }
  }
  if (out.json) out.data(records);
  else if (text) out.stdout.write(Buffer.from(text, 'latin1'));
}

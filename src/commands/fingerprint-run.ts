/** The work behind `sshkit fingerprint`, loaded only when that command runs. */
import { readFileSync } from 'node:fs';
import { Exit, fsError, ParseError } from '../core/errors.js';
import { fingerprint, fingerprintLine, randomart, type FingerprintHash } from '../core/fingerprint.js';
import { inspectBlob } from '../core/key.js';
import { classify, parseRfc4716, scanKeyLines, type FoundKey, type ScanResult } from '../core/key-file.js';
import { Output, requestStatus, type GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  files: string[];
  hash: string;
  visual: boolean;
}

function readInput(file: string): Buffer {
  try {
    return file === '-' ? readFileSync(0) : readFileSync(file);
  } catch (err) {
    throw fsError(file === '-' ? '(stdin)' : file, err);
  }
}

/** A private key file: its public part; the comment from FILE.pub (same key) or the unencrypted key. */
async function scanPrivate(file: string, text: string): Promise<ScanResult> {
  const pk = await import('../core/private-key.js');
  const { parsePublicKeyLine } = await import('../core/key.js');
  let key = pk.publicFromPrivate(text);
  let comment = '';
  if (file !== '-') {
    try {
      const pub = parsePublicKeyLine(readFileSync(file + '.pub', 'latin1').split('\n')[0]);
      if (!key || pub.blob.equals(key.blob)) {
        key = pub;
        comment = pub.comment;
      }
    } catch {
      /* no usable FILE.pub: fall back to the private key itself */
    }
  }
  if (!key) throw new ParseError('encrypted private key: its public key cannot be read without the passphrase (and no matching FILE.pub)');
  if (!comment && !pk.isEncrypted(text)) comment = pk.loadPrivateKey(text).comment ?? '';
  if (comment === '(unnamed)') comment = '';
  return { keys: [{ line: 1, key, comment }], errors: [] };
}

async function scanPemPublic(text: string): Promise<ScanResult> {
  const { sshpk } = await import('../core/private-key.js');
  const { keyFromBlob } = await import('../core/key.js');
  try {
    const k = sshpk().parseKey(text, 'pem');
    return { keys: [{ line: 1, key: keyFromBlob(Buffer.from(k.toBuffer('rfc4253'))), comment: '' }], errors: [] };
  } catch (err) {
    throw new ParseError(`invalid PEM public key: ${(err as Error).message.split('\n')[0]}`);
  }
}

async function scan(file: string, buf: Buffer): Promise<ScanResult> {
  if (buf.includes(0)) throw new ParseError('not a key file (binary data)');
  const text = buf.toString('latin1');
  switch (classify(text)) {
    case 'private':
      return scanPrivate(file, text);
    case 'rfc4716':
      return parseRfc4716(text);
    case 'pem-public':
      return scanPemPublic(text);
    default:
      return scanKeyLines(text);
  }
}

export async function runFingerprint(argv: Args): Promise<void> {
  const out = new Output(argv);
  const hash = argv.hash as FingerprintHash;
  const c = await out.colors();
  const records: object[] = [];
  let text = '';
  for (const file of argv.files) {
    const name = file === '-' ? '(stdin)' : file;
    let found: FoundKey[];
    try {
      const result = await scan(file, readInput(file));
      if (result.keys.length === 0) {
        const first = result.errors[0];
        throw new ParseError(first ? `no key found (line ${first.line}: ${first.message})` : 'no key found');
      }
      for (const e of result.errors) out.warn(`${name}:${e.line}: ${e.message}`);
      if (result.errors.length) requestStatus(Exit.BAD);
      found = result.keys;
    } catch (err) {
      if (!(err instanceof ParseError) && !(err as { code?: number }).code) throw err;
      const msg = (err as Error).message;
      out.warn(`sshkit: ${msg.startsWith(name + ':') ? msg : `${name}: ${msg}`}`);
      requestStatus(Exit.BAD);
      continue;
    }
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
          comment: Buffer.from(f.comment, 'latin1').toString('utf8'),
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

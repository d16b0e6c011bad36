/**
 * The work behind `sshkit fingerprint`, loaded only when that command runs. A file of key lines is read
 * and printed in 64 KiB pieces (memory flat in its size, issue 14); stdin and the other formats (private
 * keys, RFC 4716, PEM) are read whole.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { Exit, fsError, ParseError, SshkitError } from '../core/errors.js';
import { fingerprint, fingerprintLine, randomart, type FingerprintHash } from '../core/fingerprint.js';
import { inspectBlob, keyFromBlob, parsePublicKeyText, type PublicKey } from '../core/key.js';
import { classify, keyFileTooOpen, parseRfc4716, scanKeyLines, scanTextLine, type FoundKey, type ScanResult } from '../core/key-file.js';
import { LineStream, type LineError } from '../core/lines.js';
import { inputName, MAX_INPUT, readInput } from '../input.js';
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
    return keyFileTooOpen(st, process.getuid?.());
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
  if (!result.keys.some(isCert)) return result;
  const { certificateAcceptedByCertParse } = await import('../core/certificate.js');
  const keys: FoundKey[] = [];
  const errors = [...result.errors];
  for (const f of result.keys) {
    if (!isCert(f) || certificateAcceptedByCertParse(f.key.blob)) keys.push(f);
    else errors.push({ line: f.line, message: 'certificate signature is invalid' });
  }
  errors.sort((a, b) => a.line - b.line);
  return { keys, errors };
}

function isCert(f: FoundKey): boolean {
  return (f.info ?? inspectBlob(f.key.blob)).isCert;
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

/** Where every key goes: lines of text (or one JSON array, written as it grows) to stdout in 64 KiB writes. */
class Printer {
  private text = '';
  private records = 0;
  private bold: ((s: string) => string) | null | undefined;

  constructor(
    readonly out: Output,
    private readonly hash: FingerprintHash,
    private readonly visual: boolean,
  ) {}

  /** Decides colour, once, before the first key is printed (after stdin was read: loading chalk touches the terminal's stdin). */
  async ready(): Promise<void> {
    if (this.bold !== undefined) return;
    const c = await this.out.colors();
    this.bold = c ? (s) => c.bold(s) : null;
  }

  key(name: string, f: FoundKey): void {
    const info = f.info ?? inspectBlob(f.key.blob);
    if (this.out.json) {
      const record = {
        file: name,
        line: f.line,
        type: info.label,
        keyType: info.type,
        bits: info.bits,
        fingerprint: fingerprint(f.key.blob, this.hash, info),
        comment: Buffer.from(f.comment ?? '', 'latin1').toString('utf8'),
        ...(this.visual ? { randomart: randomart(f.key.blob, info, this.hash) } : {}),
      };
      // element by element, exactly the bytes JSON.stringify(array, null, 2) makes of the whole array
      this.text += (this.records++ === 0 ? '[\n  ' : ',\n  ') + JSON.stringify(record, null, 2).replace(/\n/g, '\n  ');
    } else {
      let line = fingerprintLine(f.key.blob, info, f.comment, this.hash);
      const bold = this.bold;
      if (bold) line = line.replace(/ (SHA256:\S+|MD5:\S+) /, (_, fp) => ` ${bold(fp)} `);
      this.text += line + '\n';
      if (this.visual) this.text += randomart(f.key.blob, info, this.hash) + '\n';
    }
    if (this.text.length > CHUNK) this.flush();
  }

  end(): void {
    if (this.out.json) this.text += this.records ? '\n]\n' : '[]\n';
    this.flush();
  }

  private flush(): void {
    if (this.text) this.out.stdout.write(Buffer.from(this.text, this.out.json ? 'utf8' : 'latin1'));
    this.text = '';
  }
}

/** Bytes read (and output written) at a time: small pieces keep few objects alive across collections (peak RSS for 1M keys: 64 KiB pieces 91 MiB, 1 MiB pieces 174 MiB). */
const CHUNK = 1 << 16;

/** FILE read in 64 KiB pieces, each as latin1 text (every byte survives to the output). */
class Pieces {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly file: string) {
    try {
      this.fd = openSync(file, 'r');
    } catch (err) {
      throw fsError(file, err);
    }
  }

  /** The next piece, or null at the end. */
  next(): string | null {
    let n: number;
    try {
      n = readSync(this.fd, this.buf, 0, CHUNK, null);
    } catch (err) {
      throw fsError(this.file, err);
    }
    return n === 0 ? null : this.buf.toString('latin1', 0, n);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The first non-blank line of text, as classify() judges a file by it; null while it may go on. */
function firstLine(head: string, ended: boolean): string | null {
  const m = /^[ \t\r\n]*([^\r\n]*)([\r\n]?)/.exec(head)!;
  return m[2] || ended ? m[1] : null;
}

/**
 * A file of key lines (authorized_keys, known_hosts, allowed_signers, .pub) read and printed piece by
 * piece. Bad lines are reported as scan() reports them — with their numbers, or, when the file holds no
 * key at all, as one "no key found" — only those found before the first key wait for it.
 */
async function streamLines(name: string, head: string, pieces: Pieces, printer: Printer): Promise<void> {
  const batch: FoundKey[] = [];
  const lines = new LineStream((line, n) => batch.push(scanTextLine(line, n)), true);
  const held: LineError[] = [];
  let found = false;
  let certOk: ((blob: Buffer) => boolean) | null = null;
  const settle = async (errors: LineError[]) => {
    const before = errors.length;
    for (const f of batch) {
      if (isCert(f)) {
        // certificates count only with a valid CA signature (cert_parse); certificate.js loads on the first
        certOk ??= (await import('../core/certificate.js')).certificateAcceptedByCertParse;
        if (!certOk(f.key.blob)) {
          errors.push({ line: f.line, message: 'certificate signature is invalid' });
          continue;
        }
      }
      found = true;
      printer.key(name, f);
    }
    batch.length = 0;
    if (errors.length > before) errors.sort((a, b) => a.line - b.line);
    if (!found) held.push(...errors);
    else for (const e of [...held.splice(0), ...errors]) printer.out.warn(`${name}:${e.line}: ${e.message}`);
    if (errors.length) requestStatus(Exit.BAD);
  };
  for (let text: string | null = head; text !== null; text = pieces.next()) {
    await settle(lines.push(text));
    if (lines.pending > MAX_INPUT) throw new ParseError(`line too long (over ${MAX_INPUT >> 20} MiB)`);
  }
  await settle(lines.end());
  if (!found) {
    const first = held[0];
    throw new ParseError(first ? `no key found (line ${first.line}: ${first.message})` : 'no key found');
  }
}

/** One input: a file of key lines is streamed; stdin, key files, RFC 4716 and PEM are read whole. */
async function printFile(file: string, name: string, printer: Printer): Promise<void> {
  if (file !== '-') {
    const pieces = new Pieces(file);
    try {
      let head = '';
      let first: string | null = null;
      for (let ended = false; first === null; ) {
        const t = pieces.next();
        ended = t === null;
        head += t ?? '';
        first = firstLine(head, ended);
        if (head.length > MAX_INPUT) throw new ParseError(`file too large (over ${MAX_INPUT >> 20} MiB)`);
      }
      // classify() judges by the first line, but a private key needs the whole text (isPrivateKeyText)
      if (!first.includes('PRIVATE KEY') && classify(first) === 'lines') {
        await printer.ready();
        return await streamLines(name, head, pieces, printer);
      }
    } finally {
      pieces.close();
    }
  }
  const result = await scan(file, await readInput(file));
  if (result.keys.length === 0) {
    const first = result.errors[0];
    throw new ParseError(first ? `no key found (line ${first.line}: ${first.message})` : 'no key found');
  }
  for (const e of result.errors) printer.out.warn(`${name}:${e.line}: ${e.message}`);
  if (result.errors.length) requestStatus(Exit.BAD);
  await printer.ready();
  for (const f of result.keys) printer.key(name, f);
}

/** Every key of every file, printed as `ssh-keygen -l [-v] [-E]`; bad lines reported, exit 2 after. */
export async function runFingerprint(argv: FingerprintArgs): Promise<void> {
  const out = new Output(argv);
  const printer = new Printer(out, argv.hash.toLowerCase() as FingerprintHash, argv.visual);
  for (const file of argv.files) {
    const name = inputName(file);
    try {
      await printFile(file, name, printer);
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      out.warn(`sshkit: ${err.message.startsWith(name + ':') ? err.message : `${name}: ${err.message}`}`);
      requestStatus(Exit.BAD);
    }
  }
  printer.end();
}

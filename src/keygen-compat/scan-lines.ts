/**
 * ssh-keygen 9.2's do_fingerprint line loop, faithfully, keys read by core/key.ts readKeyPrefix (and a
 * certificate accepted only as cert_parse would, core/certificate.ts). Faithful includes a quirk scripts
 * see: `comment` is not reset between lines and points into getline()'s reused buffer, so a key line
 * with no comment of its own prints whatever that buffer holds at the offset where an earlier line's
 * comment (or options/host field) began (or, once the buffer was reallocated, freed memory: printed
 * empty). The buffer is simulated byte for byte (getline writes the line,
 * its "\n" and a NUL over the previous contents; the loop writes NULs at the newline and after a
 * skipped options field). -v adds ssh-keygen's `debug1: FILE:N: not a public key` lines.
 */
import { certificateAcceptedByCertParse } from '../core/certificate.js';
import { inspectBlob, readKeyPrefix, type PublicKey } from '../core/key.js';

/** A key as the loop prints it: the comment is latin1 bytes, null for "no comment". */
export interface LoopKey {
  readonly key: PublicKey;
  readonly comment: string | null;
}

/** try_read_key(): a key at `from`, or null (a known type with a broken blob, a bad certificate: null). */
function tryReadKey(line: string, from: number): { key: PublicKey; end: number } | null {
  try {
    const got = readKeyPrefix(line, from);
    if (!got) return null;
    if (inspectBlob(got.key.blob).isCert && !certificateAcceptedByCertParse(got.key.blob)) return null;
    return got;
  } catch {
    return null;
  }
}

/** strtol(cp) != 0 followed by a blank: an SSH1 `bits e n` line, whose first field is not skipped. */
function ssh1Number(line: string, from: number): boolean {
  const m = /^[ \t\n\v\f\r]*[+-]?(\d+)[ \t]/.exec(line.slice(from));
  return !!m && BigInt.asIntN(32, BigInt(m[1].length > 20 ? '9223372036854775807' : m[1])) !== 0n;
}

/** The end of the options/host field at `from`: the first blank outside double quotes (`\"` skipped). */
function fieldEnd(line: string, from: number): number {
  let quoted = false;
  let p = from;
  for (; p < line.length && (quoted || (line[p] !== ' ' && line[p] !== '\t')); p++) {
    if (line[p] === '\\' && line[p + 1] === '"') p++;
    else if (line[p] === '"') quoted = !quoted;
  }
  return Math.min(p, line.length);
}

/**
 * getline()'s buffer: never cleared, grown as glibc's getdelim grows it (120 bytes first, then at least
 * double). Growing reallocates: a comment pointer from before then points into freed memory, which the
 * key parser's calloc()s have zeroed in every run we observed (ssh-keygen prints an empty comment).
 */
class LineBuffer {
  private buf = Buffer.alloc(120);

  /** Loads a line; true when the buffer moved (pointers into it are left dangling). */
  load(raw: Buffer): boolean {
    const needed = raw.length + 1;
    let moved = false;
    if (needed > this.buf.length) {
      this.buf = Buffer.concat([this.buf, Buffer.alloc(Math.max(needed, 2 * this.buf.length) - this.buf.length)]);
      moved = true;
    }
    raw.copy(this.buf, 0);
    this.buf[raw.length] = 0;
    return moved;
  }

  nul(at: number): void {
    this.buf[at] = 0;
  }

  /** The C string at `at`. */
  cstring(at: number): string {
    const end = this.buf.indexOf(0, at);
    return this.buf.subarray(at, end < 0 ? this.buf.length : end).toString('latin1');
  }
}

/** The keys do_fingerprint prints for `text` (as bytes) and its debug lines (`path` names the file). */
export function fingerprintLoop(data: Buffer, path: string): { keys: LoopKey[]; debug: string[] } {
  const keys: LoopKey[] = [];
  const debug: string[] = [];
  const buf = new LineBuffer();
  let comment: number | null = null;
  let dangling = false; // `comment` points into the buffer getline freed
  let start = 0;
  for (let lnum = 1; start < data.length; lnum++) {
    const nl = data.indexOf(0x0a, start);
    const raw = data.subarray(start, nl < 0 ? data.length : nl + 1);
    start += raw.length;
    if (buf.load(raw) && comment !== null) dangling = true;
    const cut = raw.indexOf(0x0a);
    if (cut >= 0) buf.nul(cut);
    const line = buf.cstring(0); // the line as C sees it: up to the first NUL
    let cp = 0;
    while (line[cp] === ' ' || line[cp] === '\t') cp++;
    if (cp >= line.length || line[cp] === '#') continue;
    let got = tryReadKey(line, cp);
    if (!got) {
      if (!ssh1Number(line, cp)) {
        comment = cp;
        dangling = false;
        const p = fieldEnd(line, cp);
        if (p >= line.length) continue;
        buf.nul(p);
        cp = p + 1;
      }
      got = tryReadKey(line, cp);
      if (!got) {
        debug.push(`debug1: ${path}:${lnum}: not a public key`);
        continue;
      }
    }
    let rest = got.end;
    while (line[rest] === ' ' || line[rest] === '\t') rest++;
    if (rest < line.length && line[rest] !== '#') {
      comment = rest;
      dangling = false;
    }
    keys.push({ key: got.key, comment: comment === null ? null : dangling ? '' : buf.cstring(comment) });
  }
  return { keys, debug };
}

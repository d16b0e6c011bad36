/**
 * A big authorized_keys file indexed without its text (issue 14: `sshkit serve` with 100,000 keys held
 * the 9 MB file as a string, and its parse briefly held it twice more, as bytes and as the string being
 * made). The file is read in PIECE-byte pieces through the descriptor safe-read.ts opened and checked
 * (a line that crosses a piece boundary is carried into the next piece), each piece's whole lines go
 * into a detached core KeyIndex (byte offset, length, line number and blob hash per line), and the
 * descriptor stays open: a lookup reads the few candidate lines back from it (pread) and the index
 * trusts a line only if it still carries the key it was indexed with (KeyIndex.lookup). The pread is
 * synchronous but cannot block: the descriptor is a regular file (fstat when it was opened), never a
 * FIFO or device. As sshd, which reads the file again at every login (auth2-pubkeyfile.c
 * `user_key_allowed2`), a key is admitted only by what the file says now.
 */
import { readSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { KeyIndex } from '../core/authorized-keys.js';

/** Files smaller than this are read whole and keep their text (no descriptor held for them). */
export const DETACH_MIN = 64 << 10;
/**
 * Bytes read at once while indexing (≈ 2,800 ed25519 lines, a few ms of work); the loop yields to other
 * logins between pieces. A piece is a thread-pool round trip (≈ 37 for 100,000 keys); its transient is
 * its bytes and its string.
 */
export const PIECE = 256 << 10;
/**
 * Longest line indexed (1 MiB: a certificate-authority line with a long `command=` is a few KiB); a longer
 * line is reported as a bad line and skipped, so one huge line cannot make the reader hold the whole file.
 */
export const MAX_LINE = 1 << 20;

/** What indexFile made: the index, or why the file was refused (it grew past the cap while being read). */
export type FileIndex = { readonly index: KeyIndex } | { readonly refused: string };

/** Counts the `\n` bytes of buf[from, to). */
function newlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a, from); i >= 0 && i < to; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Adds the whole lines buf[0, end) (the file's bytes from `base`, lines after line `before`) to `index`. */
function addLines(index: KeyIndex, buf: Buffer, end: number, base: number, before: number): void {
  if (isAscii(buf.subarray(0, end))) {
    index.addPiece(buf.toString('latin1', 0, end), base, before);
    return;
  }
  // not ASCII: each line decoded on its own, so its start and length stay in bytes
  let line = before;
  for (let start = 0; start < end; ) {
    const nl = buf.indexOf(0x0a, start);
    const stop = nl < 0 || nl >= end ? end : nl;
    index.addPiece(buf.toString('utf8', start, stop), base + start, line, stop - start);
    line++;
    start = stop + 1;
  }
}

/** Piece and line sizes (defaults PIECE and MAX_LINE; tests make them small to cross many boundaries). */
export interface PieceSizes {
  readonly piece?: number;
  readonly maxLine?: number;
}

/**
 * Indexes the file open on `fh` (checked by openTrusted: a regular file of `size` bytes, at most `max`)
 * in pieces; the index reads its lines back from `fh`, which the caller must keep open while it is used.
 * A line of more than `maxLine` bytes (its `\n` aside) is a bad line, skipped unread.
 */
export async function indexFile(fh: FileHandle, size: number, max: number, path: string, sizes: PieceSizes = {}): Promise<FileIndex> {
  const maxLine = sizes.maxLine ?? MAX_LINE;
  const cap = maxLine + 1; // a longest line and its `\n`
  const index = KeyIndex.detached((start, length) => {
    const buf = Buffer.allocUnsafe(length + 1);
    try {
      return buf.subarray(0, readSync(fh.fd, buf, 0, length + 1, start));
    } catch {
      return undefined; // closed (the file was replaced) or unreadable: the line is not trusted
    }
  });
  let buf = Buffer.allocUnsafe(Math.min(sizes.piece ?? PIECE, cap, Math.max(size, 1)));
  let have = 0; // bytes in buf
  let pos = 0; // file offset of buf[0]
  let lines = 0; // lines before buf[0]
  let skipping = false; // inside a line longer than maxLine, up to its `\n`
  for (let eof = false; !eof; ) {
    if (have === buf.length) {
      // one line fills the buffer: grow it, up to a longest line
      if (buf.length >= cap) {
        index.errors.push({ line: lines + 1, message: `line longer than ${maxLine} bytes` });
        skipping = true;
        pos += have;
        have = 0;
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap));
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
    }
    const { bytesRead } = await fh.read(buf, have, buf.length - have, pos + have);
    if (pos + have + bytesRead > max) return { refused: `${path} is larger than ${max} bytes` };
    eof = bytesRead === 0;
    have += bytesRead;
    if (skipping) {
      const nl = buf.subarray(0, have).indexOf(0x0a);
      if (nl < 0) {
        pos += have;
        have = 0;
        continue;
      }
      skipping = false;
      lines++;
      buf.copy(buf, 0, nl + 1, have);
      pos += nl + 1;
      have -= nl + 1;
    }
    const end = eof ? have : have === 0 ? 0 : buf.lastIndexOf(0x0a, have - 1) + 1; // whole lines only, but all at the end
    if (end === 0) continue;
    addLines(index, buf, end, pos, lines);
    lines += newlines(buf, 0, end);
    buf.copy(buf, 0, end, have);
    pos += end;
    have -= end;
  }
  return { index: index.seal() };
}

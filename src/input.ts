/**
 * Reading the command line's input files, one way for every command: `-` is stdin (read as a stream, so
 * a terminal or a non-blocking pipe works), errors are one `path: why` line (exit 2), and a size cap
 * keeps `/dev/zero` or a runaway pipe from eating the machine.
 */
import { readFileSync, statSync } from 'node:fs';
import { bad, fsError, SshkitError } from './core/errors.js';

/** Largest input file read whole (key files, authorized_keys, allowed_signers, signatures…). */
export const MAX_INPUT = 256 << 20;

/** The display name of an input path. */
export function inputName(path: string): string {
  return path === '-' ? '(stdin)' : path;
}

async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bad(`(stdin): input too large (over ${limit >> 20} MiB)`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A whole input file (`-`: stdin) of at most `limit` bytes. */
export async function readInput(path: string, limit = MAX_INPUT): Promise<Buffer> {
  if (path === '-') return readStdin(limit);
  try {
    const st = statSync(path);
    if (st.isFile() && st.size > limit) throw bad(`${path}: file too large (over ${limit >> 20} MiB)`);
    const buf = readFileSync(path);
    if (buf.length > limit) throw bad(`${path}: file too large (over ${limit >> 20} MiB)`);
    return buf;
  } catch (err) {
    if (err instanceof SshkitError) throw err;
    throw fsError(path, err);
  }
}

/** The first line of a file (`-`: stdin) without its line ending, as bytes: a passphrase or password. */
export async function readFirstLine(path: string): Promise<Buffer> {
  const buf = await readInput(path, 1 << 20);
  let end = buf.indexOf(0x0a);
  if (end < 0) end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  return buf.subarray(0, end);
}

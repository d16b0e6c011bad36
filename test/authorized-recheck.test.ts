/**
 * authorized.ts's per-login re-check (issue 14): a login whose file and directories show the same
 * metadata as at the last full check that passed reuses that verdict without readTrusted's thread-pool
 * round trips; any change that could alter the verdict goes through the full check again. Each step
 * has its control: the same file before and after, accepted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { AuthorizedKeys } from '../src/server/authorized.js';
import { Logger } from '../src/server/log.js';
import { serverOwner } from '../src/server/safe-path.js';

function pubKey(dir: string, name: string): { line: string; blob: Buffer } {
  const f = join(dir, name);
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f]).status, 0);
  const line = readFileSync(f + '.pub', 'utf8').trim();
  return { line, blob: Buffer.from(line.split(' ')[1], 'base64') };
}

test('a chmod of a directory, a same-size rewrite with the old mtime, a symlink swap: each is seen on the next login', async () => {
  const tmp = tempDir();
  try {
    const a = pubKey(tmp.dir, 'a');
    const b = pubKey(tmp.dir, 'b');
    const dir = join(tmp.dir, 'home', 'ssh');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(join(tmp.dir, 'home'), 0o755);
    chmodSync(tmp.dir, 0o755);
    const file = join(dir, 'authorized_keys');
    writeFileSync(file, a.line + '\n', { mode: 0o600 });
    const logged: string[] = [];
    const ak = new AuthorizedKeys(file, new Logger('text', (l) => logged.push(l)), serverOwner(), true);
    const found = async (k: { blob: Buffer }) => (await ak.load(file)).lookup(k.blob).length;
    assert.equal(await found(a), 1); // control: a full check passes
    assert.equal(await found(a), 1); // the same metadata: reused
    chmodSync(dir, 0o777);
    assert.equal(await found(a), 0, 'a world-writable directory is refused on the next login');
    assert.match(logged.join('\n'), /authorized-keys-refused/);
    chmodSync(dir, 0o755);
    assert.equal(await found(a), 1, 'control: the directory is safe again');
    // b's line has a's length: same size; the old mtime put back (only ctime tells)
    const st = statSync(file);
    writeFileSync(file, b.line.slice(0, a.line.length).padEnd(a.line.length, ' ') + '\n');
    utimesSync(file, st.atime, st.mtime);
    assert.equal(await found(b), 1, 'the rewritten file is read again');
    assert.equal(await found(a), 0);
    // the file replaced by a symlink to a good file: never followed (O_NOFOLLOW in the full check)
    const other = join(tmp.dir, 'other');
    writeFileSync(other, a.line + '\n', { mode: 0o600 });
    renameSync(file, file + '.old');
    symlinkSync(other, file);
    assert.equal(await found(a), 0, 'a symlinked authorized_keys is refused');
  } finally {
    tmp.cleanup();
  }
});

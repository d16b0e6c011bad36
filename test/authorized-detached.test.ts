/**
 * Issue 14: a big authorized_keys file is indexed in pieces without its text (src/server/authorized-file.ts,
 * the detached core KeyIndex) and its lines are read back at lookup. Expected keys come from
 * `ssh-keygen -l -f FILE` (OpenSSH lists every key line of an authorized_keys file, options and all);
 * the attacks: a file rewritten under an index (same size, the old mtime put back) or cut short, a line across a
 * piece boundary, a huge line. Each refusal has its passing control beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openSync, closeSync, readdirSync, readFileSync, readlinkSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine, type KeyIndex } from '../src/core/authorized-keys.js';
import { fingerprint } from '../src/core/fingerprint.js';
import { WireWriter } from '../src/core/wire.js';
import { DETACH_MIN, indexFile, MAX_LINE, PIECE } from '../src/server/authorized-file.js';
import { AuthorizedKeys, MAX_OPEN_INDEXES } from '../src/server/authorized.js';
import { Logger } from '../src/server/log.js';
import { serverOwner } from '../src/server/safe-path.js';

const ed25519Line = (i: number) => `ssh-ed25519 ${new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer().toString('base64')} k${i}`;
const blobOf = (line: string) => parseAuthorizedKeysLine(line).key.blob;

function sshKeygenPub(dir: string, name: string, type: string): string {
  const f = join(dir, name);
  const r = openssh('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `by-ssh-keygen-${name}`, '-f', f]);
  assert.equal(r.status, 0, r.stderr);
  return readFileSync(f + '.pub', 'utf8').trim();
}

/** SHA256 fingerprints `ssh-keygen -l -f file` lists, one per key line, in file order. */
function opensshFingerprints(file: string): string[] {
  const r = openssh('ssh-keygen', ['-l', '-f', file]);
  return [...r.stdout.matchAll(/ (SHA256:\S+) /g)].map((m) => m[1]);
}

/** The detached index of `file` (its descriptor closed by `done`). */
async function detached(file: string): Promise<{ index: KeyIndex; done: () => Promise<void> }> {
  const fh = await open(file, 'r');
  const got = await indexFile(fh, statSync(file).size, 16 << 20, file);
  assert.ok('index' in got, 'indexed');
  return { index: got.index, done: () => fh.close() };
}

test('a mixed file indexed in pieces finds what ssh-keygen -l lists, with the lines, options and comments of the text index', async () => {
  const tmp = tempDir();
  try {
    const rsa = sshKeygenPub(tmp.dir, 'rsa', 'rsa');
    const ecdsa = sshKeygenPub(tmp.dir, 'ec', 'ecdsa');
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      lines.push(ed25519Line(i));
      if (i % 500 === 0) lines.push('# a comment', '', 'not a key line at all');
      if (i === 700) lines.push(`restrict,command="echo hi" ${rsa}`);
      if (i === 1500) lines.push(`${ecdsa.replace(/ \S+$/, '')} café ☃ comment\r`); // non-ASCII, CRLF
      if (i === 2200) lines.push(`from="10.0.0.0/8" ${rsa}`); // one key on two lines
    }
    const text = lines.join('\n') + '\n';
    const file = join(tmp.dir, 'ak');
    writeFileSync(file, text);
    assert.ok(text.length > PIECE, 'more than one piece');
    const { index, done } = await detached(file);
    try {
      const whole = parseAuthorizedKeys(text);
      assert.equal(index.size, whole.size);
      assert.deepEqual(index.errors, whole.errors);
      const fps = opensshFingerprints(file);
      assert.equal(fps.length, index.size, 'ssh-keygen -l lists as many keys as the index holds');
      const looked = lines.filter((l) => /^(ssh-|ecdsa|restrict|from)/.test(l));
      for (const l of looked) {
        const blob = parseAuthorizedKeysLine(l.replace(/\r$/, '')).key.blob;
        const got = index.lookup(blob);
        assert.ok(got.length >= 1, `found: ${l.slice(0, 40)}`);
        assert.ok(fps.includes(fingerprint(blob)), 'ssh-keygen -l lists it too');
        assert.deepEqual(got, whole.lookup(blob), 'same lines, options and comments as the text index');
      }
      assert.equal(index.lookup(blobOf(rsa)).length, 2, 'both lines of the RSA key');
      assert.equal(index.stale, false);
      assert.ok(index.bytes < 30 * index.size, `${(index.bytes / index.size).toFixed(1)} bytes a key, no text`);
    } finally {
      await done();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a line that crosses a piece boundary is found (control: the line before it)', async () => {
  const tmp = tempDir();
  try {
    const lines: string[] = [];
    let size = 0;
    let crossing = -1;
    for (let i = 0; size < 3 * PIECE; i++) {
      const l = ed25519Line(i);
      if (crossing < 0 && size < PIECE && size + l.length + 1 > PIECE + 1) crossing = i; // bytes on both sides
      lines.push(l);
      size += l.length + 1;
    }
    assert.ok(crossing > 0);
    const file = join(tmp.dir, 'ak');
    writeFileSync(file, lines.join('\n') + '\n');
    const { index, done } = await detached(file);
    try {
      assert.deepEqual(index.lookup(blobOf(lines[crossing - 1])).map((e) => e.line), [crossing], 'control');
      assert.deepEqual(index.lookup(blobOf(lines[crossing])).map((e) => [e.line, e.key.comment]), [[crossing + 1, `k${crossing}`]]);
      assert.equal(index.size, lines.length);
    } finally {
      await done();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a huge line is one bad line: the keys after it still work and the reader never holds it whole', async () => {
  const tmp = tempDir();
  try {
    const before = Array.from({ length: 800 }, (_, i) => ed25519Line(i));
    const after = Array.from({ length: 800 }, (_, i) => ed25519Line(1000 + i));
    const file = join(tmp.dir, 'ak');
    const huge = `ssh-ed25519 ${'A'.repeat(3 * MAX_LINE)}`;
    writeFileSync(file, [...before, huge, ...after].join('\n') + '\n');
    const { index, done } = await detached(file);
    try {
      assert.deepEqual(index.errors, [{ line: 801, message: `line longer than ${MAX_LINE} bytes` }]);
      assert.deepEqual(index.lookup(blobOf(before[799])).map((e) => e.line), [800], 'control: before it');
      assert.deepEqual(index.lookup(blobOf(after[0])).map((e) => e.line), [802], 'the line after it, numbered right');
      assert.equal(index.size, 1600);
    } finally {
      await done();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a file rewritten under its index (same size, old mtime put back) never admits the removed key', async () => {
  const tmp = tempDir();
  try {
    const lines = Array.from({ length: 2000 }, (_, i) => ed25519Line(i));
    const victim = 1234;
    const file = join(tmp.dir, 'ak');
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
    assert.ok(statSync(file).size >= DETACH_MIN, 'big enough to be indexed detached');
    const logged: string[] = [];
    const ak = new AuthorizedKeys(file, new Logger('text', (l) => logged.push(l)), serverOwner(), false);
    try {
      const removed = blobOf(lines[victim]);
      const index = await ak.forKey('u', removed);
      assert.equal(index.lookup(removed).length, 1, 'control: the key is admitted before the rewrite');
      assert.equal(index.lookup(blobOf(lines[victim + 1])).length, 1, 'control: its neighbour too');
      // the attacker's rewrite in place: the victim's line replaced by another key of the same length
      const st = statSync(file);
      const replacement = ed25519Line(victim).slice(0, lines[victim].length);
      const offset = Buffer.byteLength(lines.slice(0, victim).join('\n') + '\n');
      const fd = openSync(file, 'r+');
      writeSync(fd, replacement, offset);
      closeSync(fd);
      utimesSync(file, st.atime, st.mtime);
      assert.equal(statSync(file).size, st.size);
      // a login that fetched the index before the rewrite looks up after it: the line is read back
      assert.deepEqual(index.lookup(removed), [], 'the removed key is not admitted by the index it was indexed in');
      assert.equal(index.stale, true, 'the index knows its file changed');
      assert.equal(index.lookup(blobOf(lines[victim + 1])).length, 1, 'an unchanged line still works');
      // the next login indexes the file again: the removed key is gone, the new one is in
      const loads = ak.loads;
      const all = await Promise.all(Array.from({ length: 8 }, () => ak.forKey('u', removed)));
      assert.equal(ak.loads, loads + 1, 'eight concurrent logins share one new read');
      const fresh = all[0];
      assert.ok(all.every((x) => x === fresh));
      assert.notEqual(fresh, index);
      assert.deepEqual(fresh.lookup(removed), []);
      assert.equal(fresh.lookup(blobOf(replacement)).length, 1, 'control: the rewritten line is admitted');
      assert.match(logged.join('\n'), /authorized-keys .*reload=true/);
    } finally {
      await ak.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a stale index found by the pre-lookup of forKey is re-read before the checker sees it', async () => {
  const tmp = tempDir();
  try {
    const lines = Array.from({ length: 2000 }, (_, i) => ed25519Line(i));
    const file = join(tmp.dir, 'ak');
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
    const ak = new AuthorizedKeys(file, new Logger('text', () => undefined), serverOwner(), false);
    try {
      const key = blobOf(lines[5]);
      const first = await ak.forKey('u', key);
      assert.equal(first.lookup(key).length, 1, 'control');
      const again = await ak.forKey('u', key);
      assert.equal(again, first, 'control: unchanged file, same index');
      (first as unknown as { stale: boolean }).stale = true; // as a changed line marks it
      const next = await ak.forKey('u', key);
      assert.notEqual(next, first, 'a stale index is replaced');
      assert.equal(next.lookup(key).length, 1);
    } finally {
      await ak.close();
    }
  } finally {
    tmp.cleanup();
  }
});

/** Descriptors this process has open on files below `dir` (/proc/self/fd). */
function fdsUnder(dir: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir + '/')) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

test(`per-user big files hold at most MAX_OPEN_INDEXES (${MAX_OPEN_INDEXES}) descriptors; an evicted user's file is indexed again and still works`, async () => {
  const tmp = tempDir();
  try {
    const users = MAX_OPEN_INDEXES + 6;
    const firstKey: Buffer[] = [];
    for (let u = 0; u < users; u++) {
      const lines = Array.from({ length: 900 }, (_, i) => ed25519Line(i)); // ≈ 76 KiB ≥ DETACH_MIN: detached
      firstKey.push(blobOf(lines[0]));
      writeFileSync(join(tmp.dir, `ak-u${u}`), lines.join('\n') + '\n', { mode: 0o600 });
    }
    assert.ok(statSync(join(tmp.dir, 'ak-u0')).size >= DETACH_MIN);
    const ak = new AuthorizedKeys(join(tmp.dir, 'ak-%u'), new Logger('text', () => undefined), serverOwner(), false);
    try {
      for (let u = 0; u < MAX_OPEN_INDEXES; u++) assert.equal((await ak.forKey(`u${u}`, firstKey[u])).lookup(firstKey[u]).length, 1);
      assert.equal(fdsUnder(tmp.dir), MAX_OPEN_INDEXES, 'control: each detached index keeps its file open');
      for (let u = MAX_OPEN_INDEXES; u < users; u++) assert.equal((await ak.forKey(`u${u}`, firstKey[u])).lookup(firstKey[u]).length, 1);
      await new Promise((r) => setTimeout(r, 2300)); // evicted descriptors close 2 s later (logins that fetched them may read)
      assert.equal(fdsUnder(tmp.dir), MAX_OPEN_INDEXES, 'the least recently used are closed');
      assert.equal(ak.cacheStats().files, MAX_OPEN_INDEXES, 'an entry that gives up its descriptor leaves the cache (a detached index cannot read without it)');
      const back = await ak.forKey('u0', firstKey[0]);
      assert.equal(back.lookup(firstKey[0]).length, 1, 'an evicted user logs in again: the file is indexed anew');
      assert.equal(fdsUnder(tmp.dir), MAX_OPEN_INDEXES + 1, 'its new descriptor (the one it pushed out closes later)');
    } finally {
      await ak.close();
    }
    assert.equal(fdsUnder(tmp.dir), 0, 'close() gives every descriptor back');
  } finally {
    tmp.cleanup();
  }
});

test('a file cut short in place under its index never admits a key past the cut (control: a line before it)', async () => {
  const tmp = tempDir();
  try {
    const lines = Array.from({ length: 2000 }, (_, i) => ed25519Line(i));
    const cut = 1500;
    const file = join(tmp.dir, 'ak');
    writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
    const ak = new AuthorizedKeys(file, new Logger('text', () => undefined), serverOwner(), false);
    try {
      const gone = blobOf(lines[cut + 10]);
      const index = await ak.forKey('u', gone);
      assert.equal(index.lookup(gone).length, 1, 'control: admitted before the cut');
      // truncated in the middle of line `cut` (same inode: the descriptor the index reads from sees it)
      truncateSync(file, Buffer.byteLength(lines.slice(0, cut).join('\n') + '\n') + 20);
      assert.deepEqual(index.lookup(gone), [], 'a line past the end of the file is not read as the key');
      assert.equal(index.stale, true);
      assert.deepEqual(index.lookup(blobOf(lines[cut])), [], 'the line cut in two is not admitted either');
      assert.equal(index.lookup(blobOf(lines[cut - 1])).length, 1, 'control: a whole line before the cut still works');
      const fresh = await ak.forKey('u', gone);
      assert.notEqual(fresh, index, 'the next login indexes the file again');
      assert.deepEqual(fresh.lookup(gone), []);
      assert.equal(fresh.lookup(blobOf(lines[cut - 1])).length, 1);
    } finally {
      await ak.close();
    }
  } finally {
    tmp.cleanup();
  }
});

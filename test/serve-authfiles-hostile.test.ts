/**
 * Per-user (`%u`) authorized files as an attack surface (issue 9 item 5), each attack driven for real
 * with a good file beside it that still logs in:
 *  - a FIFO swapped in between the server's checks and its read (a second process renames a FIFO and a
 *    regular file over the path in a loop) must never hang the server;
 *  - a 20 MB file is refused unread (cap 16 MiB); a big file under the cap is indexed in pieces (authorized-file.ts), so the
 *    event loop is never blocked for the whole parse, and an unchanged file is not parsed again;
 *  - 5,000 made-up user names must not grow the cache past its cap.
 */
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openssh, tempDir } from './helpers.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { AuthorizedKeys, MAX_CACHED_FILES, MAX_PARALLEL_PARSES, parseInSlices } from '../src/server/authorized.js';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { Logger } from '../src/server/log.js';
import { MAX_LOGGED_LINE_ERRORS, Slots } from '../src/server/safe-read.js';

const tmp = tempDir('sshkit-authfiles-hostile-');
const key = join(tmp.dir, 'id');
let pub: string;
let srv: StartedServer; // one per test that logs in, so a server hung by one attack cannot fail the next test

before(() => {
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hostile', '-f', key]).status, 0);
  pub = readFileSync(key + '.pub', 'utf8');
  writeFileSync(join(tmp.dir, 'good.keys'), pub);
});
beforeEach(async () => {
  srv = await startServer({ args: ['--authorized', join(tmp.dir, '%u.keys'), '--max-startups', '200'] });
});
afterEach(async () => {
  await srv?.stop('SIGKILL');
});
after(() => tmp.cleanup());

const login = (user: string, timeoutMs = 20_000) => sshRun(srv.port, { key, user, command: 'whoami', timeoutMs });

/** The second process of the race: link+rename a regular file and a FIFO over `target`, for `seconds`. */
const SWAPPER = `
import os, sys, time
d, target, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
reg, fifo, t1, t2 = (os.path.join(d, n) for n in ('swap-reg', 'swap-fifo', '.t1', '.t2'))
end, n = time.time() + secs, 0
while time.time() < end:
    os.link(reg, t1); os.rename(t1, target)
    os.link(fifo, t2); os.rename(t2, target)
    n += 1
print(n)
`;

test('a FIFO swapped in between check and read never hangs the server (good user logs in during and after)', async (t) => {
  writeFileSync(join(tmp.dir, 'swap-reg'), pub);
  execFileSync('mkfifo', [join(tmp.dir, 'swap-fifo')]);
  const target = join(tmp.dir, 'swap.keys');
  const swapper = spawn('python3', ['-c', SWAPPER, tmp.dir, target, '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let swaps = '';
  swapper.stdout!.setEncoding('utf8').on('data', (d: string) => (swaps += d));
  const done = new Promise<number | null>((resolve) => swapper.once('exit', resolve));
  const results: Array<number | null> = [];
  try {
    // 6 rounds of 4 concurrent logins as the swapped user: each login opens the file twice (query + signature)
    for (let round = 0; round < 6; round++) {
      const rs = await Promise.all([0, 1, 2, 3].map(() => login('swap', 8_000)));
      results.push(...rs.map((r) => r.status));
    }
    const during = await login('good', 8_000); // control while the race still runs
    assert.equal(during.stdout, 'good\n', `the server stopped answering during the race: ${during.stderr}`);
  } finally {
    swapper.kill('SIGTERM');
    await done;
  }
  // every racing login got an answer (0: opened the regular file, 255: refused the FIFO), none was cut by our timeout
  assert.ok(results.every((s) => s === 0 || s === 255), `statuses: ${results.join(',')}`);
  writeFileSync(target + '.new', pub);
  execFileSync('mv', ['-f', target + '.new', target]);
  const ok = await login('swap');
  assert.equal(ok.stdout, 'swap\n', ok.stderr);
  assert.equal((await login('good')).stdout, 'good\n');
  const refused = (srv.logs().match(/authorized-keys-refused file=\S+swap\.keys reason="\S+ is not a regular file"/g) ?? []).length;
  t.diagnostic(`racing logins: ${results.filter((s) => s === 0).length} in, ${results.filter((s) => s === 255).length} refused; FIFO refusals logged: ${refused}`);
});

test('a 20 MB authorized file is refused unread with a logged reason; the good file beside it logs in', async () => {
  const line = pub.trim() + '\n';
  const big = join(tmp.dir, 'big.keys');
  writeFileSync(big, line.repeat(Math.ceil((20 << 20) / line.length)));
  const r = await login('big');
  assert.equal(r.status, 255);
  assert.match(r.stderr, /Permission denied/);
  await srv.waitForLog(/authorized-keys-refused file=\S+big\.keys reason="\S+big\.keys is larger than 16777216 bytes" effect="all keys denied"/);
  assert.doesNotMatch(srv.logs(), /authorized-keys file=\S+big\.keys/, 'the 20 MB file was parsed');
  assert.equal((await login('good')).stdout, 'good\n');
});

test('a big file under the cap is indexed in pieces (the event loop is never blocked for the whole parse) and only once', async (t) => {
  const lines: string[] = [];
  // ≈ 12 MiB of distinct valid ed25519 lines: base64 of a 51-byte blob with a varying key
  const head = Buffer.from([0, 0, 0, 11, ...Buffer.from('ssh-ed25519'), 0, 0, 0, 32]);
  let bytes = 0;
  for (let i = 0; bytes < 12 << 20; i++) {
    const k = Buffer.alloc(32);
    k.writeUInt32BE(i, 0);
    const l = `ssh-ed25519 ${Buffer.concat([head, k]).toString('base64')} k${i}\n`;
    lines.push(l);
    bytes += l.length;
  }
  lines.push(pub);
  const file = join(tmp.dir, 'large.keys');
  writeFileSync(file, lines.join(''));
  const logged: string[] = [];
  const ak = new AuthorizedKeys(file, new Logger('text', (l) => logged.push(l)));
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, 40)); // the monitor records from its second tick on
  const t0 = process.hrtime.bigint();
  const index = await ak.load(file);
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // event-loop turns while the parse (the load's own parser) runs: none for a parse in one piece
  let turns = 0;
  let parsing = true;
  const turn = (): void => {
    turns++;
    if (parsing) setImmediate(turn);
  };
  setImmediate(turn);
  const again = await parseInSlices(readFileSync(file, 'utf8'));
  parsing = false;
  assert.equal(again.size, lines.length);
  await new Promise((r) => setTimeout(r, 50)); // let the monitor's timer record a stall that just ended
  h.disable();
  const maxMs = h.max / 1e6;
  assert.equal(index.size, lines.length); // control: every line of the big file is there
  assert.equal(index.errors.length, 0);
  // shape, not speed: the longest stall is a small part of the whole load (one blocking parse: ≈ all of it)
  t.diagnostic(`${lines.length} lines: load ${totalMs.toFixed(0)} ms, longest event-loop stall ${maxMs.toFixed(0)} ms, ${turns} event-loop turns`);
  // shape, not speed (a parse of 12 MiB takes ~100 ms on an idle machine, so on a busy one preemption,
  // not the parse, decides the longest stall): the loop turns once per 64 KiB slice, ≈ 190 times
  assert.ok(turns >= 100, `only ${turns} event-loop turns during the parse of ${lines.length} lines`);
  for (let i = 0; i < 5; i++) await ak.load(file); // unchanged (dev, inode, size, mtime, ctime): not parsed again
  assert.equal(ak.loads, 1);
  assert.equal(logged.filter((l) => / authorized-keys file=/.test(l)).length, 1);
});

test('5,000 unknown user names do not grow the cache past its cap; a good user still logs in', async () => {
  const logged: string[] = [];
  const ak = new AuthorizedKeys(join(tmp.dir, '%u.keys'), new Logger('text', (l) => logged.push(l)));
  assert.equal((await ak.forUser('good')).lookup(Buffer.from(pub.split(' ')[1], 'base64')).length, 1);
  for (let i = 0; i < 5000; i++) await ak.forUser(`nobody-${i}`);
  const files = ak.cacheStats().files;
  assert.ok(files <= MAX_CACHED_FILES, `${files} cached files for 5,000 unknown names (cap ${MAX_CACHED_FILES})`);
  assert.ok(logged.filter((l) => /authorized-keys-missing .*reason=ENOENT/.test(l)).length >= 5000);
  // control: after the flood (the good file long evicted) the good user's key is still found
  assert.equal((await ak.forUser('good')).lookup(Buffer.from(pub.split(' ')[1], 'base64')).length, 1);
});

test('slicing changes nothing: bad lines keep their numbers across slices, as the one-shot core parser reports them', async () => {
  const good = pub.trim();
  const lines: string[] = [];
  for (let i = 1; i <= 3000; i++) {
    if (i % 997 === 0) lines.push('ssh-ed25519 AAAA-broken');
    else if (i % 1000 === 0) lines.push('# a comment');
    else if (i % 700 === 0) lines.push('');
    else lines.push(`${good}${i % 2 ? '\r' : ''}`);
  }
  const text = lines.join('\n') + '\n';
  assert.ok(text.length > 3 * (64 << 10), 'spans several slices');
  const sliced = await parseInSlices(text);
  const whole = parseAuthorizedKeys(text);
  assert.deepEqual(sliced.errors, whole.errors);
  assert.deepEqual(sliced.errors.map((e) => e.line), [997, 1994, 2991]);
  assert.equal(sliced.size, whole.size);
  const blob = Buffer.from(good.split(' ')[1], 'base64');
  assert.deepEqual(sliced.lookup(blob).map((e) => e.line), whole.lookup(blob).map((e) => e.line));
});

test('a file of 50,000 bad lines logs a bounded number of lines (first bad lines, then a count); its good line still works', async () => {
  const file = join(tmp.dir, 'junk.keys');
  writeFileSync(file, 'ssh-ed25519 AAAA-junk\n'.repeat(50_000) + pub);
  const logged: string[] = [];
  const ak = new AuthorizedKeys(join(tmp.dir, '%u.keys'), new Logger('text', (l) => logged.push(l)));
  const index = await ak.forUser('junk');
  assert.equal(index.errors.length, 50_000);
  assert.equal(index.lookup(Buffer.from(pub.split(' ')[1], 'base64')).length, 1); // control: the good line
  const errs = logged.filter((l) => / authorized-keys-error /.test(l));
  assert.ok(errs.length <= MAX_LOGGED_LINE_ERRORS + 1, `${errs.length} log lines for one file`);
  assert.match(errs[0], /file=\S+junk\.keys line=1 /);
  assert.match(errs.at(-1)!, new RegExp(`more=${50_000 - MAX_LOGGED_LINE_ERRORS} `));
  assert.match(logged.join('\n'), /authorized-keys file=\S+junk\.keys keys=1 errors=50000/);
});

test('a burst of logins for many changed files: at most MAX_PARALLEL_PARSES read and parsed at once, all answered', async () => {
  const slots = new Slots(MAX_PARALLEL_PARSES);
  let running = 0;
  let peak = 0;
  const job = (i: number) =>
    slots.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (i === 3) throw new Error('a failing job frees its slot');
      return i;
    });
  const got = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => job(i)));
  assert.equal(peak, MAX_PARALLEL_PARSES);
  assert.deepEqual(got.map((g) => g.status === 'fulfilled' ? g.value : 'x'), [0, 1, 2, 'x', 4, 5, 6, 7, 8, 9, 10, 11]);
  // the same through the loader: 8 users' changed files at once, each found (control), none lost
  const ak = new AuthorizedKeys(join(tmp.dir, '%u.keys'), new Logger('text', () => undefined));
  const users = Array.from({ length: 8 }, (_, i) => `burst${i}`);
  for (const u of users) writeFileSync(join(tmp.dir, `${u}.keys`), pub.trim() + '\n' + `${pub.trim()}\n`.repeat(5000));
  const blob = Buffer.from(pub.split(' ')[1], 'base64');
  const found = await Promise.all(users.map(async (u) => (await ak.forUser(u)).lookup(blob).length));
  assert.deepEqual(found, users.map(() => 5001));
});

/**
 * Issue 14 end to end: `sshkit serve` over an authorized_keys file big enough to be indexed without its
 * text (src/server/authorized-file.ts), the real OpenSSH `ssh` logging in. The client's key sits on the
 * line that crosses the first piece boundary; the file is then rewritten in place (same size, the old
 * mtime put back) with that line listing another key: the removed key is refused at once and the new
 * one admitted, each beside its control.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { sshRun, startServer, type StartedServer } from './server-helper.js';
import { DETACH_MIN, PIECE } from '../src/server/authorized-file.js';
import { WireWriter } from '../src/core/wire.js';

const tmp = tempDir('sshkit-big-authorized-');
const keyA = join(tmp.dir, 'a');
const keyB = join(tmp.dir, 'b');
const file = join(tmp.dir, 'authorized_keys');
let srv: StartedServer;
let lineA = '';
let lineB = '';
let offsetA = 0;

/** The key of `ssh-keygen`'s .pub file with a one-letter comment: every such ed25519 line has one length. */
const shortLine = (pubFile: string, comment: string) => readFileSync(pubFile, 'utf8').trim().split(' ').slice(0, 2).join(' ') + ` ${comment}`;

before(async () => {
  for (const k of [keyA, keyB]) assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]).status, 0);
  lineA = shortLine(keyA + '.pub', 'a');
  lineB = shortLine(keyB + '.pub', 'b');
  assert.equal(lineA.length, lineB.length);
  const lines: string[] = [];
  let size = 0;
  while (size < PIECE + 4096) {
    // A goes on the line that starts before the first piece boundary and ends after it
    const l = offsetA === 0 && size + lineA.length + 1 > PIECE && size < PIECE ? lineA : `ssh-ed25519 ${new WireWriter().string('ssh-ed25519').string(randomBytes(32)).toBuffer().toString('base64')} x`;
    if (l === lineA) offsetA = size;
    lines.push(l);
    size += l.length + 1;
  }
  assert.ok(offsetA > 0 && offsetA < PIECE && offsetA + lineA.length >= PIECE, 'A crosses the boundary');
  writeFileSync(file, lines.join('\n') + '\n', { mode: 0o600 });
  assert.ok(statSync(file).size >= DETACH_MIN);
  srv = await startServer({ args: ['--authorized', file] });
});
after(async () => {
  await srv?.stop();
  tmp.cleanup();
});

const login = (key: string) => sshRun(srv.port, { key, user: 'alice', command: 'echo in' });

test('a key on a line across a piece boundary logs in; a key not listed does not', async () => {
  const a = await login(keyA);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout.trim(), 'in');
  const b = await login(keyB);
  assert.notEqual(b.status, 0, 'control: B is not listed');
  assert.match(srv.logs(), /authorized-keys file=\S+ keys=\d+ errors=0/);
});

test('the line rewritten in place (same size, old mtime): the removed key is refused, the new one admitted', async () => {
  const st = statSync(file);
  const fd = openSync(file, 'r+');
  writeSync(fd, lineB, offsetA);
  closeSync(fd);
  utimesSync(file, st.atime, st.mtime);
  assert.equal(statSync(file).size, st.size);
  const a = await login(keyA);
  assert.notEqual(a.status, 0, 'the removed key is refused');
  const b = await login(keyB);
  assert.equal(b.status, 0, `control: the key now listed logs in: ${b.stderr}`);
  assert.equal(b.stdout.trim(), 'in');
  assert.match(srv.logs(), /reload=true/);
});

/** What `serve` reads at login must never hang it: a FIFO as authorized_keys or passwords file denies. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { sshRun, startServer } from './server-helper.js';

const tmp = tempDir('sshkit-serve-files-');
after(() => tmp.cleanup());

test('a FIFO at the authorized path denies every key and leaves the server responsive', async () => {
  const key = join(tmp.dir, 'id');
  assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
  const fifo = join(tmp.dir, 'authorized_fifo');
  execFileSync('mkfifo', [fifo]);
  const srv = await startServer({ args: ['--authorized', fifo] });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await sshRun(srv.port, { key, command: 'whoami' });
      assert.equal(r.status, 255);
      assert.match(r.stderr, /Permission denied/);
    }
    await srv.waitForLog(/authorized-keys-missing .*reason="?not a regular file/);
  } finally {
    await srv.stop();
  }
});

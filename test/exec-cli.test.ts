/**
 * `sshkit exec` command line: malformed input (each exits 255 with exactly one stderr line, never
 * 2, so it cannot pass for a remote command's status) and the multi-host runner (`--hosts`) against
 * the real sshd: host-prefixed lines, the summary table, `--json`, the exit status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshkit, tempDir } from './helpers.js';
import { clientKey, execCli, oneLine } from './exec-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';

const tmp = tempDir('sshkit-exec-cli-');
const home = tmp.dir;
const f = (name: string, text: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
};

describe('malformed input: 255 and one line on stderr', () => {
  const notAKey = f('not-a-key', 'hello\n');
  chmodSync(notAKey, 0o600); // at 0644 it is refused before parsing, as ssh does (exec-hostile.test.ts)
  const emptyHosts = f('hosts-empty', '# nothing\n\n');
  const badHosts = f('hosts-bad', 'a.example\nb.example:99999\n');
  const spaced = f('hosts-spaced', 'a.example b.example\n');
  const table: [string, string[], RegExp][] = [
    ['no command', ['127.0.0.1'], /a command to run is required/],
    ['no destination', ['--', 'true'], /a destination is required/],
    ['unknown -o option', ['-o', 'ProxyCommand=nc', '127.0.0.1', '--', 'true'], /-o: unsupported option "ProxyCommand"/],
    ['-o without a value', ['-o', 'StrictHostKeyChecking', '127.0.0.1', '--', 'true'], /-o: expected Key=Value/],
    ['bad StrictHostKeyChecking', ['-o', 'StrictHostKeyChecking=maybe', '127.0.0.1', '--', 'true'], /StrictHostKeyChecking: "maybe"/],
    ['bad ConnectTimeout', ['-o', 'ConnectTimeout=soon', '127.0.0.1', '--', 'true'], /ConnectTimeout: bad number/],
    ['bad --host-fingerprint', ['--host-fingerprint', 'SHA256:abc', '127.0.0.1', '--', 'true'], /--host-fingerprint: "SHA256:abc" is not/],
    ['bad port', ['-p', '70000', '127.0.0.1', '--', 'true'], /-p: bad port 70000/],
    ['bad --connect-timeout', ['--connect-timeout', '0', '127.0.0.1', '--', 'true'], /--connect-timeout/],
    ['bad --parallel', ['--parallel', '0', '--hosts', badHosts, '--', 'true'], /--parallel/],
    ['empty user', ['@127.0.0.1', '--', 'true'], /empty user name/],
    ['unbalanced [', ['[::1', '--', 'true'], /unbalanced \[/],
    ['missing -i file', ['-i', join(tmp.dir, 'nope'), '127.0.0.1', '--', 'true'], /nope: cannot read the identity file: No such file/],
    ['-i is not a private key', ['-i', notAKey, '127.0.0.1', '--', 'true'], /not-a-key: /],
    ['-i is a folder', ['-i', tmp.dir, '127.0.0.1', '--', 'true'], /cannot read the identity file: not a regular file/],
    ['missing --hosts file', ['--hosts', join(tmp.dir, 'nope'), '--', 'true'], /cannot read the hosts file/],
    ['empty --hosts file', ['--hosts', emptyHosts, '--', 'true'], /no hosts listed/],
    ['bad port in --hosts', ['--hosts', badHosts, '--', 'true'], /hosts-bad:2: bad port "99999"/],
    ['two hosts on a line', ['--hosts', spaced, '--', 'true'], /hosts-spaced:1: one destination per line/],
    // yargs' own usage errors (issue 10 item 9): 255 for exec, like every other failure of its own
    ['unknown flag', ['--frobnicate', '127.0.0.1', '--', 'true'], /Unknown argument: frobnicate/],
    ['unknown short flag', ['-Z', '127.0.0.1', '--', 'true'], /Unknown argument: Z/],
    ['-o with no argument', ['127.0.0.1', '-o'], /Not enough arguments following: o/],
    ['-i with no argument', ['-i'], /Not enough arguments following: i/],
    ['missing destination and command', [], /a command to run is required|a destination is required/],
  ];
  for (const [name, args, re] of table) {
    test(name, async () => {
      const r = await execCli(args, { home });
      assert.equal(r.status, 255, r.stderr);
      assert.equal(r.stdout.length, 0);
      assert.match(oneLine(r.stderr), re);
    });
  }
});

describe('one exit policy per command (cli.ts)', () => {
  test('a global flag before exec: the usage error is still exec\'s 255', async () => {
    const r = sshkit(['--json', 'exec', '--frobnicate', '127.0.0.1', '--', 'true']);
    assert.equal(r.status, 255, r.stderr);
    assert.match(oneLine(r.stderr), /Unknown argument: frobnicate/);
  });
  test('controls: other commands keep 2 for usage errors; exec --help is 0', () => {
    const fp = sshkit(['fingerprint', '--frobnicate']);
    assert.equal(fp.status, 2, fp.stderr);
    assert.match(fp.stderr, /^sshkit: Unknown argument: frobnicate\n$/);
    const help = sshkit(['exec', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /sshkit exec \[options\] USER@HOST -- COMMAND/);
  });
});

describe('--hosts against sshd', () => {
  let sshd: StartedSshd;
  let key: { path: string; pub: string };
  let kh: string;
  let hosts: string;
  let refused: number;

  before(async () => {
    key = clientKey(tmp.dir, 'fleet');
    sshd = await startSshd({ authorizedKeys: [key.pub] });
    const gone = await startSshd();
    refused = gone.port;
    await gone.stop();
    kh = f('kh', `[127.0.0.1]:${sshd.port} ${sshd.hostKeyPub}\n`);
    hosts = f('hosts', `# fleet\n127.0.0.1:${sshd.port}\n\n${sshd.user}@127.0.0.1:${sshd.port}  # same host, as root\n127.0.0.1:${refused}\n`);
  });
  after(async () => {
    await sshd?.stop();
  });

  test('every output line is prefixed with its host; a summary table ends the run; exit = highest status', async () => {
    const r = await execCli(['-i', key.path, '--known-hosts', kh, '--hosts', hosts, '--parallel', '2', '--', 'echo a; printf "b\\nc"; echo e >&2; exit 4'], { home });
    assert.equal(r.status, 255);
    const out = r.stdout.toString().split('\n');
    for (const label of [`127.0.0.1:${sshd.port}`, `${sshd.user}@127.0.0.1:${sshd.port}`]) {
      // whole lines, in order per host; an unterminated last line is completed
      assert.deepEqual(out.filter((l) => l.startsWith(`${label}: `)), [`${label}: a`, `${label}: b`, `${label}: c`]);
      assert.ok(r.stderr.includes(`${label}: e\n`));
    }
    assert.match(r.stderr, new RegExp(`^sshkit: 127\\.0\\.0\\.1:${refused}: connect to host 127\\.0\\.0\\.1 port ${refused}: Connection refused$`, 'm'));
    const table = r.stderr.slice(r.stderr.indexOf('HOST'));
    assert.match(table, /^HOST +STATUS +TIME\n/);
    assert.match(table, new RegExp(`^127\\.0\\.0\\.1:${sshd.port} +4 +\\d+\\.\\d\\ds$`, 'm'));
    assert.match(table, new RegExp(`^127\\.0\\.0\\.1:${refused} +255 +\\d+\\.\\d\\ds +connect to host`, 'm'));
    assert.match(table, /0 of 3 hosts succeeded\n$/);
  });

  test('--json: one document with each host, status, time and output', async () => {
    const r = await execCli(['-i', key.path, '--known-hosts', kh, '--hosts', hosts, '--json', '--', 'echo hi; exit 0'], { home });
    assert.equal(r.status, 255);
    assert.equal(r.stderr, '');
    const doc = JSON.parse(r.stdout.toString());
    assert.equal(doc.length, 3);
    assert.deepEqual(doc.map((d: { status: number }) => d.status), [0, 0, 255]);
    assert.equal(doc[0].stdout, 'hi\n');
    assert.equal(doc[1].user, sshd.user);
    assert.match(doc[2].error, /Connection refused/);
    assert.ok(doc.every((d: { seconds: number }) => typeof d.seconds === 'number'));
  });

  test('all hosts succeeding exit 0', async () => {
    const ok = f('hosts-ok', `127.0.0.1:${sshd.port}\n`.repeat(5));
    const r = await execCli(['-i', key.path, '--known-hosts', kh, '--hosts', ok, '--', 'true'], { home });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /5 of 5 hosts succeeded/);
  });
});

after(() => tmp.cleanup());

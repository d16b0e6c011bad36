/**
 * The startup snapshot (issue 14): scripts/build-snapshot.mjs, the sh/JS launcher bin/sshkit and the
 * fallback to the plain path. A copy of the package (bin, scripts, dist/src, package.json; node_modules
 * linked) is built in a temp folder exactly as `npm ci`'s prepare builds it. Which path a run took is seen
 * from outside: `node` on PATH is a wrapper that logs its arguments (`--snapshot-blob` or not) and runs
 * the real Node; its mtime is the real binary's, as the launcher's check wants for the snapshot's Node.
 * Expected outputs are the plain path's (`node bin/sshkit`), byte for byte; real work through the
 * snapshot is checked against ssh-keygen (-l, -Y sign, -Y verify). No timings are asserted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, openssh, runAsync, tempDir, testEnv, type RunResult } from './helpers.js';

const COMMANDS = ['completion', 'keygen', 'fingerprint', 'sign', 'verify-signature', 'find-principals', 'serve', 'passwd', 'exec', 'certify', 'inspect', 'krl', 'audit', 'passphrase', 'comment', 'known-hosts', 'export', 'import'];
/** Every command's --help, the root's, completions and usage errors of each kind. */
const CASES: string[][] = [
  [], ['--help'], ['-h'], ['--version'], ['frob'], ['fingr'], ['fingerprint', '--frob', '-'], ['fingerprint', '-E', 'sha1', '-'],
  ['fingerprint', '/no/such'], ['fingerprint', '--json', '/no/such'], ['sign'], ['sign', '-f'], ['verify-signature', '-n', 'x'],
  ['completion'], ['--get-yargs-completions', 'sshkit', 'fing'], ['--get-yargs-completions', 'sshkit', 'sign', '--na'],
  ['--get-yargs-completions', 'sshkit', ''], ['certify', '-h'], ['passwd'], ['exec'], ['krl'], ['--json', 'frob'],
  ['fingerprint', '--no-such-flag=1', '--other'], ...COMMANDS.map((c) => [c, '--help']),
];

let t: { dir: string; cleanup: () => void };
let pkg: string;
let wrap: string;
let log: string;

/** The package copy of ROOT at `dir`, its snapshot built by the real build script. */
function makePackage(dir: string): RunResult {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  for (const p of ['package.json', 'bin', 'scripts']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  cpSync(join(ROOT, 'dist', 'src'), join(dir, 'dist', 'src'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-snapshot.mjs')], { env: testEnv(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = testEnv({ PATH: `${wrap}:${process.env.PATH}`, NODE_LOG: log, LANG: 'C' });
  delete e.NODE_OPTIONS;
  delete e.NODE_EXTRA_CA_CERTS;
  return Object.assign(e, extra);
}

/** `bin/sshkit ARGS` run as a program (the launcher decides the path) and the `node` command lines it made. */
function direct(bin: string, args: string[], extra: Record<string, string> = {}, input = ''): RunResult & { node: string } {
  writeFileSync(log, '');
  const r = spawnSync(bin, args, { env: env(extra), encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, node: readFileSync(log, 'utf8') };
}

/** `node --snapshot-blob BLOB bin/sshkit ARGS`: what the launcher runs when it takes the snapshot, started here for any command. */
function fromBlob(bin: string, args: string[]): RunResult & { node: string } {
  writeFileSync(log, '');
  const r = spawnSync(join(wrap, 'node'), ['--snapshot-blob', join(bin, '..', '..', 'dist', 'snapshot', 'sshkit.blob'), bin, ...args], { env: env(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, node: readFileSync(log, 'utf8') };
}

/** `node bin/sshkit ARGS`: the plain path, always. */
function plain(bin: string, args: string[], extra: Record<string, string> = {}, input = ''): RunResult {
  const r = spawnSync(process.execPath, [bin, ...args], { env: env(extra), encoding: 'utf8', input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const same = (r: RunResult) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr });

before(() => {
  t = tempDir('sshkit-snapshot-');
  pkg = join(t.dir, 'pkg');
  wrap = join(t.dir, 'wrap');
  log = join(t.dir, 'node.log');
  mkdirSync(wrap);
  writeFileSync(join(wrap, 'node'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "$NODE_LOG"\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
  chmodSync(join(wrap, 'node'), 0o755);
  // the wrapper stands for the Node binary the snapshot was built by: same mtime (the launcher's check)
  assert.equal(spawnSync('touch', ['-r', process.execPath, join(wrap, 'node')]).status, 0);
});
after(() => t?.cleanup());

describe('startup snapshot (bin/sshkit run as a program)', () => {
  it('npm ci\'s build script makes the blob, with the mtime of the Node binary that built it', () => {
    const r = makePackage(pkg);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^sshkit: startup snapshot built for Node v\d+/);
    assert.equal(r.stderr, '', 'no warning from node --build-snapshot');
    const blob = join(pkg, 'dist', 'snapshot', 'sshkit.blob');
    const cmp = spawnSync('sh', ['-c', '! [ "$1" -nt "$2" ] && ! [ "$1" -ot "$2" ]', 'sh', blob, process.execPath]);
    assert.equal(cmp.status, 0);
    assert.match(readFileSync(join(ROOT, 'package.json'), 'utf8'), /"prepare": "tsc -p \. && node scripts\/build-snapshot\.mjs"/);
  });

  it('every --help, completion and usage error is byte-identical on the snapshot path and the plain path', () => {
    const bin = join(pkg, 'bin', 'sshkit');
    for (const args of CASES) {
      // serve: bin/sshkit takes the plain path for it (checked in the serve test below); the snapshot's own answer is compared
      const snap = args[0] === 'serve' ? fromBlob(bin, args) : direct(bin, args);
      assert.match(snap.node, /^--snapshot-blob \S+sshkit\.blob \S+bin\/sshkit/, `${args.join(' ')}: the snapshot was used`);
      assert.deepEqual(same(snap), plain(bin, args), `sshkit ${args.join(' ')}`);
    }
    // yargs' own messages in another locale: the locale files are found from the snapshot too
    for (const args of [['--help'], ['fingerprint', '--frob', '-'], ['sign']]) {
      const de = direct(bin, args, { LANG: 'de_DE.UTF-8' });
      assert.deepEqual(same(de), plain(bin, args, { LANG: 'de_DE.UTF-8' }), `LANG=de_DE sshkit ${args.join(' ')}`);
      assert.notDeepEqual(same(de), plain(bin, args), 'control: the German text differs from the English one');
    }
  });

  it('real work through the snapshot agrees with ssh-keygen: fingerprint, sign (ssh-keygen -Y verify), verify-signature', () => {
    const bin = join(pkg, 'bin', 'sshkit');
    const key = join(t.dir, 'id_ed25519');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'snap@example.com', '-f', key]).status, 0);
    const fp = direct(bin, ['fingerprint', `${key}.pub`]);
    assert.match(fp.node, /--snapshot-blob/);
    assert.equal(fp.status, 0, fp.stderr);
    assert.equal(fp.stdout, openssh('ssh-keygen', ['-l', '-f', `${key}.pub`]).stdout, 'same line as ssh-keygen -l -f');
    const msg = join(t.dir, 'msg');
    writeFileSync(msg, 'signed through the snapshot\n');
    const signed = direct(bin, ['sign', '-q', '-f', key, '-n', 'file', msg]);
    assert.match(signed.node, /--snapshot-blob/);
    assert.equal(signed.status, 0, signed.stderr);
    const signers = join(t.dir, 'allowed_signers');
    writeFileSync(signers, `snap@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
    const kv = openssh('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', 'snap@example.com', '-n', 'file', '-s', `${msg}.sig`], { input: readFileSync(msg) });
    assert.equal(kv.status, 0, `ssh-keygen -Y verify accepts the snapshot's signature: ${kv.stderr}`);
    const v = direct(bin, ['verify-signature', '-f', signers, '-I', 'snap@example.com', '-n', 'file', '-s', `${msg}.sig`], {}, readFileSync(msg, 'utf8'));
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /^Good "file" signature for snap@example\.com with ED25519 key SHA256:/);
    const bad = direct(bin, ['verify-signature', '-f', signers, '-I', 'snap@example.com', '-n', 'file', '-s', `${msg}.sig`], {}, 'other data\n');
    assert.equal(bad.status, 1, 'control: other data is refused');
  });

  it('sshkit-keygen starts from the same snapshot: its output equals the plain path\'s and ssh-keygen\'s, also through a symlink', () => {
    const bin = join(pkg, 'bin', 'sshkit-keygen');
    const key = join(t.dir, 'kg_ed25519');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kg@example.com', '-f', key]).status, 0);
    const link = join(t.dir, 'kg-bin');
    mkdirSync(link);
    symlinkSync(bin, join(link, 'sshkit-keygen'));
    const msg = join(t.dir, 'kg-msg');
    writeFileSync(msg, 'signed by sshkit-keygen through the snapshot\n');
    const signers = join(t.dir, 'kg_signers');
    writeFileSync(signers, `kg@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
    for (const via of [bin, join(link, 'sshkit-keygen')]) {
      const fp = direct(via, ['-l', '-f', `${key}.pub`]);
      assert.match(fp.node, /^--snapshot-blob \S+sshkit\.blob \S+bin\/sshkit-keygen -l/, 'the snapshot ran sshkit-keygen');
      assert.deepEqual(same(fp), same(openssh('ssh-keygen', ['-l', '-f', `${key}.pub`])), 'as ssh-keygen -l');
      for (const args of [['-l', '-f', `${key}.pub`], ['-Z'], ['-Y', 'frob'], ['-l', '-f', '/no/such']]) {
        assert.deepEqual(same(direct(via, args)), plain(bin, args), `sshkit-keygen ${args.join(' ')}`);
      }
      rmSync(`${msg}.sig`, { force: true });
      const signed = direct(via, ['-Y', 'sign', '-f', key, '-n', 'file', msg]);
      assert.equal(signed.status, 0, signed.stderr);
      assert.match(signed.node, /--snapshot-blob/);
      const verify = ['-Y', 'verify', '-f', signers, '-I', 'kg@example.com', '-n', 'file', '-s', `${msg}.sig`];
      assert.equal(openssh('ssh-keygen', verify, { input: readFileSync(msg) }).status, 0, 'ssh-keygen -Y verify accepts it');
      const good = direct(via, verify, {}, readFileSync(msg, 'utf8'));
      assert.deepEqual(same(good), same(openssh('ssh-keygen', verify, { input: readFileSync(msg) })), 'verify: as ssh-keygen');
      const bad = direct(via, verify, {}, 'other data\n');
      assert.equal(bad.status, 255, 'control: other data is refused, as ssh-keygen does');
      assert.deepEqual(same(bad), same(openssh('ssh-keygen', verify, { input: 'other data\n' })));
    }
  });

  it('serve takes the plain path from bin/sshkit (a long-running server keeps no snapshot heap), but runs from the snapshot too; exec runs from it: OpenSSH ssh and sshkit exec log in', async () => {
    const bin = join(pkg, 'bin', 'sshkit');
    writeFileSync(log, '');
    const help = await runAsync(bin, ['serve', '--help'], { env: { PATH: `${wrap}:${process.env.PATH}`, NODE_LOG: log } });
    assert.match(help.stdout, /^sshkit serve/, help.stderr);
    assert.match(readFileSync(log, 'utf8'), /^\S+bin\/sshkit serve --help/, 'bin/sshkit serve: the plain path');
    assert.doesNotMatch(readFileSync(log, 'utf8'), /--snapshot-blob/);
    const key = join(t.dir, 'serve_ed25519');
    assert.equal(openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
    writeFileSync(join(t.dir, 'serve_ak'), readFileSync(`${key}.pub`));
    writeFileSync(log, '');
    // the snapshot still serves (its bundle's require must give ssh2's loader a module cache): started as bin/sshkit would
    const srv = spawn(join(wrap, 'node'), ['--snapshot-blob', join(pkg, 'dist', 'snapshot', 'sshkit.blob'), bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--authorized', join(t.dir, 'serve_ak')], { env: env({ XDG_CONFIG_HOME: join(t.dir, 'serve-cfg') }) });
    try {
      let err = '';
      const port = await new Promise<string>((ok, fail) => {
        srv.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d;
          const m = / listening .*port=(\d+)/.exec(err);
          if (m) ok(m[1]);
        });
        srv.on('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
      });
      assert.match(readFileSync(log, 'utf8'), /^--snapshot-blob \S+sshkit\.blob \S+bin\/sshkit serve /, 'serve started from the snapshot');
      const opts = ['-p', port, '-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];
      const ssh = await runAsync('ssh', [...opts, 'alice@127.0.0.1', 'echo', 'through-ssh']);
      assert.equal(ssh.stdout, 'through-ssh\n', ssh.stderr);
      writeFileSync(log, '');
      const ex = await runAsync(bin, ['exec', '-p', port, '-i', key, '-o', 'StrictHostKeyChecking=accept-new', '--known-hosts', join(t.dir, 'serve_kh'), 'alice@127.0.0.1', '--', 'echo', 'through-exec'], { env: { PATH: `${wrap}:${process.env.PATH}`, NODE_LOG: log } });
      assert.equal(ex.stdout, 'through-exec\n', ex.stderr);
      assert.match(readFileSync(log, 'utf8'), /--snapshot-blob \S+ \S+bin\/sshkit exec /, 'exec ran from the snapshot');
    } finally {
      srv.kill();
    }
  });

  const fallbacks: [string, Record<string, string>, (dir: string) => void][] = [
    ['the blob is missing', {}, (dir) => rmSync(join(dir, 'dist', 'snapshot', 'sshkit.blob'))],
    ['NODE_OPTIONS is set', { NODE_OPTIONS: '--no-warnings' }, () => {}],
    ['SSHKIT_SNAPSHOT=0', { SSHKIT_SNAPSHOT: '0' }, () => {}],
    ['dist was rebuilt after the snapshot (tsc alone)', {}, (dir) => assert.equal(spawnSync('touch', [join(dir, 'dist', 'src', 'cli.js')]).status, 0)],
    ['package.json was edited after the snapshot (its version is in the snapshot)', {}, (dir) => assert.equal(spawnSync('touch', [join(dir, 'package.json')]).status, 0)],
  ];
  fallbacks.forEach(([why, extra, breakIt], i) => {
    it(`falls back to the plain path when ${why}: same output, nothing on stderr about it`, () => {
      // one package copy (pkg) serves every case: each is broken and repaired in turn
      const bin = join(pkg, 'bin', 'sshkit');
      if (i === 0 || !existsSync(join(pkg, 'dist', 'snapshot', 'sshkit.blob'))) {
        rmSync(pkg, { recursive: true, force: true });
        assert.equal(makePackage(pkg).status, 0);
      }
      assert.match(direct(bin, ['--version']).node, /--snapshot-blob/, 'control: before, the snapshot is used');
      breakIt(pkg);
      for (const args of [['--version'], ['--help'], ['fingerprint', '--frob', '-'], ['fingerprint', '/no/such']]) {
        const r = direct(bin, args, extra);
        assert.doesNotMatch(r.node, /--snapshot-blob/, `${why}: plain path`);
        assert.match(r.node, /bin\/sshkit/);
        assert.deepEqual(same(r), plain(bin, args, extra), `${why}: sshkit ${args.join(' ')}`);
      }
      const kg = join(pkg, 'bin', 'sshkit-keygen');
      const k = direct(kg, ['-l', '-f', '/no/such'], extra);
      assert.doesNotMatch(k.node, /--snapshot-blob/, `${why}: sshkit-keygen on the plain path`);
      assert.match(k.node, /bin\/sshkit-keygen -l/);
      assert.deepEqual(same(k), plain(kg, ['-l', '-f', '/no/such'], extra), `${why}: sshkit-keygen -l -f /no/such`);
      // repair what this case broke (the next one starts from a working snapshot)
      if (why.startsWith('dist was rebuilt') || why.startsWith('package.json')) rmSync(join(pkg, 'dist', 'snapshot', 'sshkit.blob'));
    });
  });

  it('falls back when the blob was built by another Node version (which Node itself refuses, exit 14)', () => {
    const dir = join(t.dir, 'other-node');
    assert.equal(makePackage(dir).status, 0);
    const bin = join(dir, 'bin', 'sshkit');
    const blob = join(dir, 'dist', 'snapshot', 'sshkit.blob');
    // a blob of another release: its header names another version, and it carries that binary's mtime
    const b = readFileSync(blob);
    const at = b.indexOf(process.versions.node);
    assert.ok(at > 0 && at < 64, 'the header holds the Node version');
    b.write('19.0.0'.padEnd(process.versions.node.length, '0'), at, 'latin1');
    writeFileSync(blob, b);
    const refused = spawnSync(process.execPath, ['--snapshot-blob', blob, bin, '--version'], { env: env(), encoding: 'utf8' });
    assert.equal(refused.status, 14, 'control: Node refuses a blob of another version');
    assert.match(refused.stderr, /Failed to load the startup snapshot/);
    for (const args of [['--version'], ['--help'], ['sign']]) {
      const r = direct(bin, args);
      assert.doesNotMatch(r.node, /--snapshot-blob/);
      assert.doesNotMatch(r.stderr, /startup snapshot/);
      assert.deepEqual(same(r), plain(bin, args));
    }
  });

  it('installed from the npm tarball: postinstall makes the blob from the bundle the tarball carries', () => {
    // what the tarball holds (package.json "files"), every file with the one mtime npm extracts it with
    const inst = join(t.dir, 'installed');
    const files: string[] = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).files;
    assert.ok(files.includes('dist/snapshot/sshkit.cjs') && files.includes('scripts/build-snapshot.mjs'), 'the tarball carries the bundle and the script');
    for (const f of [...files, 'package.json']) {
      mkdirSync(dirname(join(inst, f)), { recursive: true });
      cpSync(join(pkg, f), join(inst, f), { recursive: true });
    }
    assert.ok(!existsSync(join(inst, 'dist', 'snapshot', 'sshkit.blob')) && !existsSync(join(inst, 'src')), 'no blob, no sources');
    const npmTime = new Date('1985-10-26T08:15:00Z');
    const stamp = (d: string): void => {
      for (const e of readdirSync(d)) {
        const f = join(d, e);
        if (statSync(f).isDirectory()) stamp(f);
        utimesSync(f, npmTime, npmTime);
      }
    };
    stamp(inst);
    symlinkSync(join(ROOT, 'node_modules'), join(inst, 'node_modules'));
    const bin = join(inst, 'bin', 'sshkit');
    assert.doesNotMatch(direct(bin, ['--version']).node, /--snapshot-blob/, 'control: before postinstall, the plain path');
    const post = spawnSync(process.execPath, [join(inst, 'scripts', 'build-snapshot.mjs'), '--installed'], { env: testEnv(), encoding: 'utf8' });
    assert.equal(post.status, 0, post.stderr);
    assert.equal(post.stderr, '');
    assert.match(post.stdout, /^sshkit: startup snapshot built for Node v\d+/);
    for (const args of [['--version'], ['--help'], ['fingerprint', '--frob', '-'], ['verify-signature', '-n', 'x']]) {
      const r = direct(bin, args);
      assert.match(r.node, /--snapshot-blob \S*installed\/bin\/\.\.\/dist\/snapshot\/sshkit\.blob /, `${args.join(' ')}: the snapshot was used`);
      assert.deepEqual(same(r), plain(bin, args), `installed sshkit ${args.join(' ')}`);
    }
    // in a checkout (sources present) postinstall leaves everything to prepare
    const blobBefore = statSync(join(inst, 'dist', 'snapshot', 'sshkit.blob')).mtimeMs;
    mkdirSync(join(inst, 'src'));
    const inCheckout = spawnSync(process.execPath, [join(inst, 'scripts', 'build-snapshot.mjs'), '--installed'], { env: testEnv(), encoding: 'utf8' });
    assert.deepEqual([inCheckout.status, inCheckout.stdout, inCheckout.stderr], [0, '', '']);
    assert.equal(statSync(join(inst, 'dist', 'snapshot', 'sshkit.blob')).mtimeMs, blobBefore, 'the blob was not touched');
  });

  it('works from another folder than the one it was built in, and through a symlink (node_modules/.bin)', () => {
    const built = join(t.dir, 'built-here');
    assert.equal(makePackage(built).status, 0);
    const moved = join(t.dir, 'moved-there');
    renameSync(built, moved);
    assert.ok(!existsSync(built));
    const bin = join(moved, 'bin', 'sshkit');
    const link = join(t.dir, 'dot-bin');
    mkdirSync(link);
    symlinkSync(`../moved-there/bin/sshkit`, join(link, 'sshkit'));
    for (const via of [bin, join(link, 'sshkit')]) {
      for (const args of [['--version'], ['--help'], ['fingerprint', '--frob', '-']]) {
        const r = direct(via, args);
        assert.match(r.node, /--snapshot-blob \S*moved-there\/bin\/\.\.\/dist\/snapshot\/sshkit\.blob /);
        assert.deepEqual(same(r), plain(bin, args), `${via} ${args.join(' ')}`);
      }
    }
  });
});

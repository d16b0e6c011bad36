/**
 * The library's declarations and import behaviour, on the built tree (issue 15): the .d.ts of the
 * three entry points (and every declaration file they reach) name no sshpk or ssh2 type, so a
 * consumer compiles without those packages' types; importing an entry point or cli.js runs nothing;
 * SshkitError carries a string code and location beside the CLI's numeric exit status.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ROOT, testEnv } from './helpers.js';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const ENTRIES = ['.', './server', './client'];

/** Module specifiers a declaration file refers to: import/export … from '…' and import('…') types. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) out.push(m[1]);
  return out;
}

/** Every declaration file reachable from `entry` through relative imports, with the bare packages each names. */
function closure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    assert.ok(existsSync(file), `${file} is emitted`);
    const bare: string[] = [];
    for (const s of specifiers(readFileSync(file, 'utf8'))) {
      if (s.startsWith('.')) todo.push(resolve(dirname(file), s.replace(/\.js$/, '.d.ts')));
      else bare.push(s);
    }
    seen.set(file, bare);
  }
  return seen;
}

describe('library declarations', () => {
  it('package.json exports name a types file and code for each entry point, and `files` ships them', () => {
    assert.ok(PKG.files.includes('dist/src'));
    for (const e of ENTRIES) {
      const x = PKG.exports[e];
      assert.ok(x && x.types && x.default, `exports[${e}]`);
      assert.ok(x.types.startsWith('./dist/src/') && x.default.startsWith('./dist/src/'));
      assert.ok(existsSync(join(ROOT, x.types)), `${x.types} emitted by the build`);
      assert.ok(existsSync(join(ROOT, x.default)));
    }
    assert.equal(PKG.exports['./package.json'], './package.json');
  });

  for (const e of ENTRIES) {
    it(`sshkit${e.slice(1)}: no sshpk or ssh2 type in any declaration it reaches`, () => {
      const files = closure(join(ROOT, PKG.exports[e].types));
      const leaks: string[] = [];
      for (const [file, bare] of files) {
        for (const b of bare) if (!b.startsWith('node:')) leaks.push(`${file.slice(ROOT.length)}: ${b}`);
      }
      assert.deepEqual(leaks, [], 'only node: modules may be named');
      assert.ok(files.size >= 2, 'the walk followed the imports');
    });
  }

  it('the scan sees a third-party type where there is one (control: core/signature.d.ts names sshpk)', () => {
    const bare = [...closure(join(ROOT, 'dist/src/core/signature.d.ts')).values()].flat();
    assert.ok(bare.includes('sshpk'));
  });
});

describe('nothing runs on import', () => {
  for (const mod of ['dist/src/index.js', 'dist/src/server/index.js', 'dist/src/client/index.js', 'dist/src/cli.js']) {
    it(`${mod}: prints nothing, exits by itself with 0`, () => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(join(ROOT, mod))});`], {
        env: testEnv(),
        encoding: 'utf8',
        input: '',
        timeout: 60_000,
      });
      assert.equal(r.error, undefined, 'exited before the timeout');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, '');
    });
  }

  it('cli.js main(argv) runs the command line it is given (control for the import above)', () => {
    const cli = JSON.stringify(join(ROOT, 'dist/src/cli.js'));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${cli}); await main(['--version']);`], { env: testEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, PKG.version + '\n');
    const bad = spawnSync(process.execPath, ['--input-type=module', '-e', `const { main } = await import(${cli}); const s = await main(['fingerprint', '/nonexistent/key']); process.stdout.write(String(s));`], { env: testEnv(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '2');
    assert.equal(bad.stderr, 'sshkit: /nonexistent/key: No such file or directory\n');
  });
});

describe('SshkitError', () => {
  it('a string code and the line as data beside the exit status; the CLI still exits with the status', async () => {
    const { parseAuthorizedKeys, parsePublicKey, SshkitError, ParseError } = await import('../src/index.js');
    const err = (() => {
      try {
        parsePublicKey('ssh-ed25519 AAAA!!!!');
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof SshkitError && err instanceof ParseError);
    assert.equal(err.code, 'PARSE');
    assert.equal(err.status, 2);
    const { errors } = parseAuthorizedKeys('\n\nssh-ed25519 AAAA!!!!\n');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].line, 3);
    assert.ok(new SshkitError(255, 'x').code === 'CONNECTION' && new SshkitError(1, 'x').code === 'REFUSED');
    const located = new ParseError('bad line', 7, 'authorized_keys');
    assert.deepEqual({ code: located.code, line: located.line, file: located.file, status: located.status }, { code: 'PARSE', line: 7, file: 'authorized_keys', status: 2 });
  });
});

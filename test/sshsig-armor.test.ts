/**
 * The SSHSIG armor, differential against OpenSSH 9.2's sshsig_dearmor (issue 18 `diff-envelope--*`,
 * `diff-sshsig--*`; issue 10 item 10). Each case mutates only the armor of a signature ssh-keygen made
 * (the blob stays the same, so the signature stays good), runs `ssh-keygen -Y check-novalidate` on it,
 * and sshkit must agree: verifies (exit 0) where ssh-keygen does, refuses as bad input (exit 2, one line)
 * where ssh-keygen refuses. The committed fuzz findings are refused at the armor stage by both.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { dearmorSignature, parseSshsig, verifySshsig } from '../src/core/sshsig.js';
import { ParseError } from '../src/core/errors.js';
import { openssh, ROOT, sshkit, tempDir } from './helpers.js';

let dir = '';
let cleanup = () => {};
const p = (name: string) => join(dir, name);
const FUZZ = join(ROOT, 'test/fixtures/fuzz');

/** `ssh-keygen ARGS < file` (stdin from a file: a pipe would EPIPE when it exits before reading). */
function keygenFrom(args: string[], inputFile: string): { status: number | null; stderr: string } {
  const fd = openSync(inputFile, 'r');
  try {
    const r = spawnSync('ssh-keygen', args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

before(() => {
  ({ dir, cleanup } = tempDir('sshkit-sshsig-armor-'));
  const ok = (args: string[]) => assert.equal(openssh('ssh-keygen', args).status, 0, `ssh-keygen ${args.join(' ')}`);
  ok(['-q', '-t', 'ed25519', '-N', '', '-f', p('k')]);
  writeFileSync(p('data'), 'armored data\n');
  writeFileSync(p('gdata'), readFileSync(p('data')));
  ok(['-Y', 'sign', '-f', p('k'), '-n', 'file', p('data')]);
  // namespace "git" + sha256 gives a blob whose base64 ends in one "=" (the padding cases need it)
  ok(['-Y', 'sign', '-f', p('k'), '-n', 'git', '-O', 'hashalg=sha256', p('gdata')]);
  assert.match(readFileSync(p('gdata.sig'), 'utf8'), /[^=]=\n-----END/);
});
after(() => cleanup());

const H = '-----BEGIN SSH SIGNATURE-----';
const F = '-----END SSH SIGNATURE-----';
type Mutation = [name: string, which: 'data' | 'gdata', mutate: (sig: string, b64: string) => string | Buffer];
const body = (sig: string) => sig.split('\n').slice(1, -2);

const MUTATIONS: Mutation[] = [
  ['unchanged (control)', 'data', (s) => s],
  ['no newline after the header (diff-envelope--1fd221b73b)', 'data', (s) => s.replace(`${H}\n`, H)],
  ['leading spaces before the header (diff-envelope--5097f160df)', 'data', (s) => `   ${s}`],
  ['footer not on its own line (diff-envelope--680bd2ee32)', 'data', (s) => s.replace(`\n${F}`, F)],
  ['header glued to one long base64 line (diff-envelope--931fb0fc9c)', 'data', (_s, b) => `${H}${b}\n${F}\n`],
  ['CRLF line ends (diff-envelope--c2c173ebfe, diff-sshsig--eaf79a0ab7)', 'data', (s) => s.replace(/\n/g, '\r\n')],
  ['leading blank line (diff-envelope--c36729d3b6)', 'data', (s) => `\n${s}`],
  ['non-canonical padding (diff-sshsig--a0e80b4d95)', 'gdata', (s) => s.replace(/(.)=\n/, (_m, c: string) => `${String.fromCharCode(c.charCodeAt(0) + 1)}=\n`)],
  ['padding removed', 'gdata', (s) => s.replace('=\n', '\n')],
  ['one padding too many', 'gdata', (s) => s.replace('=\n', '==\n')],
  ['base64 after the padding', 'gdata', (s) => s.replace('=\n', '=AAAA\n')],
  ['CR after the header only', 'data', (s) => s.replace(`${H}\n`, `${H}\r\n`)],
  ['the header twice', 'data', (s) => `${H}\n${s}`],
  ['NUL inside the base64', 'data', (s) => s.replace('\n', '\nU\0')],
  ['no newline before the footer', 'data', (s) => s.replace(`\n${F}`, F)],
  // what sshsig_dearmor accepts: b64_pton skips C whitespace anywhere; the footer ends the armor
  ['one long base64 line', 'data', (_s, b) => `${H}\n${b}\n${F}\n`],
  ['short base64 lines', 'data', (_s, b) => `${H}\n${b.replace(/(.{8})/g, '$1\n')}\n${F}\n`],
  ['indented body line', 'data', (s) => s.replace(/\n(?=[A-Za-z0-9+/])/, '\n  \t')],
  ['blank body lines', 'data', (s) => s.replace(/\n(?=[A-Za-z0-9+/])/g, '\n\n')],
  ['CR at the end of body lines', 'data', (s) => `${H}\n${body(s).join('\r\n')}\r\n${F}\n`],
  ['vertical tab and form feed inside the base64', 'data', (s) => s.replace(/\n(.{5})/, '\n$1\v\f')],
  ['space before and after the padding', 'gdata', (s) => s.replace('=\n', ' = \t\n')],
  ['NUL as the last body byte', 'data', (s) => s.replace(`\n${F}`, `\0\n${F}`)],
  ['no final newline', 'data', (s) => s.slice(0, -1)],
  ['text after the footer', 'data', (s) => `${s}trailing text\n`],
  ['footer with a suffix', 'data', (s) => s.replace(F, `${F}XYZ`)],
  ['footer twice', 'data', (s) => `${s}${F}\n`],
  ['CR after the footer', 'data', (s) => s.replace(`${F}\n`, `${F}\r\n`)],
];

for (const [name, which, mutate] of MUTATIONS) {
  test(`armor: ${name} → sshkit decides as ssh-keygen -Y check-novalidate`, () => {
    const sig = readFileSync(p(`${which}.sig`), 'latin1');
    const mutated = mutate(sig, body(sig).join(''));
    if (!name.startsWith('unchanged')) assert.notEqual(mutated, sig, 'the mutation changes the file');
    const file = p('m.sig');
    writeFileSync(file, typeof mutated === 'string' ? Buffer.from(mutated, 'latin1') : mutated);
    const ns = which === 'data' ? 'file' : 'git';
    const ref = keygenFrom(['-Y', 'check-novalidate', '-n', ns, '-s', file], p(which));
    // the findings and the control through the CLI (exit status, output); the other rows through the core
    if (!/diff-|unchanged/.test(name)) {
      assert.equal(core(file, ns, p(which)), ref.status === 0 ? 'good' : 'error', `ssh-keygen: ${ref.status} ${ref.stderr.trim()}`);
      return;
    }
    const ours = sshkit(['verify-signature', '--public-key', p('k.pub'), '-n', ns, '-s', file, p(which)]);
    if (ref.status === 0) {
      assert.equal(ours.status, 0, `ssh-keygen accepts, sshkit: ${ours.stderr}`);
      assert.match(ours.stdout, /^Good "(file|git)" signature with ED25519 key SHA256:/);
    } else {
      assert.equal(ours.status, 2, `ssh-keygen refuses (${ref.stderr.trim()}), sshkit: ${ours.stdout}${ours.stderr}`);
      assert.match(ours.stderr, /^sshkit: [^\n]+\n$/);
    }
  });
}

/** The core's check-novalidate: good or bad signature by its own key, or 'error' for a ParseError. */
function core(file: string, ns: string, data: string): 'good' | 'bad' | 'error' {
  try {
    const sig = parseSshsig(dearmorSignature(readFileSync(file)));
    const digest = createHash(sig.hashAlgorithm).update(readFileSync(data)).digest();
    return verifySshsig(sig, digest, ns).ok ? 'good' : 'bad';
  } catch (err) {
    if (err instanceof ParseError) return 'error';
    throw err;
  }
}

const FINDINGS = ['1fd221b73b', '5097f160df', '680bd2ee32', '931fb0fc9c', 'c2c173ebfe', 'c36729d3b6'].map((h) => `diff-envelope--${h}`);
FINDINGS.push('diff-sshsig--a0e80b4d95', 'diff-sshsig--eaf79a0ab7');

for (const name of FINDINGS) {
  test(`fuzz finding ${name}: ssh-keygen refuses its armor, and so does dearmorSignature`, () => {
    const file = join(FUZZ, `${name}.bin`);
    const ref = keygenFrom(['-Y', 'check-novalidate', '-n', 'file', '-s', file], p('data'));
    assert.notEqual(ref.status, 0);
    assert.match(ref.stderr, /sshsig_armor: invalid format/, 'ssh-keygen fails while reading the armor, whatever the data');
    assert.throws(() => dearmorSignature(readFileSync(file)), ParseError);
    const r = sshkit(['find-principals', '-f', p('k.pub'), '-s', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^sshkit: [^\n]+: signature: [^\n]+\n$/);
  });
}

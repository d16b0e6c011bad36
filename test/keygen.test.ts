/**
 * `sshkit keygen` against the real OpenSSH 9.2 tools: every key sshkit writes must be read back by
 * `ssh-keygen -y -f FILE [-P pass]` as the key in FILE.pub, and `ssh-keygen -l -v -f FILE.pub` must show
 * the fingerprint and randomart sshkit printed. The human text is compared with what `ssh-keygen -t … -f`
 * itself printed in this run.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { userInfo, hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeFilesAtomic } from '../src/core/atomic-write.js';
import { openssh, runAsync, sshkit, sshkitAsync, SSHKIT, tempDir, testEnv, type RunResult } from './helpers.js';

const { dir, cleanup } = tempDir('sshkit-keygen-');
after(cleanup);

const asRoot = process.getuid?.() === 0;
/** A tool that runs a command as user nobody (only looked for when running as root). */
const dropPrivileges = asRoot ? ['setpriv', 'runuser'].find((t) => spawnSync(t, ['--version']).status === 0) : undefined;
function dropArgs(tool: string): string[] {
  if (tool === 'runuser') return ['-u', 'nobody', '--'];
  const gid = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim(); // nogroup or nobody, by distribution
  return ['--reuid=nobody', `--regid=${gid}`, '--clear-groups', '--'];
}

let seq = 0;
/** A fresh empty folder per test, so a listing shows exactly what one command left behind. */
function freshDir(): string {
  const d = join(dir, String(++seq));
  mkdirSync(d);
  return d;
}

/** A real OpenSSH tool, asynchronously (so the matrix below runs two at a time). */
function tool(cmd: string, args: string[]): Promise<RunResult> {
  return runAsync(cmd, args, { env: { LC_ALL: 'C.UTF-8' } });
}

/** `type base64` of a public key line (the comment is not part of the key). */
function keyPart(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(' ');
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Asserts a failure: exit 2, nothing on stdout, exactly one `sshkit: …` line on stderr. */
function assertUsageError(r: RunResult, pattern?: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^sshkit: [^\n]+\n$/);
  if (pattern) assert.match(r.stderr, pattern);
}

/** The armor line ssh-keygen writes for a type and `-m` format (checked against ssh-keygen in a test below). */
function expectedArmor(type: string, format: string, encrypted: boolean): string {
  if (type === 'ed25519' || format === 'openssh') return 'OPENSSH PRIVATE KEY';
  if (format === 'pkcs8') return encrypted ? 'ENCRYPTED PRIVATE KEY' : 'PRIVATE KEY';
  return type === 'rsa' ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
}

/** The public exponent e of an `ssh-rsa` public key line (blob: string type, mpint e, mpint n). */
function rsaExponent(line: string): bigint {
  const blob = Buffer.from(line.split(' ')[1], 'base64');
  const typeLen = blob.readUInt32BE(0);
  assert.equal(blob.subarray(4, 4 + typeLen).toString(), 'ssh-rsa');
  const eLen = blob.readUInt32BE(4 + typeLen);
  const e = blob.subarray(8 + typeLen, 8 + typeLen + eLen);
  return e.length === 0 ? 0n : BigInt(`0x${e.toString('hex')}`);
}

let refRsa: Promise<string> | undefined;
/** The .pub line of one RSA key made by ssh-keygen in this run (made once, on first use). */
function referenceRsaPub(): Promise<string> {
  refRsa ??= (async () => {
    const f = join(freshDir(), 'ref-rsa');
    const r = await tool('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', f]);
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(`${f}.pub`, 'utf8');
  })();
  return refRsa;
}

/**
 * What protects an encrypted PEM or PKCS#8 private key: the PEM headers (`Proc-Type`, the `DEK-Info`
 * cipher; the IV is random), or for PKCS#8 the algorithm OIDs and integers (PBES2, PBKDF2, iteration
 * count, PRF, cipher) of the EncryptedPrivateKeyInfo header, from `openssl asn1parse` when available.
 */
function encryptionOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  if (/^-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)) {
    return text.split('\n').filter((l) => /^(Proc-Type|DEK-Info):/.test(l)).map((l) => l.replace(/^(DEK-Info: [^,]+),.*/, '$1'));
  }
  assert.match(text, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
  const der = Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  if (hasOpenssl()) {
    const p = spawnSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    // Everything before the encrypted payload (the last OCTET STRING at depth 1), minus the random salt and IV.
    const lines = p.stdout.split('\n').filter((l) => / (OBJECT|INTEGER) /.test(l) && !/d=1 /.test(l));
    return lines.map((l) => l.replace(/^.*(OBJECT|INTEGER)\s*/, '$1 '));
  }
  return derHeader(der);
}

let openssl: boolean | undefined;
function hasOpenssl(): boolean {
  openssl ??= spawnSync('openssl', ['version']).status === 0;
  return openssl;
}

/** Minimal DER walk (fallback without openssl): OIDs and INTEGERs inside the encryption AlgorithmIdentifier. */
function derHeader(der: Buffer): string[] {
  const out: string[] = [];
  const walk = (buf: Buffer): void => {
    let off = 0;
    while (off < buf.length) {
      const tag = buf[off];
      let len = buf[off + 1];
      let hdr = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = buf.subarray(off + 2, off + 2 + n).reduce((a, b) => a * 256 + b, 0);
        hdr = 2 + n;
      }
      const body = buf.subarray(off + hdr, off + hdr + len);
      if (tag === 0x30) walk(body);
      else if (tag === 0x06) out.push(`OBJECT ${oid(body)}`);
      else if (tag === 0x02) out.push(`INTEGER ${body.toString('hex')}`);
      off += hdr + len;
    }
  };
  const top = der.subarray(der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2); // inside the outer SEQUENCE
  const algLen = top[1] & 0x80 ? top.subarray(2, 2 + (top[1] & 0x7f)).reduce((a, b) => a * 256 + b, 0) : top[1];
  const algHdr = top[1] & 0x80 ? 2 + (top[1] & 0x7f) : 2;
  walk(top.subarray(algHdr, algHdr + algLen));
  return out;
}

function oid(b: Buffer): string {
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (const x of b.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

interface Case {
  type: string;
  bits?: number;
  format: string;
  pass: string;
}

const cases: Case[] = [];
for (const [type, bits] of [['ed25519', undefined], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 2048]] as const) {
  for (const format of ['openssh', 'pem', 'pkcs8']) {
    if (type === 'ed25519' && format === 'pkcs8') continue; // same as pem: ed25519 is always OpenSSH format
    for (const pass of ['', 'correct horse']) cases.push({ type, bits, format, pass });
  }
}
cases.push({ type: 'rsa', format: 'openssh', pass: '' }); // default 3072 bits
cases.push({ type: 'rsa', bits: 4096, format: 'pkcs8', pass: 'correct horse' }); // the one slow key

describe('every type, size, format and passphrase: ssh-keygen reads the key back', { concurrency: 2 }, () => {
  for (const c of cases) {
    const name = `${c.type}${c.bits ?? ''} -m ${c.format}${c.pass ? ' -N …' : ''}`;
    test(name, async () => {
      const d = freshDir();
      const file = join(d, 'key');
      const args = ['keygen', '-t', c.type, '-m', c.format, '-N', c.pass, '-C', 'test@sshkit', '-f', file, '--json'];
      if (c.bits) args.push('-b', String(c.bits));
      const r = await sshkitAsync(args);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const json = JSON.parse(r.stdout);
      const wantBits = c.bits ?? (c.type === 'rsa' ? 3072 : 256);
      const wantFormat = c.type === 'ed25519' ? 'openssh' : c.format;
      assert.deepEqual(Object.keys(json).sort(), ['bits', 'comment', 'encrypted', 'file', 'fingerprint', 'format', 'keyType', 'publicFile', 'type']);
      assert.deepEqual(
        { file: json.file, publicFile: json.publicFile, type: json.type, bits: json.bits, comment: json.comment, format: json.format, encrypted: json.encrypted },
        { file, publicFile: `${file}.pub`, type: c.type, bits: wantBits, comment: 'test@sshkit', format: wantFormat, encrypted: c.pass !== '' },
      );
      assert.deepEqual(readdirSync(d).sort(), ['key', 'key.pub']);
      assert.equal(mode(file), 0o600);
      assert.equal(mode(`${file}.pub`), 0o644);
      const priv = readFileSync(file, 'utf8');
      assert.ok(priv.startsWith(`-----BEGIN ${expectedArmor(c.type, c.format, c.pass !== '')}-----\n`), priv.split('\n')[0]);

      const pub = readFileSync(`${file}.pub`, 'utf8');
      assert.match(pub, /^\S+ \S+ test@sshkit\n$/);
      assert.equal(pub.split(' ')[0], json.keyType);
      const y = await tool('ssh-keygen', ['-y', '-f', file, '-P', c.pass]);
      assert.equal(y.status, 0, y.stderr);
      assert.equal(keyPart(y.stdout), keyPart(pub));
      if (c.pass) {
        const noPass = await tool('ssh-keygen', ['-y', '-f', file, '-P', '']);
        assert.notEqual(noPass.status, 0, 'an encrypted key must not open without its passphrase');
      }
      const l = await tool('ssh-keygen', ['-l', '-f', `${file}.pub`]);
      assert.equal(l.status, 0, l.stderr);
      const [bits, fp] = l.stdout.split(' ');
      assert.equal(fp, json.fingerprint);
      assert.equal(Number(bits), wantBits);
      if (c.type === 'rsa') assert.equal(rsaExponent(pub), rsaExponent(await referenceRsaPub()), 'RSA public exponent e');
    });
  }
});

test('OpenSSH-format encryption is what ssh-keygen uses: aes256-ctr, bcrypt, 16 rounds', () => {
  const file = join(freshDir(), 'key');
  const r = sshkit(['keygen', '-q', '-N', 'secret', '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  const body = Buffer.from(readFileSync(file, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  let off = 'openssh-key-v1\0'.length;
  const str = () => {
    const n = body.readUInt32BE(off);
    const v = body.subarray(off + 4, off + 4 + n);
    off += 4 + n;
    return v;
  };
  assert.equal(str().toString(), 'aes256-ctr');
  assert.equal(str().toString(), 'bcrypt');
  const kdf = str();
  assert.equal(kdf.readUInt32BE(0), 16); // salt length
  assert.equal(kdf.readUInt32BE(20), 16); // rounds
});

test('the private key armor per -m matches what ssh-keygen -m writes', async () => {
  const d = freshDir();
  for (const [type, format] of [['ed25519', 'pem'], ['ed25519', 'pkcs8'], ['ecdsa', 'pem'], ['ecdsa', 'pkcs8'], ['rsa', 'pem'], ['rsa', 'pkcs8']]) {
    for (const pass of ['', 'secret']) {
      const f = join(d, `${type}-${format}-${pass ? 'enc' : 'plain'}`);
      const r = await tool('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-m', format.toUpperCase(), '-N', pass, '-f', f]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(f, 'utf8').split('\n')[0], `-----BEGIN ${expectedArmor(type, format, pass !== '')}-----`, f);
    }
  }
});

test('PEM and PKCS#8 encryption (cipher, KDF, iterations) is what ssh-keygen -m writes with -N', async () => {
  const d = freshDir();
  for (const [type, format] of [['ecdsa', 'pem'], ['ecdsa', 'pkcs8'], ['rsa', 'pem'], ['rsa', 'pkcs8']]) {
    const ref = join(d, `ref-${type}-${format}`);
    const r = await tool('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-m', format.toUpperCase(), '-N', 'secret', '-f', ref]);
    assert.equal(r.status, 0, r.stderr);
    const file = join(d, `ours-${type}-${format}`);
    const o = await sshkitAsync(['keygen', '-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-m', format, '-N', 'secret', '-f', file]);
    assert.equal(o.status, 0, o.stderr);
    const want = encryptionOf(ref);
    assert.ok(want.length > 0, `no encryption parameters found in ${ref}`);
    assert.deepEqual(encryptionOf(file), want, `${type} -m ${format}`);
  }
});

describe('human output', () => {
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    test(`${type}: the text ssh-keygen prints, with the fingerprint and randomart of ssh-keygen -l -v`, () => {
      const d = freshDir();
      const ref = openssh('ssh-keygen', ['-t', type, '-N', '', '-C', 'me@here', '-f', join(d, 'ref')]);
      assert.equal(ref.status, 0, ref.stderr);
      const file = join(d, 'ours');
      const r = sshkit(['keygen', '-t', type, '-N', '', '-C', 'me@here', '-f', file]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const lv = openssh('ssh-keygen', ['-l', '-v', '-f', `${file}.pub`]);
      assert.equal(lv.status, 0, lv.stderr);
      const [first, ...art] = lv.stdout.trimEnd().split('\n');
      const fp = first.split(' ')[1];
      const refLines = ref.stdout.replaceAll(join(d, 'ref'), file).trimEnd().split('\n');
      const ours = r.stdout.trimEnd().split('\n');
      assert.deepEqual(ours.slice(0, 4), refLines.slice(0, 4));
      assert.equal(ours[4], `${fp} me@here`);
      assert.equal(ours[5], refLines[5]);
      assert.deepEqual(ours.slice(6), art);
      assert.equal(ours.length, refLines.length);
    });
  }

  test('-q prints nothing', () => {
    const r = sshkit(['keygen', '-q', '-f', join(freshDir(), 'k')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
  });
});

describe('comments', () => {
  for (const comment of ['', 'two words here', 'ключ@хост', 'a\tb']) {
    test(`-C ${JSON.stringify(comment)}: .pub line and ssh-keygen -l`, () => {
      const file = join(freshDir(), 'k');
      const r = sshkit(['keygen', '-q', '-C', comment, '-f', file]);
      assert.equal(r.status, 0, r.stderr);
      const pub = readFileSync(`${file}.pub`, 'utf8');
      const [type, b64] = pub.split(' ');
      assert.equal(pub, comment ? `${type} ${b64.trimEnd()} ${comment}\n` : `${type} ${b64}`); // no trailing space
      const l = openssh('ssh-keygen', ['-l', '-f', `${file}.pub`], { env: { LC_ALL: 'C.UTF-8' } });
      assert.equal(l.status, 0, l.stderr);
      assert.match(l.stdout, new RegExp(` ${comment ? comment.replace(/\t/, '\\t') : 'no comment'} \\(ED25519\\)\n$`));
    });
  }

  test('the default comment is user@hostname', () => {
    const file = join(freshDir(), 'k');
    const r = sshkit(['keygen', '--json', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    const want = `${userInfo().username}@${hostname()}`;
    assert.equal(JSON.parse(r.stdout).comment, want);
    assert.ok(readFileSync(`${file}.pub`, 'utf8').endsWith(` ${want}\n`));
  });

  test('a comment with a line break is refused (it would split the .pub line)', () => {
    const d = freshDir();
    assertUsageError(sshkit(['keygen', '-C', 'a\nb', '-f', join(d, 'k')]), /comment/);
    assert.deepEqual(readdirSync(d), []);
  });
});

describe('files', () => {
  test('default FILE is ~/.ssh/id_<type> (HOME respected), missing ~/.ssh made 0700', () => {
    const home = freshDir();
    for (const type of ['ed25519', 'ecdsa']) {
      const r = sshkit(['keygen', '-q', '-t', type], { env: { HOME: home } });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal(mode(join(home, '.ssh')), 0o700);
    assert.deepEqual(readdirSync(join(home, '.ssh')).sort(), ['id_ecdsa', 'id_ecdsa.pub', 'id_ed25519', 'id_ed25519.pub']);
  });

  test('an existing FILE or FILE.pub is left byte-identical and the command fails; --force replaces both', () => {
    const d = freshDir();
    const file = join(d, 'k');
    assert.equal(sshkit(['keygen', '-q', '-f', file]).status, 0);
    const before = [readFileSync(file), readFileSync(`${file}.pub`)];
    assertUsageError(sshkit(['keygen', '-q', '-f', file]), /already exists/);
    assertUsageError(sshkit(['keygen', '-q', '-t', 'rsa', '-f', file]), /already exists/);
    assert.deepEqual([readFileSync(file), readFileSync(`${file}.pub`)], before);
    assert.deepEqual(readdirSync(d).sort(), ['k', 'k.pub']);

    chmodSync(file, 0o640); // --force writes new files with the right modes, whatever the old ones had
    const r = sshkit(['keygen', '-q', '--force', '-t', 'ecdsa', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.notDeepEqual(readFileSync(`${file}.pub`), before[1]);
    assert.equal(mode(file), 0o600);
    assert.equal(mode(`${file}.pub`), 0o644);
    const y = openssh('ssh-keygen', ['-y', '-f', file]);
    assert.equal(keyPart(y.stdout), keyPart(readFileSync(`${file}.pub`, 'utf8')));
    assert.deepEqual(readdirSync(d).sort(), ['k', 'k.pub']);
  });

  test('only FILE.pub existing is enough to refuse', () => {
    const d = freshDir();
    writeFileSync(join(d, 'k.pub'), 'keep me\n');
    assertUsageError(sshkit(['keygen', '-q', '-f', join(d, 'k')]), /k\.pub: already exists/);
    assert.deepEqual(readdirSync(d), ['k.pub']);
    assert.equal(readFileSync(join(d, 'k.pub'), 'utf8'), 'keep me\n');
  });

  test('-f - writes the private key alone to stdout, the report to stderr', () => {
    const d = freshDir();
    const r = sshkit(['keygen', '-f', '-', '-C', 'piped'], { cwd: d });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+-----END OPENSSH PRIVATE KEY-----\n$/);
    assert.match(r.stderr, /^Generating public\/private ed25519 key pair\.\nThe key fingerprint is:\nSHA256:\S+ piped\n/);
    assert.deepEqual(readdirSync(d), []);
    writeFileSync(join(d, 'k'), r.stdout, { mode: 0o600 });
    const y = openssh('ssh-keygen', ['-y', '-f', join(d, 'k')]);
    assert.equal(y.status, 0, y.stderr);
    assert.equal(y.stdout.trimEnd().split(' ')[2], 'piped');
  });
});

describe('passphrase file', () => {
  test('--passphrase-file F: the first line, without its newline', () => {
    const d = freshDir();
    writeFileSync(join(d, 'pw'), 'pass phrase\nsecond line\n');
    const r = sshkit(['keygen', '-q', '--passphrase-file', join(d, 'pw'), '-f', join(d, 'k')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(openssh('ssh-keygen', ['-y', '-P', 'pass phrase', '-f', join(d, 'k')]).status, 0);
  });

  test('--passphrase-file - reads stdin (CRLF tolerated)', () => {
    const d = freshDir();
    const r = sshkit(['keygen', '-q', '-t', 'rsa', '-m', 'pem', '--passphrase-file', '-', '-f', join(d, 'k')], { input: 'from stdin\r\n' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(openssh('ssh-keygen', ['-y', '-P', 'from stdin', '-f', join(d, 'k')]).status, 0);
  });
});

describe('bad input: exit 2, one line, nothing left behind', () => {
  const table: [string, (d: string) => string[], RegExp][] = [
    ['rsa -b 1024', (d) => ['-t', 'rsa', '-b', '1024', '-f', join(d, 'k')], /-b 1024: RSA keys shorter than 2048/],
    ['rsa -b 32768', (d) => ['-t', 'rsa', '-b', '32768', '-f', join(d, 'k')], /-b 32768/],
    ['unknown -t', (d) => ['-t', 'dsa', '-f', join(d, 'k')], /-t dsa: unknown key type/],
    ['ecdsa -b 300', (d) => ['-t', 'ecdsa', '-b', '300', '-f', join(d, 'k')], /-b 300: ECDSA/],
    ['-b not a number', (d) => ['-t', 'rsa', '-b', '2k', '-f', join(d, 'k')], /-b 2k/],
    ['unknown -m', (d) => ['-m', 'der', '-f', join(d, 'k')], /-m der: unknown key format/],
    ['passphrase file missing', (d) => ['--passphrase-file', join(d, 'nope'), '-f', join(d, 'k')], /nope: No such file/],
    ['-N with --passphrase-file', (d) => ['-N', 'x', '--passphrase-file', join(d, 'pw'), '-f', join(d, 'k')], /mutually exclusive/],
    ['PEM passphrase under 5 chars (as ssh-keygen)', (d) => ['-t', 'rsa', '-m', 'pem', '-N', 'abcd', '-f', join(d, 'k')], /too short/],
    ['-f with an empty name', () => ['-f', ''], /-f: empty file name/],
    ['-f - with --json', (d) => ['-f', '-', '--json'], /--json/],
    ['parent is a file', (d) => (writeFileSync(join(d, 'plain'), ''), ['-f', join(d, 'plain', 'k')]), /Not a directory|File exists/],
  ];
  for (const [name, args, pattern] of table) {
    test(name, () => {
      const d = freshDir();
      const r = sshkit(['keygen', ...args(d)], { cwd: d });
      assertUsageError(r, pattern);
      assert.deepEqual(readdirSync(d).filter((f) => f !== 'plain'), []);
    });
  }

  test('unwritable folder (as root: run as nobody via setpriv/runuser, else skipped)', { skip: asRoot && !dropPrivileges ? 'root, and neither setpriv nor runuser' : false }, () => {
    if (!asRoot) {
      const d = freshDir();
      chmodSync(d, 0o500);
      try {
        assertUsageError(sshkit(['keygen', '-q', '-f', join(d, 'k')]), /Permission denied/);
        assert.deepEqual(readdirSync(d), []);
      } finally {
        chmodSync(d, 0o700);
      }
      return;
    }
    // root may write anywhere: nobody gets a root-owned 0555 folder it can enter but not write
    // (made directly under the system temp folder, since our 0700 temp folder is closed to nobody).
    const { dir: d, cleanup: rm } = tempDir('sshkit-keygen-ro-');
    chmodSync(d, 0o555);
    try {
      const r = spawnSync(dropPrivileges!, [...dropArgs(dropPrivileges!), process.execPath, SSHKIT, 'keygen', '-q', '-f', join(d, 'k')], {
        env: testEnv({ HOME: '/nonexistent' }),
        encoding: 'utf8',
      });
      assertUsageError({ status: r.status, stdout: r.stdout, stderr: r.stderr }, /Permission denied/);
      assert.deepEqual(readdirSync(d), []);
    } finally {
      chmodSync(d, 0o700);
      rm();
    }
  });
});

describe('atomic writes (src/core/atomic-write.ts)', () => {
  test('exact modes whatever the umask; no temp files left', () => {
    const d = freshDir();
    const old = process.umask(0o077);
    try {
      writeFilesAtomic([
        { path: join(d, 'a'), data: 'secret', mode: 0o600 },
        { path: join(d, 'a.pub'), data: 'public', mode: 0o644 },
      ]);
    } finally {
      process.umask(old);
    }
    assert.equal(mode(join(d, 'a')), 0o600);
    assert.equal(mode(join(d, 'a.pub')), 0o644);
    assert.deepEqual(readdirSync(d).sort(), ['a', 'a.pub']);
  });

  test('without overwrite an existing file is never replaced, and the pair is rolled back', () => {
    const d = freshDir();
    writeFileSync(join(d, 'b.pub'), 'keep');
    assert.throws(
      () =>
        writeFilesAtomic([
          { path: join(d, 'b'), data: 'new', mode: 0o600 },
          { path: join(d, 'b.pub'), data: 'new', mode: 0o644 },
        ]),
      /b\.pub: File exists/,
    );
    assert.deepEqual(readdirSync(d), ['b.pub']); // b was created, then removed again; no temp files
    assert.equal(readFileSync(join(d, 'b.pub'), 'utf8'), 'keep');
  });

  test('overwrite replaces in one step; a missing parent is made 0700', () => {
    const d = freshDir();
    const p = join(d, 'sub', 'deeper', 'c');
    writeFileAtomic(p, 'one', 0o600);
    writeFileAtomic(p, 'two', 0o600, true);
    assert.equal(readFileSync(p, 'utf8'), 'two');
    assert.equal(mode(join(d, 'sub')), 0o700);
    assert.equal(mode(join(d, 'sub', 'deeper')), 0o700);
    assert.deepEqual(readdirSync(join(d, 'sub', 'deeper')), ['c']);
  });
});

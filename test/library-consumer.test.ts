/**
 * sshkit as a library, from the outside (issue 15): the packed tarball installed into a fresh project,
 * a strict TypeScript consumer (test/library-consumer/consumer.ts) compiled against its declarations,
 * then run on inputs ssh-keygen made. Expected values come from ssh-keygen (-l, -l -E md5, -Y verify)
 * and from a real `ssh` login; each refusal has a passing control on the same server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT, openssh, testEnv } from './helpers.js';
import { installGlobal, makeConsumer, makeInputs, nodeIn, type Consumer } from './library-helper.js';
import { sshRun } from './server-helper.js';

let c: Consumer;

before(() => {
  c = makeConsumer();
  makeInputs(c.data);
  const pub = readFileSync(join(c.data, 'id_ed25519.pub'), 'utf8').trim();
  const rsa = readFileSync(join(c.data, 'id_rsa.pub'), 'utf8').trim();
  writeFileSync(join(c.data, 'allowed_signers'), `alice@example.com namespaces="file" ${pub}\n`);
  // line 2 is junk, line 4 an unknown option: both reported, lines 1, 3 and 5 kept
  writeFileSync(join(c.data, 'authorized_keys'), `${pub}\nssh-ed25519 AAAAnot-base64!\ncommand="uptime" ${rsa}\nbogus-option ${pub}\n# comment\n\n${rsa}\n`);
});
after(() => c?.cleanup());

/** `ssh-keygen -l [-E md5] -f FILE`'s fingerprint field. */
function keygenFingerprint(file: string, md5 = false): string {
  const r = openssh('ssh-keygen', ['-l', ...(md5 ? ['-E', 'md5'] : []), '-f', file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split(' ')[1];
}

describe('library consumer (packed tarball, strict TypeScript)', () => {
  it('core calls agree with ssh-keygen: fingerprints, SSHSIG verify/sign, authorized_keys errors, error codes', async () => {
    const r = await nodeIn(c.dir, ['out/consumer.js', 'core', c.data]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const o = JSON.parse(r.stdout);
    assert.equal(o.sha256, keygenFingerprint(join(c.data, 'id_ed25519.pub')));
    assert.equal(o.md5, keygenFingerprint(join(c.data, 'id_ed25519.pub'), true));
    assert.equal(o.rsaSha256, keygenFingerprint(join(c.data, 'id_rsa.pub')));
    assert.equal(o.comment, 'alice@example.com');
    // authorized_keys: good lines kept with their numbers and options, bad ones reported by line
    assert.deepEqual(
      o.authorized.keys.map((k: { line: number }) => k.line),
      [1, 3, 7],
    );
    assert.equal(o.authorized.keys[1].command, 'uptime');
    assert.deepEqual(
      o.authorized.errors.map((e: { line: number }) => e.line),
      [2, 4],
    );
    for (const e of o.authorized.errors) assert.match(e.message, /\S/);
    // the signature ssh-keygen -Y sign made verifies (Buffer and stream), with its signer's fingerprint
    assert.deepEqual(o.good, { ok: true, signer: o.sha256 });
    assert.equal(o.streamed, true);
    // refusals beside that control: another identity, other data
    assert.equal(o.wrongIdentity.ok, false);
    assert.match(o.wrongIdentity.reason, /allowed_signers/);
    assert.equal(o.wrongData.ok, false);
    assert.match(o.wrongData.reason, /Signature verification failed/);
    // our signatures verify with ssh-keygen -Y verify (plain and encrypted key, sha256)
    for (const sig of ['ours.sig', 'ours-enc.sig']) {
      const signers = join(c.data, sig === 'ours.sig' ? 'allowed_signers' : 'allowed_signers_enc');
      if (sig === 'ours-enc.sig') writeFileSync(signers, `enc@example.com ${readFileSync(join(c.data, 'id_enc.pub'), 'utf8').trim()}\n`);
      const id = sig === 'ours.sig' ? 'alice@example.com' : 'enc@example.com';
      const v = openssh('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', id, '-n', 'file', '-s', join(c.data, sig)], { input: readFileSync(join(c.data, 'msg')) });
      assert.equal(v.status, 0, `ssh-keygen -Y verify ${sig}: ${v.stderr}`);
      const bad = openssh('ssh-keygen', ['-Y', 'verify', '-f', signers, '-I', id, '-n', 'file', '-s', join(c.data, sig)], { input: 'tampered\n' });
      assert.equal(bad.status, 255, 'ssh-keygen refuses the signature over other data');
    }
    assert.deepEqual({ code: o.error.code, status: o.error.status, name: o.error.name, isSshkitError: o.error.isSshkitError }, { code: 'PARSE', status: 2, name: 'ParseError', isSshkitError: true });
    assert.doesNotMatch(o.error.message, /\n/);
    assert.equal(o.passphrase, 'PASSPHRASE_INCORRECT');
  });

  it('createServer: a real ssh login passes, an unlisted and a vetoed key are refused; the client exec follows its host-key policy', async () => {
    const child = spawn(process.execPath, ['out/consumer.js', 'server', c.data], { cwd: c.dir, env: testEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
    try {
      const first = await new Promise<string>((resolve, reject) => {
        const check = () => (stdout.includes('\n') ? resolve(stdout.slice(0, stdout.indexOf('\n'))) : undefined);
        child.stdout.on('data', check);
        void exited.then((s) => reject(new Error(`consumer exited ${s}: ${stderr}`)));
      });
      const o = JSON.parse(first);
      // the host key is the one ssh-keygen made
      assert.deepEqual(o.hostKeys, [keygenFingerprint(join(c.data, 'host_ed25519.pub'))]);
      // real ssh: the listed key logs in and the exec handler answers (control) ...
      const ok = await sshRun(o.port, { key: join(c.data, 'id_ed25519'), user: 'alice', command: 'echo hi' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, 'hello alice: echo hi\n');
      const three = await sshRun(o.port, { key: join(c.data, 'id_ed25519'), user: 'alice', command: 'fail' });
      assert.equal(three.status, 3, 'the handler\'s exit status reaches ssh');
      // ... a key not listed, and a listed key the decision callback vetoes, are refused
      for (const key of ['id_stranger', 'id_denied']) {
        const no = await sshRun(o.port, { key: join(c.data, key), user: 'alice', command: 'echo hi' });
        assert.equal(no.status, 255, `${key}: ${no.stderr}`);
        assert.match(no.stderr, /Permission denied \(publickey\)/);
        assert.equal(no.stdout, '');
      }
      // the library client against the same server: pinned host key (control), exit status, refusals
      assert.deepEqual(o.pinned, { status: 0, stdout: 'hello alice: via-client\n' });
      assert.deepEqual(o.status3, { status: 3, stdout: 'hello alice: fail\n' });
      assert.equal(o.wrongPin.code, 'CONNECTION');
      assert.equal(o.unknownHost.code, 'CONNECTION', 'StrictHostKeyChecking=yes refuses an unknown host');
      assert.match(o.unknownHost.message, /host key/i);
      assert.deepEqual(o.acceptNew, { status: 0, stdout: 'hello alice: first\n' });
      assert.deepEqual(o.known, { status: 0, stdout: 'hello alice: second\n' }, 'accept-new wrote the key; yes then accepts it');
      assert.match(readFileSync(join(c.data, 'known_hosts_new'), 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
      assert.equal(o.vetoed.code, 'CONNECTION');
      // stdin's end stops the server; the process then exits by itself (no handle left open)
      child.stdin.end();
      const status = await exited;
      assert.equal(status, 0, stderr);
      const last = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.equal(last.stopped, true);
      const denied = keygenFingerprint(join(c.data, 'id_denied.pub'));
      assert.ok(last.attempts.some((a: { fingerprint?: string }) => a.fingerprint === denied), 'the callback saw the vetoed key');
      assert.ok(last.attempts.every((a: { user: string; method: string }) => a.user === 'alice' && a.method === 'publickey'));
      assert.equal(stderr, '', 'the library logs nothing unless asked');
    } finally {
      clearTimeout(kill);
      child.kill('SIGKILL');
    }
  });

  it('importing sshkit, sshkit/server and sshkit/client prints nothing and leaves nothing running', async () => {
    const code = "await import('sshkit'); await import('sshkit/server'); await import('sshkit/client'); const p = await import('sshkit/package.json', { with: { type: 'json' } }); if (p.default.name !== 'sshkit') process.exit(9);";
    const r = await nodeIn(c.dir, ['--input-type=module', '-e', code], { timeoutMs: 60_000 });
    assert.equal(r.killed, false, 'the process exited by itself');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    // control: the same harness does see output and a handle that stays open
    const noisy = await nodeIn(c.dir, ['--input-type=module', '-e', "await import('sshkit'); console.log('x'); setTimeout(() => {}, 1e9);"], { timeoutMs: 3000 });
    assert.equal(noisy.killed, true);
    assert.equal(noisy.stdout, 'x\n');
  });

  it('the README examples (test/library-examples.mjs) run and print what ssh-keygen prints', async () => {
    copyFileSync(join(ROOT, 'test/library-examples.mjs'), join(c.dir, 'examples.mjs'));
    copyFileSync(join(c.data, 'msg'), join(c.data, 'message.txt'));
    const r = await nodeIn(c.data, [join(c.dir, 'examples.mjs')], { timeoutMs: 60_000 });
    assert.equal(r.killed, false, 'the examples end by themselves (srv.stop() leaves nothing open)');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const pub = join(c.data, 'id_ed25519.pub');
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], keygenFingerprint(pub));
    assert.equal(lines[1], keygenFingerprint(pub, true));
    assert.equal(lines[2], '3 keys');
    assert.match(lines[3], /^authorized_keys:2: /);
    assert.match(lines[4], /^authorized_keys:4: /);
    assert.match(lines[5], /^PARSE: /);
    assert.equal(lines[6], `Good signature by ${keygenFingerprint(pub)}`);
    assert.equal(lines[7], 'exit 0: hello alice, you ran: uptime');
    assert.equal(lines.length, 9);
  });

  it('npm i -g of the tarball gives a working sshkit, and its bash completion (yargs) completes commands', () => {
    const prefix = join(c.dir, '..', 'global');
    mkdirSync(prefix);
    const bin = installGlobal(c.tarball, prefix);
    const env = { ...testEnv(), PATH: `${bin}:${process.env.PATH}` };
    const pub = join(c.data, 'id_ed25519.pub');
    const fp = spawnSync('sshkit', ['fingerprint', pub], { env, encoding: 'utf8' });
    assert.equal(fp.status, 0, fp.stderr);
    const want = openssh('ssh-keygen', ['-l', '-f', pub]);
    assert.equal(fp.stdout, want.stdout, 'same line as ssh-keygen -l -f');
    const bad = spawnSync('sshkit', ['fingerprint', join(c.data, 'nonexistent')], { env, encoding: 'utf8' });
    assert.equal(bad.status, 2, 'the exit status policy survives the move to main()');
    // bash: source `sshkit completion`, complete `sshkit fing<TAB>` and `sshkit sign --na<TAB>`
    const script = spawnSync('sshkit', ['completion'], { env: { ...env, SHELL: '/bin/bash' }, encoding: 'utf8' });
    assert.equal(script.status, 0, script.stderr);
    const complete = (words: string[]) => {
      const b = spawnSync('bash', ['-c', `eval "$(sshkit completion)"; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _sshkit_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`], { env: { ...env, SHELL: '/bin/bash' }, encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
      return b.stdout.trim().split('\n');
    };
    assert.deepEqual(complete(['sshkit', 'fing']), ['fingerprint']);
    assert.deepEqual(complete(['sshkit', 'sign', '--na']), ['--namespace']);
    assert.ok(complete(['sshkit', '']).includes('verify-signature'), 'control: an empty word lists every command');
  });
});

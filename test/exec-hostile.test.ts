/**
 * `sshkit exec` against a hostile network and careless inputs (issue 9, client items 9, 10, 12), each
 * next to the real ssh 9.2 run on the same input, and each refusal next to a control that succeeds:
 * - a host with a known key of another type is not "new" (MITM under accept-new);
 * - a destination with pattern characters is refused before anything is written into known_hosts;
 * - a private key readable by others is refused with ssh's "UNPROTECTED PRIVATE KEY FILE".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openssh, tempDir } from './helpers.js';
import { clientKey, execCli, oneLine, sshFingerprint } from './exec-helper.js';
import { startSshd, type StartedSshd } from './sshd-helper.js';
import { HostKeyPolicy } from '../src/client/host-keys.js';
import { parseTarget } from '../src/client/target.js';

const tmp = tempDir('sshkit-exec-hostile-');
const home = join(tmp.dir, 'home');
let sshd: StartedSshd; // serves an ECDSA host key only
let user: { path: string; pub: string };
let edHost: { path: string; pub: string }; // the ed25519 key known_hosts says the host has
let n = 0;
const file = (text: string) => {
  const p = join(tmp.dir, `f${++n}`);
  writeFileSync(p, text);
  return p;
};
const bare = (pub: string) => pub.split(' ').slice(0, 2).join(' ');

/** The real ssh 9.2: `ssh -F /dev/null -o BatchMode=yes … -p PORT DEST true` with a known_hosts file. */
function ssh(dest: string, knownHosts: string, extra: string[] = [], key = user.path) {
  return openssh('ssh', ['-F', '/dev/null', '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-p', String(sshd.port), ...extra, dest, 'echo', 'ran']);
}
function sshkit(dest: string, knownHosts: string, extra: string[] = [], key = user.path) {
  return execCli(['-i', key, '-p', String(sshd.port), '--known-hosts', knownHosts, ...extra, dest, '--', 'echo', 'ran'], { home });
}

before(async () => {
  mkdirSync(home);
  user = clientKey(tmp.dir, 'user');
  edHost = clientKey(tmp.dir, 'ed-host');
  sshd = await startSshd({ authorizedKeys: [user.pub], hostKeyType: 'ecdsa' });
});
after(async () => {
  await sshd?.stop();
  tmp.cleanup();
});

describe('item 9: a host with any known key is not new (MITM under accept-new)', () => {
  const strict = (mode: string) => ['-o', `StrictHostKeyChecking=${mode}`];

  test('an ECDSA-only server for a host known by its ed25519 key: refused as CHANGED under accept-new and yes (as ssh 9.2)', async () => {
    const name = `[127.0.0.1]:${sshd.port}`;
    for (const mode of ['accept-new', 'yes']) {
      const text = `${name} ${bare(edHost.pub)}\n`;
      const khSsh = file(text);
      const real = ssh(`${sshd.user}@127.0.0.1`, khSsh, strict(mode));
      assert.equal(real.status, 255, `ssh ${mode}: ${real.stderr}`);
      assert.match(real.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.ok(real.stderr.includes(`Offending ED25519 key in ${khSsh}:1`), real.stderr);
      assert.equal(readFileSync(khSsh, 'utf8'), text, 'ssh leaves known_hosts alone');

      const kh = file(text);
      const r = await sshkit(`${sshd.user}@127.0.0.1`, kh, strict(mode));
      assert.equal(r.status, 255, `sshkit ${mode}: ${r.stderr}`);
      assert.equal(r.stdout.length, 0);
      const line = oneLine(r.stderr);
      assert.match(line, /host key verification failed: the host key of .* has CHANGED/);
      assert.ok(line.includes(`ECDSA key ${sshFingerprint(sshd.hostKeyPub)}`), line);
      assert.ok(line.includes(`ED25519 key in ${kh}:1`) && line.includes(sshFingerprint(edHost.pub)), line);
      assert.equal(readFileSync(kh, 'utf8'), text, `sshkit ${mode} must not record the ECDSA key`);
    }
  });

  test('controls: the ECDSA key itself is accepted under yes; an empty known_hosts records it under accept-new (both as ssh)', async () => {
    const known = file(`[127.0.0.1]:${sshd.port} ${bare(sshd.hostKeyPub)}\n`);
    assert.equal(ssh(`${sshd.user}@127.0.0.1`, known, strict('yes')).status, 0);
    const ok = await sshkit(`${sshd.user}@127.0.0.1`, known, strict('yes'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.toString(), 'ran\n');

    const empty = file('');
    const r = await sshkit(`${sshd.user}@127.0.0.1`, empty, strict('accept-new'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(openssh('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', empty]).status, 0, 'recorded');
  });

  test('the policy alone: a key of another type known in a second file also makes the host known', () => {
    const ecdsaBlob = Buffer.from(sshd.hostKeyPub.split(' ')[1], 'base64');
    const first = file('');
    const second = file(`h ${bare(edHost.pub)}\n`);
    const p = HostKeyPolicy.load({ mode: 'accept-new', files: [first, second], warn: () => {} });
    const d = p.check('h', 22, ecdsaBlob);
    assert.equal(d.ok, false);
    assert.match((d as { message: string }).message, new RegExp(`CHANGED.*${second.replace(/[/.]/g, '\\$&')}:1`));
    assert.equal(readFileSync(first, 'utf8'), '');
    // control: another host name is new, and recorded
    assert.deepEqual(p.check('other', 22, ecdsaBlob), { ok: true });
    assert.match(readFileSync(first, 'utf8'), /^other ecdsa-sha2-nistp256 /);
  });
});

describe('item 10: pattern characters in the destination never reach known_hosts', () => {
  // A resolver that answers every name with 127.0.0.1, as wildcard DNS or an /etc/hosts entry would:
  // preloaded into the sshkit process only (NODE_OPTIONS=--import), so a pattern-like name connects.
  const wildcardDns = () => {
    const file = join(tmp.dir, 'wildcard-dns.mjs');
    writeFileSync(file, "import dns from 'node:dns';\nconst real = dns.lookup;\ndns.lookup = function (host, opts, cb) { return real.call(this, '127.0.0.1', opts, cb); };\n");
    return { NODE_OPTIONS: `--import=${file}` };
  };
  const viaWildcard = (dest: string, kh: string, mode = 'accept-new') =>
    execCli(['-i', user.path, '-p', String(sshd.port), '--known-hosts', kh, '-o', `StrictHostKeyChecking=${mode}`, dest, '--', 'echo', 'ran'], { home, env: wildcardDns() });

  // ssh 9.2 refuses `,`, `|`, whitespace and control characters ("hostname contains invalid
  // characters") and fails to resolve the others; both exit 255 and write nothing.
  const hostile = ['web*.example.com', 'web?.example.com', 'a,b', '!a', '127.0.0.1,*', 'a b', 'a\tb', 'a\nb', 'a|b', 'a[b', 'a]b', '[web*]', '[a]]', 'a\u0007b'];
  for (const host of hostile) {
    test(`destination ${JSON.stringify(host)}: 255, one line, known_hosts untouched, even when it resolves (ssh 9.2 refuses it too)`, async () => {
      const khSsh = join(tmp.dir, `kh-ssh-${++n}`);
      const real = ssh(`${sshd.user}@${host}`, khSsh, ['-o', 'StrictHostKeyChecking=accept-new', '-o', 'ConnectTimeout=5']);
      assert.equal(real.status, 255, real.stderr);
      assert.equal(existsSync(khSsh), false);
      const kh = join(tmp.dir, `kh-${++n}`);
      const r = await viaWildcard(`${sshd.user}@${host}`, kh);
      assert.equal(r.status, 255, r.stderr);
      assert.match(oneLine(r.stderr), /destination: (hostname contains invalid characters|unexpected|unbalanced)/);
      assert.equal(existsSync(kh), false, existsSync(kh) ? readFileSync(kh, 'utf8') : '');
    });
  }

  test('control: through the same resolver a plain name is recorded, and trusts only that name', async () => {
    const kh = join(tmp.dir, `kh-${++n}`);
    const r = await viaWildcard(`${sshd.user}@web1.example.com`, kh);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'ran\n');
    assert.equal(readFileSync(kh, 'utf8'), `[web1.example.com]:${sshd.port} ${bare(sshd.hostKeyPub)}\n`);
    assert.equal((await viaWildcard(`${sshd.user}@web1.example.com`, kh, 'yes')).status, 0);
    const other = await viaWildcard(`${sshd.user}@web2.example.com`, kh, 'yes');
    assert.equal(other.status, 255);
    assert.match(oneLine(other.stderr), /web2\.example\.com\]:\d+ is not in/);
  });

  test('the characters ssh 9.2 calls invalid are refused by sshkit with its words; others reach the resolver in both', async () => {
    const kh = join(tmp.dir, `kh-${++n}`);
    for (const host of ["a'b", 'a"b', 'a$b', 'a;b', 'a(b', 'a)b', 'a{b', 'a}b', 'a<b', 'a>b', 'a&b', 'a`b', 'a\\b', 'a%b', 'a~b']) {
      const real = openssh('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${kh}`, '--', `u@${host}`, 'true']);
      assert.equal(real.status, 255);
      const sshRefuses = real.stderr.trim() === 'hostname contains invalid characters';
      const r = await execCli(['--known-hosts', kh, '-o', 'StrictHostKeyChecking=accept-new', `u@${host}`, '--', 'true'], { home });
      assert.equal(r.status, 255);
      const line = oneLine(r.stderr);
      assert.equal(/hostname contains invalid characters/.test(line), sshRefuses, `${host}: ssh ${JSON.stringify(real.stderr)}, sshkit ${line}`);
      if (!sshRefuses) assert.match(line, /could not resolve hostname/);
    }
    assert.equal(existsSync(kh), false);
  });

  test('host names are lower-cased in ASCII only, as `ssh -G` shows (U+212A KELVIN SIGN is not `k`)', () => {
    for (const host of ['WEB.Example.COM', '\u212Aex.example.com', '\u0130stanbul.example', 'ÄBC.example']) {
      const g = openssh('ssh', ['-G', '-F', '/dev/null', host]);
      assert.equal(g.status, 0, g.stderr);
      const want = /^hostname (.*)$/m.exec(g.stdout)?.[1];
      assert.equal(parseTarget(host, { defaultUser: 'u' }).host, want, JSON.stringify(host));
    }
  });

  test('in a --hosts file too', async () => {
    const hosts = file(`127.0.0.1:${sshd.port}\nweb*.example.com\n`);
    const r = await execCli(['-i', user.path, '--known-hosts', file(''), '--hosts', hosts, '--', 'true'], { home });
    assert.equal(r.status, 255);
    assert.match(oneLine(r.stderr), new RegExp(`${hosts}:2: hostname contains invalid characters`));
  });

  test('the policy never writes a pattern: a name with `*` is refused, not recorded as a wildcard for every host', () => {
    const blob = Buffer.from(sshd.hostKeyPub.split(' ')[1], 'base64');
    const kh = file('');
    const p = HostKeyPolicy.load({ mode: 'accept-new', files: [kh], warn: () => {} });
    for (const name of ['*', 'a,b', '!x', 'a b', 'a\nb']) {
      const d = p.check(name, 22, blob);
      assert.equal(d.ok, false, JSON.stringify(name));
      assert.match((d as { message: string }).message, /hostname contains invalid characters/);
    }
    assert.equal(readFileSync(kh, 'utf8'), '');
    assert.equal(HostKeyPolicy.load({ mode: 'yes', files: [kh], warn: () => {} }).check('github.com', 22, blob).ok, false);
    // control: a plain name is recorded
    assert.deepEqual(p.check('web.example.com', 22, blob), { ok: true });
    assert.equal(openssh('ssh-keygen', ['-F', 'web.example.com', '-f', kh]).status, 0);
  });

  test('control: a plain destination under accept-new connects and is recorded', async () => {
    const kh = join(tmp.dir, `kh-${++n}`);
    const r = await sshkit(`${sshd.user}@127.0.0.1`, kh, ['-o', 'StrictHostKeyChecking=accept-new']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'ran\n');
    assert.equal(readFileSync(kh, 'utf8'), `[127.0.0.1]:${sshd.port} ${bare(sshd.hostKeyPub)}\n`);
  });
});

describe('item 12: a private key readable by others is refused, as ssh refuses it', () => {
  const known = () => file(`[127.0.0.1]:${sshd.port} ${bare(sshd.hostKeyPub)}\n`);

  for (const mode of [0o644, 0o640, 0o604]) {
    const octal = `0${mode.toString(8)}`;
    test(`-i KEY at ${octal}: 255, one line with ssh's wording; the same key at 0600 works (ssh 9.2 alike)`, async () => {
      const key = join(tmp.dir, `open-${octal}`);
      copyFileSync(user.path, key);
      chmodSync(key, mode);
      const kh = known();
      const real = ssh(`${sshd.user}@127.0.0.1`, kh, [], key);
      assert.equal(real.status, 255);
      assert.match(real.stderr, /WARNING: UNPROTECTED PRIVATE KEY FILE!/);
      assert.ok(real.stderr.includes(`Permissions ${octal} for '${key}' are too open.`), real.stderr);

      const r = await sshkit(`${sshd.user}@127.0.0.1`, kh, [], key);
      assert.equal(r.status, 255, r.stderr);
      assert.equal(r.stdout.length, 0);
      const line = oneLine(r.stderr);
      assert.match(line, /UNPROTECTED PRIVATE KEY FILE!/);
      assert.ok(line.includes(`Permissions ${octal} for '${key}' are too open.`), line);
      assert.ok(line.includes('It is required that your private key files are NOT accessible by others.'), line);

      chmodSync(key, 0o600);
      assert.equal(ssh(`${sshd.user}@127.0.0.1`, kh, [], key).status, 0);
      const ok = await sshkit(`${sshd.user}@127.0.0.1`, kh, [], key);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout.toString(), 'ran\n');
    });
  }

  test('a pipe as -i (`-i <(…)`, here a named FIFO with a writer) is read as ssh reads one; at 0644 it is refused unread', async () => {
    const kh = known();
    for (const [mode, ok] of [[0o600, true], [0o644, false]] as const) {
      const fifo = join(tmp.dir, `fifo-${mode.toString(8)}`);
      assert.equal(spawnSync('mkfifo', ['-m', mode.toString(8), fifo]).status, 0);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', user.path, fifo], { stdio: 'ignore' });
      try {
        const r = await sshkit(`${sshd.user}@127.0.0.1`, kh, [], fifo);
        assert.equal(r.status, ok ? 0 : 255, r.stderr);
        if (ok) assert.equal(r.stdout.toString(), 'ran\n');
        else assert.match(oneLine(r.stderr), /UNPROTECTED PRIVATE KEY FILE! Permissions 0644/);
      } finally {
        writer.kill();
      }
    }
  });

  test('a default ~/.ssh/id_ed25519 readable by others is ignored with the warning (as ssh), then 0600 is used', async () => {
    const h = join(tmp.dir, 'home-default');
    mkdirSync(join(h, '.ssh'), { recursive: true });
    const id = join(h, '.ssh', 'id_ed25519');
    copyFileSync(user.path, id);
    chmodSync(id, 0o644);
    const args = ['-p', String(sshd.port), '--known-hosts', known(), `${sshd.user}@127.0.0.1`, '--', 'echo', 'ran'];
    const r = await execCli(args, { home: h });
    assert.equal(r.status, 255);
    assert.match(r.stderr, /^sshkit: WARNING: UNPROTECTED PRIVATE KEY FILE! Permissions 0644 for '.*id_ed25519' are too open\..*; key skipped$/m);
    assert.match(r.stderr, /permission denied .*no identities to offer/);
    chmodSync(id, 0o600);
    const ok = await execCli(args, { home: h });
    assert.equal(ok.status, 0, ok.stderr);
  });
});

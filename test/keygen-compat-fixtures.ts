/**
 * The input folder of the sshkit-keygen differential tests (issue 12), made by the real ssh-keygen 9.2
 * once per test file: keys of each type (plain, encrypted, PEM), public keys in RFC 4716 / PKCS8 / PEM,
 * known_hosts (plain, [host]:port, @cert-authority, hashed, wildcard) and authorized_keys files, and
 * files that are no key. `runBoth(dir, args)` then copies it once per tool.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the real ssh-keygen in `dir` (the command the fixture comes from). */
export function openssh(dir: string, args: string[], input = ''): string {
  return execFileSync('ssh-keygen', args, { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

let made: string | undefined;

/** The shared input folder (made on first use). */
export function keygenFixtures(): string {
  if (made) return made;
  const d = mkdtempSync(join(tmpdir(), 'kgc-fix-'));
  openssh(d, ['-q', '-t', 'ed25519', '-N', '', '-C', 'plain comment', '-f', 'plain']);
  openssh(d, ['-q', '-t', 'ed25519', '-N', 'secret', '-C', 'enc', '-f', 'enc']);
  openssh(d, ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-C', 'rsa', '-f', 'rsa']);
  openssh(d, ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-C', '', '-f', 'ecdsa']);
  openssh(d, ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', 'pemkey']);
  openssh(d, ['-q', '-t', 'ecdsa', '-m', 'PKCS8', '-N', 'secret', '-f', 'p8enc']);
  writeFileSync(join(d, 'rfc'), openssh(d, ['-e', '-f', 'rsa.pub']));
  writeFileSync(join(d, 'p8pub'), openssh(d, ['-e', '-m', 'PKCS8', '-f', 'rsa.pub']));
  writeFileSync(join(d, 'pempub'), openssh(d, ['-e', '-m', 'PEM', '-f', 'rsa.pub']));
  openssh(d, ['-q', '-s', 'plain', '-I', 'id', '-n', 'alice', '-V', '20200101:20300101', 'rsa.pub']);
  writeFileSync(join(d, 'garbage'), 'this is not a key\n', { mode: 0o600 });
  writeFileSync(join(d, 'garbage644'), 'this is not a key\n', { mode: 0o644 });
  chmodSync(join(d, 'garbage644'), 0o644);
  const ed = readFileSync(join(d, 'plain.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const rsa = readFileSync(join(d, 'rsa.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const ec = readFileSync(join(d, 'ecdsa.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(
    join(d, 'known_hosts'),
    [
      '# a comment',
      `host1,host2 ${ed} c1`,
      `[host1]:2222 ${rsa}`,
      `@cert-authority *.example.org ${ec}`,
      `host3,Host4 ${rsa} three`,
      '',
      `*.wild ${ed}`,
      `@revoked host1 ${ec}`,
    ].join('\n') + '\n',
    { mode: 0o644 },
  );
  writeFileSync(join(d, 'known_hosts_bad'), `host1 ${ed}\nnot a known hosts line\nhost2 ssh-ed25519\n`, { mode: 0o644 });
  writeFileSync(
    join(d, 'authorized_keys'),
    [
      `${ed} alice@laptop`,
      `command="echo hi",no-pty ${rsa} bob`,
      'garbage line',
      `  ${ec}`,
      `from="10.0.0.0/8" ${ed}`,
      `# ${rsa} commented`,
    ].join('\n') + '\n',
  );
  // ssh-keygen -l's comment pointer outlives its line: a key without a comment after one with a comment
  writeFileSync(join(d, 'stale_comments'), [`${rsa} long comment here`, ed, `  ${ec}`, `no-pty ${ed}`, ed, '', `${ed}\t`].join('\n'));
  writeFileSync(join(d, 'crlf_keys'), `${ed} with cr\r\n${rsa}\r\nhost ${ec} x\r\n`);
  // lines hostkeys_foreach reads without decoding the key: some entries there, some invalid
  writeFileSync(
    join(d, 'known_hosts_lax'),
    'host2 ssh-ed25519 !!!! c\nhost2 ssh-rsa-cert-v01@openssh.com x\n@foo host2 ssh-ed25519 x\nhost2 rsa-sha2-256 x\n' +
      'host2 ssh-ed25519 #x\nhost2 1024 35 77\nhost2 garbage more\n|1|bad ssh-ed25519 x\n',
    { mode: 0o644 },
  );
  writeFileSync(join(d, 'known_hosts_undecodable'), `host1 ssh-ed25519 !!!!\nhost2 ${ed}\n`, { mode: 0o644 });
  // private keys without a .pub beside them (fingerprint_private's other paths)
  copyFileSync(join(d, 'enc'), join(d, 'encnopub'));
  copyFileSync(join(d, 'plain'), join(d, 'plain644'));
  chmodSync(join(d, 'plain644'), 0o644);
  openssh(d, ['-q', '-t', 'rsa', '-b', '1024', '-m', 'PEM', '-N', 'secret1', '-f', 'pemenc']);
  rmSync(join(d, 'pemenc.pub'));
  // a -A prefix whose Ed25519 host key exists already (RSA and ECDSA are missing)
  mkdirSync(join(d, 'pre', 'etc', 'ssh'), { recursive: true });
  for (const f of ['', '.pub']) copyFileSync(join(d, 'plain' + f), join(d, 'pre', 'etc', 'ssh', 'ssh_host_ed25519_key' + f));
  made = d;
  return d;
}

/**
 * sshkit-keygen against ssh-keygen 9.2, byte for byte (issue 12): each row runs the same command line
 * through `ssh-keygen` and `bin/sshkit-keygen` (keygen-compat-helper runBoth) on copies of the same
 * folder (made by ssh-keygen, keygen-compat-fixtures.ts) and asserts equal exit status, stdout, stderr
 * and files left behind (bytes and modes). The rows cover getopt (clusters, attached arguments, `--`,
 * operands, unknown flags, missing arguments, argument checks in order) and every deterministic mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { folderState, runBoth } from './keygen-compat-helper.js';
import { keygenFixtures } from './keygen-compat-fixtures.js';

/** One row: the argv, optional stdin. */
interface Row {
  readonly args: string[];
  readonly input?: string;
}

/** Is there a controlling terminal? Then both tools would read passphrases from it, not stdin. */
function hasTty(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

const GETOPT: Row[] = [
  { args: ['-x'] },
  { args: ['-f'] },
  { args: ['-l', '-f'] },
  { args: ['-lf', 'plain.pub'] },
  { args: ['-lvf', 'plain.pub'] },
  { args: ['-lfplain.pub'] },
  { args: ['-l', '--', '-f', 'plain.pub'] },
  { args: ['-l', 'plain.pub'] },
  { args: ['-lf', 'plain.pub', '-v'] },
  { args: ['-lv-'] },
  { args: ['--foo'] },
  { args: ['-l-f', 'plain.pub'] },
  { args: ['-'] },
  { args: ['-E', 'foo', '-x'] },
  { args: ['-x', '-E', 'foo'] },
  { args: ['-b', 'abc'] },
  { args: ['-b', '0'] },
  { args: ['-b', '99999999999'] },
  { args: ['-a', 'many'] },
  { args: ['-m', 'foo'] },
  { args: ['-Z', 'nope'] },
  { args: ['-z', 'x1'] },
  { args: ['-M', 'bogus'] },
  { args: ['-p', '-c'] },
  { args: ['-lH'] },
  { args: ['-l', '-R', 'host1'] },
  { args: ['-G', 'x'] },
  { args: ['-s', 'plain', '-I', 'id'] },
  { args: ['-s', 'plain', 'rsa.pub'] },
  { args: ['-Y', 'bogus'] },
  { args: ['-j', '1'] },
  { args: ['-t', 'foo', '-f', 'k', '-N', ''] },
  { args: ['-t', 'rsa', '-b', '1000', '-f', 'k', '-N', ''] },
  { args: ['-t', 'rsa', '-b', '20000', '-f', 'k', '-N', ''] },
  { args: ['-t', 'ecdsa', '-b', '300', '-f', 'k', '-N', ''] },
];

const SHOW: Row[] = [
  ...['plain', 'plain.pub', 'rsa', 'ecdsa', 'pemkey', 'enc', 'p8enc', 'rsa-cert.pub', 'known_hosts', 'authorized_keys', 'stale_comments', 'crlf_keys'].map((f) => ({ args: ['-l', '-f', f] })),
  { args: ['-lv', '-f', 'authorized_keys'] },
  ...['encnopub', 'plain644', 'pemenc'].flatMap((f) => [{ args: ['-l', '-f', f] }, { args: ['-lv', '-f', f] }]),
  { args: ['-y', '-f', 'pemenc', '-P', 'secret1'] },
  { args: ['-y', '-f', 'pemenc', '-P', 'bad'] },
  { args: ['-e', '-f', 'pemenc', '-P', 'secret1'] },
  ...['garbage', 'garbage644', 'nope', '.', 'rfc', 'p8pub'].map((f) => ({ args: ['-l', '-f', f] })),
  { args: ['-l', '-E', 'md5', '-f', 'rsa.pub'] },
  { args: ['-l', '-E', 'SHA512', '-f', 'known_hosts'] },
  { args: ['-l', '-E', 'sha1', '-f', 'authorized_keys'] },
  { args: ['-lv', '-f', 'known_hosts'] },
  { args: ['-lv', '-E', 'md5', '-f', 'ecdsa.pub'] },
  { args: ['-B', '-f', 'rsa.pub'] },
  { args: ['-B', '-f', 'authorized_keys'] },
  { args: ['-l', '-f', '-'], input: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHEtYMnQY1ROybp/ZFNINGjwMiLT/E7zI5z+sMPB0PeK from stdin\n' },
  { args: ['-l', '-f', '-'], input: '-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n' },
  { args: ['-l'], input: '' },
  { args: ['-y', '-f', 'plain'] },
  { args: ['-y', '-f', 'rsa'] },
  { args: ['-y', '-f', 'ecdsa'] },
  { args: ['-y', '-f', 'pemkey'] },
  { args: ['-y', '-f', 'enc', '-P', 'secret'] },
  { args: ['-y', '-f', 'enc', '-P', 'wrong'] },
  { args: ['-y', '-f', 'p8enc', '-P', 'secret'] },
  { args: ['-y', '-f', 'garbage'] },
  { args: ['-y', '-f', 'garbage644'] },
  { args: ['-y', '-f', 'plain.pub'] },
  { args: ['-y', '-f', 'nope'] },
  { args: ['-y'], input: '' },
];

const PROMPTED: Row[] = [
  { args: ['-y', '-f', 'enc'], input: 'secret\n' },
  { args: ['-y', '-f', 'enc'], input: 'wrong\n' },
  { args: ['-y', '-f', 'enc'], input: '' },
  { args: ['-p', '-f', 'enc'], input: 'secret\nA\nB\n' },
];

const CONVERT: Row[] = [
  { args: ['-e', '-f', 'rsa.pub'] },
  { args: ['-e', '-f', 'plain'] },
  { args: ['-e', '-f', 'enc'] },
  { args: ['-e', '-m', 'PKCS8', '-f', 'rsa'] },
  { args: ['-e', '-m', 'pem', '-f', 'rsa.pub'] },
  { args: ['-e', '-m', 'pkcs8', '-f', 'ecdsa.pub'] },
  { args: ['-e', '-m', 'pkcs8', '-f', 'plain.pub'] },
  { args: ['-e', '-f', 'nope'] },
  { args: ['-e', '-f', 'rsa-cert.pub'] },
  { args: ['-e', '-m', 'PEM', '-f', 'rsa-cert.pub'] },
  { args: ['-e', '-f', 'garbage'] },
  { args: ['-i', '-f', 'rfc'] },
  { args: ['-i', '-m', 'PKCS8', '-f', 'p8pub'] },
  { args: ['-i', '-m', 'pkcs8', '-f', 'pempub'] },
  { args: ['-i', '-m', 'PEM', '-f', 'pempub'] },
  { args: ['-i', '-f', 'garbage'] },
  { args: ['-i', '-f', 'plain.pub'] },
  { args: ['-i', '-m', 'pkcs8', '-f', 'rfc'] },
  { args: ['-i', '-m', 'pem', '-f', 'p8pub'] },
  { args: ['-i', '-f', 'nope'] },
];

const HOSTS: Row[] = [
  ...['host1', 'host2', 'Host4', 'host3', 'nohost', 'x.example.org', '[host1]:2222', 'a.wild'].map((h) => ({ args: ['-F', h, '-f', 'known_hosts'] })),
  { args: ['-F', 'host3', '-l', '-f', 'known_hosts'] },
  { args: ['-F', 'host1', '-lv', '-E', 'md5', '-f', 'known_hosts'] },
  { args: ['-F', 'host1', '-f', 'known_hosts_bad'] },
  { args: ['-F', 'host2', '-f', 'known_hosts_bad'] },
  { args: ['-F', 'host1', '-f', 'nope'] },
  { args: ['-R', 'host1', '-f', 'known_hosts'] },
  { args: ['-R', 'host4', '-f', 'known_hosts'] },
  { args: ['-R', '[host1]:2222', '-f', 'known_hosts'] },
  { args: ['-R', 'nohost', '-f', 'known_hosts'] },
  { args: ['-R', 'host1', '-f', 'known_hosts_bad'] },
  { args: ['-H', '-f', 'known_hosts_bad'] },
  { args: ['-R', 'host1', '-f', 'nope'] },
  { args: ['-F', 'host2', '-f', 'known_hosts_lax'] },
  { args: ['-F', 'host2', '-l', '-f', 'known_hosts_lax'] },
  { args: ['-R', 'host2', '-f', 'known_hosts_lax'] },
  { args: ['-H', '-f', 'known_hosts_lax'] },
  { args: ['-F', 'host1', '-f', 'known_hosts_undecodable'] },
];

const SSHFP: Row[] = [
  { args: ['-r', 'h.example.org', '-f', 'plain.pub'] },
  { args: ['-r', 'h.example.org', '-f', 'plain'] },
  { args: ['-r', 'h', '-g', '-f', 'rsa'] },
  { args: ['-r', 'h', '-f', 'ecdsa.pub'] },
  { args: ['-r', 'h', '-f', 'enc'] },
  { args: ['-r', 'h', '-f', 'rsa-cert.pub'] },
  { args: ['-r', 'h', '-f', 'garbage'] },
  { args: ['-r', 'h', '-f', 'nope'] },
];

const UPKEEP_FAILS: Row[] = [
  { args: ['-p', '-f', 'enc', '-P', 'wrong', '-N', 'x'] },
  { args: ['-p', '-f', 'garbage', '-N', 'x'] },
  { args: ['-p', '-f', 'nope', '-N', 'x'] },
  { args: ['-p', '-f', 'plain.pub', '-N', 'x'] },
  { args: ['-c', '-f', 'plain', '-C', 'plain comment'] },
  { args: ['-c', '-f', 'enc', '-P', 'wrong', '-C', 'x'] },
  { args: ['-c', '-f', 'garbage', '-C', 'x'] },
  { args: ['-c', '-f', 'plain.pub', '-C', 'x'] },
  { args: ['-t', 'ed25519', '-f', 'plain', '-N', ''], input: 'n\n' },
  { args: ['-t', 'ed25519', '-f', 'plain', '-N', ''], input: '' },
  { args: ['-q', '-t', 'ed25519', '-f', 'nodir/k', '-N', ''] },
  { args: ['-q', '-t', 'rsa', '-m', 'PEM', '-N', 'abc', '-f', 'k'] },
];

const TABLES: Record<string, Row[]> = { GETOPT, SHOW, CONVERT, HOSTS, SSHFP, UPKEEP_FAILS, PROMPTED };

for (const [table, rows] of Object.entries(TABLES)) {
  for (const row of rows) {
    const name = `${table}: ssh-keygen ${row.args.map((a) => (a === '' ? "''" : a)).join(' ')}${row.input !== undefined ? ` <<< ${JSON.stringify(row.input)}` : ''}`;
    test(name, { skip: table === 'PROMPTED' && hasTty() ? 'a controlling terminal would take the passphrase prompts' : false }, () => {
      const { openssh, sshkit, dirs } = runBoth(keygenFixtures(), row.args, { input: row.input ?? '' });
      assert.equal(sshkit.stdout, openssh.stdout, 'stdout');
      assert.equal(sshkit.stderr, openssh.stderr, 'stderr');
      assert.equal(sshkit.status, openssh.status, 'exit status');
      assert.deepEqual(folderState(dirs.sshkit), folderState(dirs.openssh), 'files left (bytes and modes)');
    });
  }
}

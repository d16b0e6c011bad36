/**
 * Inventories for the `sshkit audit` tests, made at test time by the real ssh-keygen (OpenSSH 9.2): one
 * with every problem planted at a known file and line (`PLANTED`), and a clean one (the control).
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openssh } from './helpers.js';

/** One expected finding: rule, severity, file (relative to the inventory), line (null: whole file). */
export interface Planted {
  rule: string;
  severity: 'error' | 'warning' | 'note';
  file: string;
  line: number | null;
}

/** ssh-keygen, failing the test loudly when it fails. */
export function keygen(args: string[]): string {
  const r = openssh('ssh-keygen', args);
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A key pair at `path` (private 0600 + .pub); `pass` '' for none. Returns the .pub line. */
export function makeKey(path: string, type: string[], pass = '', comment = 'audit@test'): string {
  keygen(['-q', ...type, '-N', pass, '-C', comment, '-f', path]);
  return readFileSync(path + '.pub', 'latin1').trim();
}

/** YYYYMMDD (local time, as ssh-keygen reads it) of now + `days`. */
export function day(days: number): string {
  const d = new Date(Date.now() + days * 86400_000);
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

function dir(path: string, mode = 0o700): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
}

function file(path: string, lines: string[], mode = 0o600): void {
  writeFileSync(path, lines.join('\n') + '\n');
  chmodSync(path, mode);
}

/** Signs `pub` with `ca` (ssh-keygen -s), extra options as given; returns the -cert.pub path. */
function certify(ca: string, pub: string, opts: string[]): string {
  keygen(['-q', '-s', ca, '-I', 'id-' + pub.replace(/.*\//, ''), ...opts, pub]);
  return pub.replace(/\.pub$/, '-cert.pub');
}

/**
 * Builds the planted inventory under `root/inv` (the CAs and the revoked list outside it) and returns
 * what must be found, plus the --revoked file.
 */
export function plantedInventory(root: string): { inv: string; revoked: string; planted: Planted[] } {
  const inv = join(root, 'inv');
  const side = join(root, 'side');
  dir(side);
  for (const d of ['keys', 'certs', 'home/alice/.ssh', 'home/bob/.ssh', 'home/carol/.ssh', 'root/.ssh', 'etc/ssh', 'misc']) dir(join(inv, d));
  chmodSync(join(inv, 'home/carol/.ssh'), 0o777); // a folder anyone may write: StrictModes refuses what is in it
  const P: Planted[] = [];
  const plant = (rule: string, severity: Planted['severity'], f: string, line: number | null) => P.push({ rule, severity, file: f, line });

  // keys: DSA and RSA-1024 unencrypted, RSA-2048 encrypted, an encrypted key others may read
  const dsa = makeKey(join(inv, 'keys/dsa'), ['-t', 'dsa']);
  plant('dsa-key', 'error', 'keys/dsa', 1);
  plant('unencrypted-private-key', 'warning', 'keys/dsa', 1);
  plant('dsa-key', 'error', 'keys/dsa.pub', 1);
  makeKey(join(inv, 'keys/rsa1024'), ['-t', 'rsa', '-b', '1024']);
  plant('rsa-under-2048', 'error', 'keys/rsa1024', 1);
  plant('unencrypted-private-key', 'warning', 'keys/rsa1024', 1);
  plant('rsa-under-2048', 'error', 'keys/rsa1024.pub', 1);
  makeKey(join(inv, 'keys/rsa2048'), ['-t', 'rsa', '-b', '2048'], 'secret');
  plant('rsa-under-3072', 'warning', 'keys/rsa2048', 1);
  plant('rsa-under-3072', 'warning', 'keys/rsa2048.pub', 1);
  makeKey(join(inv, 'keys/readable'), ['-t', 'ed25519'], 'secret');
  chmodSync(join(inv, 'keys/readable'), 0o640);
  plant('readable-private-key', 'error', 'keys/readable', null);
  // a copied private key (encrypted, so only the copy is a finding), and a FILE.pub of another key
  makeKey(join(inv, 'keys/shared'), ['-t', 'ed25519'], 'secret');
  copyFileSync(join(inv, 'keys/shared'), join(inv, 'keys/shared-backup'));
  chmodSync(join(inv, 'keys/shared-backup'), 0o600);
  plant('duplicate-key', 'warning', 'keys/shared', 1);
  plant('duplicate-key', 'warning', 'keys/shared-backup', 1);
  makeKey(join(inv, 'keys/stale'), ['-t', 'ed25519'], 'secret');
  makeKey(join(side, 'other'), ['-t', 'ed25519']);
  copyFileSync(join(side, 'other.pub'), join(inv, 'keys/stale.pub'));
  plant('pub-mismatch', 'warning', 'keys/stale.pub', 1);
  // recognised by content: a PEM (SEC1) key with no telling name; a truncated key is unparsable, nothing more
  keygen(['-q', '-t', 'ecdsa', '-m', 'PEM', '-N', '', '-f', join(inv, 'keys/legacy.pem')]);
  plant('unencrypted-private-key', 'warning', 'keys/legacy.pem', 1);
  makeKey(join(side, 'whole'), ['-t', 'ed25519']);
  file(join(inv, 'keys/truncated'), [readFileSync(join(side, 'whole'), 'latin1').slice(0, 200)]);
  plant('unparsable', 'error', 'keys/truncated', 1);
  // sshd's host key: unencrypted by necessity, no finding; a text file that is no key: not audited
  makeKey(join(inv, 'etc/ssh/ssh_host_ed25519_key'), ['-t', 'ed25519']);
  writeFileSync(join(inv, 'misc/notes.txt'), 'not a key\n-----BEGIN nothing-----\n');

  // certificates: signed by an Ed25519 CA and (SHA-1) by an RSA CA kept outside the inventory
  makeKey(join(side, 'ca'), ['-t', 'ed25519']);
  makeKey(join(side, 'rsa_ca'), ['-t', 'rsa', '-b', '3072']);
  const subject = (name: string) => (makeKey(join(inv, 'certs', name), ['-t', 'ed25519'], 'secret'), join(inv, 'certs', name + '.pub'));
  certify(join(side, 'ca'), subject('expired'), ['-n', 'alice', '-V', '20200101:20200102']);
  plant('expired', 'error', 'certs/expired-cert.pub', 1);
  certify(join(side, 'ca'), subject('expiring'), ['-n', 'alice', '-V', '-1d:+5d']);
  plant('expiring', 'warning', 'certs/expiring-cert.pub', 1);
  certify(join(side, 'ca'), subject('future'), ['-n', 'alice', '-V', '+10d:+365d']);
  plant('not-yet-valid', 'note', 'certs/future-cert.pub', 1);
  certify(join(side, 'ca'), subject('forever'), ['-n', 'alice']);
  plant('cert-no-expiry', 'warning', 'certs/forever-cert.pub', 1);
  certify(join(side, 'ca'), subject('anyone'), ['-h', '-V', '-1d:+365d']);
  plant('cert-no-principals', 'warning', 'certs/anyone-cert.pub', 1);
  certify(join(side, 'rsa_ca'), subject('sha1'), ['-t', 'ssh-rsa', '-n', 'alice', '-V', '-1d:+365d']);
  plant('cert-sha1-signature', 'error', 'certs/sha1-cert.pub', 1);
  certify(join(side, 'ca'), subject('critical'), ['-n', 'alice', '-V', '-1d:+365d', '-O', 'critical:frobnicate=yes', '-O', 'force-command=/bin/true']);
  plant('cert-unknown-critical-option', 'error', 'certs/critical-cert.pub', 1);
  const tampered = certify(join(side, 'ca'), subject('tampered'), ['-n', 'alice', '-V', '-1d:+365d']);
  const [type, b64, ...rest] = readFileSync(tampered, 'latin1').trim().split(' ');
  const blob = Buffer.from(b64, 'base64');
  blob[blob.length - 1] ^= 1; // last byte of the CA's Ed25519 signature
  writeFileSync(tampered, [type, blob.toString('base64'), ...rest].join(' ') + '\n');
  plant('cert-bad-signature', 'error', 'certs/tampered-cert.pub', 1);

  // authorized_keys: alice's file holds the line problems; bob's is group-writable, carol's folder open
  const good = makeKey(join(side, 'good'), ['-t', 'ed25519']);
  const revokedKey = makeKey(join(side, 'revoked'), ['-t', 'ed25519']);
  const sharedUser = makeKey(join(side, 'shared-user'), ['-t', 'ecdsa']);
  const e1 = makeKey(join(side, 'e1'), ['-t', 'ed25519']);
  const e2 = makeKey(join(side, 'e2'), ['-t', 'ed25519']);
  file(join(inv, 'home/alice/.ssh/authorized_keys'), [
    '# alice',
    good,
    dsa,
    `expiry-time="20200101" ${e1}`,
    `expiry-time="${day(5)}" ${e2}`,
    'ssh-ed25519 AAAA-not-base64 broken',
    revokedKey,
    sharedUser,
  ]);
  plant('dsa-key', 'error', 'home/alice/.ssh/authorized_keys', 3);
  plant('expired', 'error', 'home/alice/.ssh/authorized_keys', 4);
  plant('expiring', 'warning', 'home/alice/.ssh/authorized_keys', 5);
  plant('unparsable', 'error', 'home/alice/.ssh/authorized_keys', 6);
  plant('revoked-key', 'error', 'home/alice/.ssh/authorized_keys', 7);
  plant('duplicate-key', 'warning', 'home/alice/.ssh/authorized_keys', 8);
  file(join(inv, 'home/bob/.ssh/authorized_keys'), [sharedUser], 0o664);
  plant('duplicate-key', 'warning', 'home/bob/.ssh/authorized_keys', 1);
  plant('unsafe-authorized-file', 'error', 'home/bob/.ssh/authorized_keys', null);
  file(join(inv, 'home/carol/.ssh/authorized_keys'), [makeKey(join(side, 'carol'), ['-t', 'ed25519'])]);
  plant('unsafe-authorized-file', 'error', 'home/carol/.ssh/authorized_keys', null);
  const r1 = makeKey(join(side, 'r1'), ['-t', 'ed25519']);
  const r2 = makeKey(join(side, 'r2'), ['-t', 'ed25519']);
  const r3 = makeKey(join(side, 'r3'), ['-t', 'ed25519']);
  file(join(inv, 'root/.ssh/authorized_keys'), [r1, `from="10.0.0.1" ${r2}`, `restrict,command="backup" ${r3}`]);
  plant('unrestricted-root-key', 'note', 'root/.ssh/authorized_keys', 1);

  // known_hosts (world-writable): one host key under two names, a weak host key, a @revoked DSA line
  const hostA = makeKey(join(side, 'hostA'), ['-t', 'ed25519']).split(' ').slice(0, 2).join(' ');
  const weakHost = readFileSync(join(inv, 'keys/rsa1024.pub'), 'latin1').split(' ').slice(0, 2).join(' ');
  file(join(inv, 'known_hosts'), [`host1.example.com ${hostA}`, `host2.example.com ${hostA}`, `old.example.com ${weakHost}`, `@revoked * ${dsa}`, 'bad.example.com ssh-ed25519 AAAA'], 0o666);
  plant('shared-host-key', 'note', 'known_hosts', 1);
  plant('shared-host-key', 'note', 'known_hosts', 2);
  plant('rsa-under-2048', 'error', 'known_hosts', 3);
  plant('writable-trust-file', 'warning', 'known_hosts', null);
  plant('unparsable', 'error', 'known_hosts', 5);

  // allowed_signers: an expired and a not-yet-valid signer, a broken line
  const s1 = makeKey(join(side, 's1'), ['-t', 'ed25519']);
  const s2 = makeKey(join(side, 's2'), ['-t', 'ed25519']);
  file(join(inv, 'allowed_signers'), [`alice@example.com namespaces="git" ${good}`, `bob@example.com valid-before="20200101" ${s1}`, `carol@example.com valid-after="${day(10)}" ${s2}`, 'dave@example.com'], 0o644);
  plant('expired', 'error', 'allowed_signers', 2);
  plant('not-yet-valid', 'note', 'allowed_signers', 3);
  plant('unparsable', 'error', 'allowed_signers', 4);

  const revoked = join(side, 'revoked_keys');
  writeFileSync(revoked, `# revoked\n${revokedKey}\n`);
  return { inv, revoked, planted: P };
}

/** A clean inventory: strong keys, encrypted, sane modes, valid certificates. Nothing to report. */
export function cleanInventory(root: string): string {
  const inv = join(root, 'clean');
  const side = join(root, 'clean-side');
  dir(side);
  for (const d of ['home/alice/.ssh', 'keys']) dir(join(inv, d));
  const ed = makeKey(join(inv, 'keys/id_ed25519'), ['-t', 'ed25519'], 'secret');
  const rsa = makeKey(join(inv, 'keys/id_rsa'), ['-t', 'rsa', '-b', '3072'], 'secret');
  makeKey(join(inv, 'keys/id_ecdsa'), ['-t', 'ecdsa', '-b', '384'], 'secret');
  makeKey(join(side, 'ca'), ['-t', 'ed25519']);
  certify(join(side, 'ca'), join(inv, 'keys/id_ed25519.pub'), ['-n', 'alice', '-V', '-1d:+365d']);
  // the same key in a private key file, in authorized_keys and in allowed_signers is the normal case
  file(join(inv, 'home/alice/.ssh/authorized_keys'), [ed, `from="10.0.0.0/8" ${rsa}`, `cert-authority,principals="alice" ${readFileSync(join(side, 'ca.pub'), 'latin1').trim()}`]);
  file(join(inv, 'home/alice/.ssh/known_hosts'), [`host.example.com ${makeKey(join(side, 'host'), ['-t', 'ed25519'])}`], 0o644);
  file(join(inv, 'allowed_signers'), [`alice@example.com ${ed}`], 0o644);
  return inv;
}

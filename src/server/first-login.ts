/**
 * The startup banner's advice when nobody can log in yet (issue 10 "first minute"): `npm start` on a
 * fresh machine printed `connect: ssh -p 2222 root@127.0.0.1`, and that command then failed with
 * `Permission denied (publickey)`. When the authorized file holds no key for the serving user and no
 * password file is given, the banner says where keys go and, if the user has an `~/.ssh/id_*.pub`,
 * prints the one command that lets them in (the server re-reads the file on the next login).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The public keys `ssh` tries by default, in its order (ssh_config(5) IdentityFile). */
const DEFAULT_IDS = ['id_ed25519', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519_sk', 'id_rsa'];

/** Single-quotes `s` for a POSIX shell unless it is made only of safe characters. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The lines to print when `keys` is 0 for the serving user (none otherwise). */
export function firstLoginAdvice(o: { keys: number; passwords: boolean; authorizedFile: string; home: string }): string[] {
  if (o.keys > 0 || o.passwords) return [];
  const dir = join(o.authorizedFile, '..');
  const pub = DEFAULT_IDS.map((n) => join(o.home, '.ssh', n + '.pub')).find((p) => existsSync(p));
  // umask 077 in a subshell: the folder and file come out 0700/0600 whatever the user's umask, so
  // StrictModes-style checks (group/world-writable refused) never refuse what this command made.
  const add = (p: string) => `(umask 077 && mkdir -p ${shellQuote(dir)} && cat ${shellQuote(p)} >> ${shellQuote(o.authorizedFile)})`;
  const lines = [`  nobody can log in yet: no key in ${o.authorizedFile}`];
  if (pub) lines.push(`  to let yourself in, run:  ${add(pub)}`);
  else {
    lines.push(`  make a key:  ssh-keygen -t ed25519   (or: sshkit keygen)`);
    lines.push(`  then run:    ${add(join(o.home, '.ssh', 'id_ed25519.pub'))}`);
  }
  return lines;
}

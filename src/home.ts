/**
 * The user's home folder for default paths (~/.ssh/id_*, ~/.ssh/authorized_keys, ~/.config/sshkit):
 * $HOME when it is an absolute path, else the password database's entry (as OpenSSH uses getpwuid),
 * so an empty or relative HOME never puts keys under the current folder.
 */
import { homedir, userInfo } from 'node:os';
import { isAbsolute } from 'node:path';

/** The home folder for default paths (see the module comment). */
export function homeDir(): string {
  const h = homedir();
  return h && isAbsolute(h) ? h : userInfo().homedir;
}

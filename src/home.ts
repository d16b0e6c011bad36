/**
 * The user's home folder for default paths (~/.ssh/id_*, ~/.ssh/authorized_keys, ~/.config/sshkit):
 * $HOME when it is an absolute path, else the password database's entry (as OpenSSH uses getpwuid),
 * so an empty or relative HOME never puts keys under the current folder.
 */
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute } from 'node:path';

/** The home folder for default paths (see the module comment). */
export function homeDir(): string {
  const h = homedir();
  return h && isAbsolute(h) ? h : userInfo().homedir;
}

/** ssh-keygen's `pw->pw_name@hostname` (getpwuid, gethostname): keygen's default comment, export's header. */
export function userAtHost(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? String(process.getuid?.() ?? '');
  }
  return `${user}@${hostname()}`;
}

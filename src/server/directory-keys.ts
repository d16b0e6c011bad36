/**
 * The one seam where `sshkit serve`'s directory-backed keys (issue 17) join the authorized_keys files:
 * a KeySource whose `forKey(user, keyBlob)` hands the publickey checker ONE KeyIndex that chains, in
 * sshd's order (auth2-pubkey.c `user_key_allowed`: AuthorizedKeysFile, then TrustedUserCAKeys, then
 * AuthorizedKeysCommand), the user's file index, the trusted-CA line (trusted-ca.ts) and the command's
 * answer (authorized-command.ts). The checker takes the first entry that admits, so a key the file
 * admits is admitted whatever the command says, and a failing command only withholds its own keys.
 * Unlike sshd, the later sources are consulted even when the file already admits (their answers are
 * cached).
 */
import type { AuthorizedKey } from '../core/authorized-keys.js';
import { KeyIndex } from '../core/authorized-keys.js';
import { bad } from '../core/errors.js';
import { AuthorizedCommand, type AuthorizedCommandOptions } from './authorized-command.js';
import type { Logger } from './log.js';
import type { KeySource } from './server.js';
import { TrustedCa } from './trusted-ca.js';

/** Several indexes looked up as one, in order (the checker sees the entries of the first index first). */
export class ChainedIndex extends KeyIndex {
  constructor(private readonly parts: readonly KeyIndex[]) {
    super();
    this.size = parts.reduce((n, p) => n + p.size, 0);
  }

  override lookup(blob: Buffer): AuthorizedKey[] {
    return this.parts.flatMap((p) => p.lookup(blob));
  }
}

/** The flags this seam reads (ServeOptions' issue-17 key fields). */
export interface DirectoryFlags {
  authorizedCommand?: AuthorizedCommandOptions;
  trustedUserCaKeys?: string;
  authorizedPrincipals?: string;
}

/** Something answering for one offered key (trusted-ca.ts, authorized-command.ts). */
interface PerKey {
  forKey(user: string, keyBlob: Buffer): Promise<KeyIndex>;
}

/**
 * Returns `base` itself when no directory flag is given, else a KeySource with `forKey`. Throws a
 * one-line SshkitError for flags that cannot work (checked before the server binds).
 */
export async function withDirectoryKeys(base: KeySource, flags: DirectoryFlags, log: Logger): Promise<KeySource> {
  if (flags.authorizedPrincipals !== undefined && flags.trustedUserCaKeys === undefined) {
    throw bad('--authorized-principals needs --trusted-user-ca-keys (sshd reads AuthorizedPrincipalsFile only for TrustedUserCAKeys certificates)');
  }
  const ca = flags.trustedUserCaKeys === undefined ? undefined : new TrustedCa(flags.trustedUserCaKeys, flags.authorizedPrincipals, log);
  const command = flags.authorizedCommand === undefined ? undefined : await AuthorizedCommand.create(flags.authorizedCommand, log);
  if (!ca && !command) return base;
  void ca?.caKeys(); // read at start: a missing or bad CA file is logged now
  const extra: PerKey[] = [ca, command].filter((x): x is TrustedCa | AuthorizedCommand => x !== undefined);
  return {
    get perUser() {
      return base.perUser;
    },
    forUser: (user) => base.forUser(user),
    load: (path, force) => base.load(path, force),
    reload: () => {
      command?.reload();
      return base.reload();
    },
    keyCount: () => base.keyCount(),
    // the admin `stats()` shows the command's runs, reused answers and failures beside the file cache
    cacheStats: () => {
      const stats = { ...base.cacheStats(), ...(command ? { command: { ...command.counters, cached: command.cached } } : {}) };
      return stats;
    },
    forKey: (user, keyBlob, algorithm) =>
      Promise.all([base.forKey ? base.forKey(user, keyBlob, algorithm) : base.forUser(user), ...extra.map((e) => e.forKey(user, keyBlob))]).then((parts) => new ChainedIndex(parts)),
  };
}

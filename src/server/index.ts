/**
 * `sshkit/server` (issue 15): the `sshkit serve` server as a library. `createServer` wraps
 * startSshServer (server.ts) — same hardening, limits and auth accounting as the CLI — and adds the
 * caller's hooks: host keys as text, keys from a lookup function (sshd's AuthorizedKeysCommand idea),
 * an auth-decision callback, and an exec handler. No ssh2 type appears in its signatures; nothing is
 * logged unless the caller passes `log`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuthorizedKeys, type KeyIndex } from '../core/authorized-keys.js';
import { bad } from '../core/errors.js';
import type { AuthAttempt, AuthDecide } from './auth-flow.js';
import { execSessionHandler, libraryPolicy, type ExecHandler, type ExecSession } from './library-session.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import type { LogFormat } from './log.js';
import { startSshServer, type KeySource } from './server.js';

export type { AuthAttempt, AuthDecide, ExecHandler, ExecSession, LogFormat };
/** The server's limits (SPEC serve flags: --max-auth-tries, --login-grace-time, …). */
export type ServerLimits = Limits;

/** A user's authorized_keys text, looked up by the caller (as sshd's AuthorizedKeysCommand %u). */
export type AuthorizedLookup = (user: string) => string | Promise<string>;

/** What {@link createServer} takes. */
export interface CreateServerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0, the default, picks a free one: read it from `srv.port`). */
  port?: number;
  /** Host private keys as text (OpenSSH or PEM, unencrypted), at most one per type. */
  hostKeys: string[];
  /** An authorized_keys path (`%u` = user, as the `--authorized` flag) or a lookup of a user's keys text. */
  authorized: string | AuthorizedLookup;
  /** A password file (`sshkit passwd`), enabling password auth. */
  passwords?: string;
  /** The last word on each login that passed the checks; only `true` admits (fail-closed). */
  authorize?: AuthDecide;
  /** Handles exec requests; without it the CLI's session handling runs (`exec` mode below). */
  onExec?: ExecHandler;
  /** Without `onExec`: built-in commands (default) or the OS shell (`--exec os`). */
  exec?: 'builtin' | 'os';
  /** Users or key fingerprints that may open the admin REPL (`--admin`). */
  admins?: string[];
  limits?: Partial<ServerLimits>;
  /** Receives each log line (default: none are written). */
  log?: (line: string) => void;
  logFormat?: LogFormat;
}

/** A running server. */
export interface SshServer {
  readonly host: string;
  readonly port: number;
  /** SHA256 fingerprints of the host keys in use. */
  readonly hostKeyFingerprints: string[];
  /** Stops accepting, ends sessions, disconnects everyone; resolves when every socket is closed. */
  stop(): Promise<void>;
}

/** A lookup as the server's key source: each login asks again (nothing cached), a throw refuses. */
class LookupKeys implements KeySource {
  readonly perUser = true;
  constructor(private readonly lookup: AuthorizedLookup) {}
  async forUser(user: string): Promise<KeyIndex> {
    const text = await this.lookup(user);
    if (typeof text !== 'string') throw bad('authorized: the lookup must return authorized_keys text');
    return parseAuthorizedKeys(text);
  }
  load(): Promise<KeyIndex> {
    return Promise.resolve(parseAuthorizedKeys(''));
  }
  reload(): number {
    return 0;
  }
  keyCount(): number {
    return 0;
  }
  cacheStats(): { files: number; bytes: number } {
    return { files: 0, bytes: 0 };
  }
}

/**
 * Starts an SSH server and resolves once it listens. Host key texts are written to a private (0700)
 * temporary folder only while the server reads them, then removed: startSshServer reads key files,
 * with sshd's permission rule.
 */
export async function createServer(opts: CreateServerOptions): Promise<SshServer> {
  if (!opts || !Array.isArray(opts.hostKeys) || opts.hostKeys.length === 0) throw bad('createServer: hostKeys (private key texts) are required');
  if (typeof opts.authorized !== 'string' && typeof opts.authorized !== 'function') throw bad('createServer: authorized (a path or a lookup function) is required');
  const dir = mkdtempSync(join(tmpdir(), 'sshkit-hostkeys-'));
  try {
    const files = opts.hostKeys.map((text, i) => {
      if (typeof text !== 'string' || !text.includes('-----BEGIN ')) throw bad(`createServer: hostKeys[${i}] is not a private key text`);
      const file = join(dir, `host_key_${i}`);
      writeFileSync(file, text, { mode: 0o600 });
      return file;
    });
    const lookup = typeof opts.authorized === 'function' ? opts.authorized : undefined;
    const srv = await startSshServer({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      authorized: typeof opts.authorized === 'string' ? opts.authorized : '(lookup)',
      hostKeys: files,
      passwords: opts.passwords,
      admins: opts.admins ?? [],
      exec: opts.exec ?? 'builtin',
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      logFormat: opts.logFormat ?? 'json',
      logSink: opts.log ?? (() => undefined),
      keySource: lookup ? new LookupKeys(lookup) : undefined,
      decide: opts.authorize,
      sessions: opts.onExec ? { handler: execSessionHandler(opts.onExec), policy: libraryPolicy } : undefined,
    });
    return { host: srv.host, port: srv.port, hostKeyFingerprints: srv.hostKeys.map((k) => k.fingerprint), stop: () => srv.stop() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

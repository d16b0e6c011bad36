/**
 * The only code that knows ssh2's Client (STYLE "layout"). One connection, one exec request (SPEC
 * "sshkit exec"): a TCP socket we open ourselves (TCP_NODELAY, PERF.md lesson 1; ConnectTimeout),
 * modern algorithms OpenSSH 9.2's sshd offers, the host key judged by HostKeyPolicy (the core's
 * known_hosts matching), public-key auth signed by the core's signers (handed to ssh2 as an agent, so
 * ssh2 never parses a private key) then an ssh-agent, never a SHA-1 `ssh-rsa` signature (RFC 8332),
 * and the channel's streams piped as they come.
 * Every failure of the connection itself is an SshkitError with exit 255, as ssh(1).
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type * as Ssh2 from 'ssh2';
import { hostName } from '../core/known-hosts.js';
import { identityAgent, NO_SHA1, sha2OnlyAgent } from './agents.js';
import { execError, type HostKeyPolicy } from './host-keys.js';
import { describeIdentity, type Identity } from './identities.js';
import type { Target } from './target.js';

/** One remote command to run. */
export interface ExecRequest {
  target: Target;
  /** The command line, sent as one string (ssh joins its arguments with spaces the same way). */
  command: string;
  policy: HostKeyPolicy;
  identities: Identity[];
  /** SSH_AUTH_SOCK, tried after the identities. */
  agentSocket?: string;
  /** Seconds allowed for the TCP connect and, separately, for the handshake and auth (ConnectTimeout). */
  connectTimeout?: number;
  /** Ask for a pseudo-terminal (-t). */
  pty?: { term: string; rows: number; cols: number };
  /** Sent to the command's stdin; null sends EOF at once. */
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  /** Subscribes to terminal size changes (for -t); returns an unsubscribe function. */
  onResize?: (cb: (rows: number, cols: number) => void) => () => void;
}

/** How the remote command ended: `status` is its exit status, or 128+n when killed by signal n. */
export interface ExecResult {
  status: number;
  signal?: string;
}

/** Key exchange, ciphers and MACs: current OpenSSH defaults that ssh2 implements (no SHA-1, no CBC). */
const ALGORITHMS = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group14-sha256',
  ],
  cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  compress: ['none'],
};

const require = createRequire(import.meta.url);
let ssh2Mod: typeof Ssh2 | null = null;
function ssh2(): typeof Ssh2 {
  return (ssh2Mod ??= require('ssh2') as typeof Ssh2);
}

/** Opens the TCP connection with Nagle off; refused, unresolvable and timed-out connects are 255s. */
function openSocket(host: string, port: number, timeoutSec?: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, noDelay: true });
    const timer = timeoutSec ? setTimeout(() => fail('Connection timed out'), timeoutSec * 1000) : undefined;
    function fail(why: string) {
      clearTimeout(timer);
      sock.destroy();
      reject(execError(`connect to host ${host} port ${port}: ${why}`));
    }
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.on('error', () => {}); // ssh2 adds its own listener in connect(); nothing may crash in between
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      const why: Record<string, string> = {
        ECONNREFUSED: 'Connection refused',
        ETIMEDOUT: 'Connection timed out',
        EHOSTUNREACH: 'No route to host',
        ENETUNREACH: 'Network is unreachable',
      };
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
        clearTimeout(timer);
        reject(execError(`could not resolve hostname ${host}: ${err.code === 'ENOTFOUND' ? 'Name or service not known' : 'Temporary failure in name resolution'}`));
        return;
      }
      fail(why[err.code ?? ''] ?? err.message);
    });
  });
}

/**
 * Makes ssh2 choose rsa-sha2-256 for RSA keys even when the server sends no server-sig-algs (ssh2's
 * getKeyAlgos falls back to `ssh-rsa` then; its compat flag for OpenSSH 7.4 implies SHA-2 instead).
 * Called once the server's version line is parsed (which resets the flags) and before auth starts.
 * Without the flag (a future ssh2), the agents above still refuse the SHA-1 request: no signature.
 */
function impliesRsaSha2(client: Ssh2.Client): void {
  const proto = (client as unknown as { _protocol?: { _compatFlags?: number } })._protocol;
  const { COMPAT } = require('ssh2/lib/protocol/constants.js') as { COMPAT?: { IMPLY_RSA_SHA2_SIGALGS?: number } };
  const flag = COMPAT?.IMPLY_RSA_SHA2_SIGALGS;
  if (proto && typeof proto._compatFlags === 'number' && typeof flag === 'number') proto._compatFlags |= flag;
}

function exitStatus(signal: string | undefined): number {
  const n = signal ? (constants.signals as Record<string, number>)[signal] : undefined;
  return n ? 128 + n : 255;
}

/** Connects, authenticates, runs `req.command` and resolves when its channel closes. */
export async function execRemote(req: ExecRequest): Promise<ExecResult> {
  const { host, port, user } = req.target;
  const where = `${user}@${hostName(host, port)}`;
  const sock = await openSocket(host, port, req.connectTimeout);
  const client = new (ssh2().Client)();
  let hostRefusal: string | null = null;
  let authMethods: string[] | null = null;
  const errors: (Error & { level?: string })[] = [];
  const used = new Set<Identity>();

  const auths: Ssh2.AuthenticationType[] = [];
  if (req.identities.length > 0) auths.push({ type: 'agent', username: user, agent: identityAgent(req.identities, used) } as unknown as Ssh2.AuthenticationType);
  if (req.agentSocket) auths.push({ type: 'agent', username: user, agent: sha2OnlyAgent(req.agentSocket) } as unknown as Ssh2.AuthenticationType);

  const failure = (): Error => {
    if (hostRefusal) return execError(hostRefusal);
    const auth = errors.find((e) => e.level === 'client-authentication' && /All configured/.test(e.message));
    if (auth) {
      const offered = [...req.identities.map(describeIdentity), ...(req.agentSocket ? ['the keys of SSH_AUTH_SOCK'] : [])];
      // ssh2 reports the server's remaining methods only after a non-agent attempt; we only try publickey.
      const methods = ` (${(authMethods ?? ['publickey']).join(',')})`;
      const sha1 = errors.some((e) => e.message === NO_SHA1) ? ` (an RSA key was not used: ${NO_SHA1})` : '';
      return execError(
        `${where}: permission denied${methods}: ` +
          (offered.length ? `no key accepted; offered ${offered.join(', ')}${sha1}` : 'no identities to offer (no -i, no ~/.ssh/id_* key, no SSH_AUTH_SOCK)'),
      );
    }
    const timeout = errors.find((e) => e.level === 'client-timeout');
    if (timeout) return execError(`${where}: timed out during the handshake`);
    const other = errors.find((e) => e.level !== 'agent');
    if (other) return execError(`${where}: ${other.message}`);
    return execError(`${where}: connection closed by the server during the handshake`);
  };

  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve());
    client.on('handshake', () => impliesRsaSha2(client));
    client.on('error', (err) => errors.push(err));
    client.on('close', () => reject(failure()));
    client.connect({
      sock,
      username: user,
      readyTimeout: req.connectTimeout ? req.connectTimeout * 1000 : 0,
      algorithms: { ...ALGORITHMS, serverHostKey: req.policy.algorithms(host, port) } as Ssh2.Algorithms,
      hostVerifier: (blob: Buffer) => {
        const d = req.policy.check(host, port, blob);
        if (!d.ok) hostRefusal = d.message;
        return d.ok;
      },
      authHandler: (methodsLeft: string[] | null, _partial: boolean | null, next: (a: Ssh2.AuthenticationType | false) => void) => {
        if (methodsLeft) authMethods = methodsLeft;
        if (methodsLeft && !methodsLeft.includes('publickey')) return next(false);
        next(auths.shift() ?? false);
      },
    } as Ssh2.ConnectConfig);
  });

  try {
    return await runChannel(client, req, where, errors);
  } finally {
    client.removeAllListeners('close');
    client.end();
  }
}

function runChannel(client: Ssh2.Client, req: ExecRequest, where: string, errors: Error[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let closed = false;
    let code: number | null | undefined;
    let signal: string | undefined;
    // A server may hang up right after exit-status/EOF/CLOSE, and the TCP close can be emitted before the
    // channel's own close (its output still draining): with a status in hand that is not a lost
    // connection — the channel's close below reports it, as ssh(1) does.
    client.once('close', () => {
      if (closed || typeof code === 'number' || signal) return;
      reject(execError(`${where}: connection lost${errors.length ? `: ${errors[errors.length - 1].message}` : ''}`));
    });
    const opts: Ssh2.ExecOptions = req.pty ? { pty: { term: req.pty.term, rows: req.pty.rows, cols: req.pty.cols } } : {};
    client.exec(req.command, opts, (err, stream) => {
      if (err) {
        closed = true;
        return reject(execError(`${where}: the server refused to run the command: ${err.message}`));
      }
      const unresize = req.onResize?.((rows, cols) => stream.setWindow(rows, cols, 0, 0));
      stream.on('exit', (c: number | null, s?: string) => {
        code = c;
        signal = s;
      });
      stream.pipe(req.stdout, { end: false });
      stream.stderr.pipe(req.stderr, { end: false });
      if (req.stdin) req.stdin.pipe(stream);
      else stream.end();
      stream.on('close', () => {
        closed = true;
        unresize?.();
        if (req.stdin) req.stdin.unpipe(stream);
        if (typeof code === 'number') resolve({ status: code });
        else if (signal) resolve({ status: exitStatus(signal), signal });
        else reject(execError(`${where}: the command ended without an exit status`));
      });
    });
  });
}

/**
 * `sshkit/client` (issue 15): `sshkit exec` as a library. `exec` wraps execRemote (exec.ts) with the
 * same host-key policy as the CLI (host-keys.ts: known_hosts files and StrictHostKeyChecking, or
 * SHA256 pins) and the same never-SHA-1 signing; keys are given as text, the caller reads files. No
 * ssh2 or sshpk type appears in its signatures; it never prompts and prints nothing (warnings go to
 * `onWarning`).
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { bad } from '../core/errors.js';
import { loadSigningKey } from '../core/private-key.js';
import { createSigner } from '../core/signature.js';
import { execRemote } from './exec.js';
import { execError, hostnameProblem, HostKeyPolicy, type StrictMode } from './host-keys.js';
import type { Identity } from './identities.js';

export type { StrictMode };

/** What {@link exec} runs, where, and how it trusts the host. */
export interface ExecOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /** Default: the local user name, as ssh. */
  user?: string;
  /** The command line, sent as one string. */
  command: string;
  /** Private key texts to authenticate with, in order (OpenSSH, PEM or PKCS#8). */
  privateKeys?: (string | Buffer)[];
  /** Passphrase for encrypted `privateKeys`. */
  passphrase?: string;
  /** An ssh-agent socket tried after `privateKeys` (the CLI uses SSH_AUTH_SOCK; here only if given). */
  agentSocket?: string;
  /** StrictHostKeyChecking: `yes` (default: an unknown host is refused), `accept-new`, or `no`. */
  strictHostKeyChecking?: StrictMode;
  /** known_hosts files (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts, as ssh); new keys go to the first. */
  knownHosts?: string[];
  /** SHA256 fingerprints the host key must match (`--host-fingerprint`); known_hosts is then not used. */
  hostFingerprints?: string[];
  /** Seconds for the TCP connect and, separately, the handshake and auth. */
  connectTimeout?: number;
  /** Sent to the command's stdin (default: EOF at once). */
  stdin?: Readable | Buffer | string;
  /** Where the command's output goes; when absent it is collected into the result. */
  stdout?: Writable;
  stderr?: Writable;
  /** Host-key notes (e.g. "Permanently added …"). */
  onWarning?: (line: string) => void;
}

/** How the command ended; `stdout`/`stderr` hold the output when no stream was given. */
export interface ExecOutcome {
  /** Exit status, or 128+n when killed by signal n. */
  status: number;
  signal?: string;
  stdout: Buffer;
  stderr: Buffer;
}

function collector(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks) };
}

/**
 * Runs one command over SSH and resolves when its channel closes. Connection, host-key and auth
 * failures reject with SshkitError (code `CONNECTION`, as ssh's exit 255).
 */
export async function exec(opts: ExecOptions): Promise<ExecOutcome> {
  if (!opts || typeof opts.host !== 'string') throw bad('exec: host is required');
  if (typeof opts.command !== 'string' || opts.command === '') throw execError('exec: a command is required');
  const problem = hostnameProblem(opts.host);
  if (problem) throw execError(problem);
  const port = opts.port ?? 22;
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw execError(`exec: bad port ${port}`);
  const warn = opts.onWarning ?? (() => undefined);
  const home = homedir();
  const policy = HostKeyPolicy.load({
    mode: opts.strictHostKeyChecking ?? 'yes',
    files: opts.knownHosts ?? [join(home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'],
    pins: opts.hostFingerprints,
    warn,
  });
  const identities: Identity[] = (opts.privateKeys ?? []).map((text, i) => {
    const path = `privateKeys[${i}]`;
    return { path, signer: createSigner(loadSigningKey(text, opts.passphrase, path)) };
  });
  const out = opts.stdout ? null : collector();
  const err = opts.stderr ? null : collector();
  let stdin: Readable | null = null;
  if (typeof opts.stdin === 'string' || Buffer.isBuffer(opts.stdin)) {
    const p = new PassThrough();
    p.end(opts.stdin);
    stdin = p;
  } else if (opts.stdin) stdin = opts.stdin;
  const user = opts.user ?? userInfo().username;
  const r = await execRemote({
    target: { user, host: opts.host, port, label: opts.host },
    command: opts.command,
    policy,
    identities,
    agentSocket: opts.agentSocket,
    connectTimeout: opts.connectTimeout,
    stdin,
    stdout: opts.stdout ?? out!.stream,
    stderr: opts.stderr ?? err!.stream,
  });
  return { status: r.status, ...(r.signal ? { signal: r.signal } : {}), stdout: out ? out.bytes() : Buffer.alloc(0), stderr: err ? err.bytes() : Buffer.alloc(0) };
}

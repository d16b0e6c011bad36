/**
 * An SFTP test server: `startSshServer` (the code under `sshkit serve`) with a session handler that
 * accepts the 'sftp' subsystem and runs serveSftp on ROOT. In-process, so every client run against it
 * must be asynchronous (`runAsync`, never spawnSync). When `sshkit serve --sftp` is wired, this can
 * switch to spawning it without the tests changing.
 *
 *   const srv = await startSftpServer({ root, readOnly: false });
 *   const r = await srv.sftpBatch('put a b\nls\n');       // OpenSSH sftp -b -
 *   const s = await srv.connect();                         // ssh2's own SFTP client, in-process
 *   await srv.stop();
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { serveSftp, type SftpLimits } from '../src/server/sftp/index.js';
import { startSshServer } from '../src/server/server.js';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import { openssh, runAsync, tempDir, type RunResult } from './helpers.js';

export interface SftpEvent {
  event: string;
  [k: string]: unknown;
}

export interface SftpServer {
  readonly port: number;
  /** The client's private key (ed25519, OpenSSH format), authorized for every user. */
  readonly key: string;
  /** The host key's public line file (for clients that pin it, as PuTTY's -hostkey). */
  readonly hostPub: string;
  /** What serveSftp logged, in order. */
  readonly events: SftpEvent[];
  /** The options every OpenSSH client run needs (port, key, no known_hosts, batch mode). */
  opts(): string[];
  /** OpenSSH `sftp -b -` with `script` on stdin, in `cwd` (local paths are relative to it). */
  sftpBatch(script: string, extra?: string[]): Promise<RunResult>;
  /** OpenSSH `scp ARGS` (SFTP protocol, the OpenSSH 9 default); remote paths as `host:path` via {@link remote}. */
  scp(args: string[]): Promise<RunResult>;
  /** `alice@127.0.0.1:<path>` */
  remote(path: string): string;
  /** ssh2's client SFTP on this server (for raw requests). */
  connect(): Promise<{ sftp: ssh2.SFTPWrapper; end(): void }>;
  stop(): Promise<void>;
}

/** Starts a server whose sessions serve SFTP on `root`. */
export async function startSftpServer(o: { root: string; readOnly?: boolean; limits?: Partial<SftpLimits> }): Promise<SftpServer> {
  const t = tempDir('sshkit-sftp-keys-');
  const key = join(t.dir, 'id_ed25519');
  const hostKey = join(t.dir, 'host_ed25519');
  for (const f of [key, hostKey]) {
    const r = openssh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sftp-test', '-f', f]);
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const authorized = join(t.dir, 'authorized_keys');
  openssh('cp', [`${key}.pub`, authorized]);
  const events: SftpEvent[] = [];
  const srv = await startSshServer({
    host: '127.0.0.1',
    port: 0,
    authorized,
    hostKeys: [hostKey],
    admins: [],
    exec: 'builtin',
    limits: DEFAULT_LIMITS,
    logFormat: 'json',
    logSink: () => undefined,
    // the session pipeline's hook (src/server/pipeline.ts): SFTP only, with this helper's limits and log
    sessions: {
      policy: { pty: () => 'sftp only', env: () => false, starts: (r) => r.kind === 'subsystem' && r.name === 'sftp', signals: false, sftp: () => true },
      handler: async (s) => {
        const stream = s.openSftp();
        if (!stream) return { refused: 'channel closed' };
        const stop = () => stream.end();
        s.stopping.addEventListener('abort', stop);
        await serveSftp(stream as ssh2.SFTPWrapper, { root: o.root, readOnly: o.readOnly ?? false, limits: o.limits, log: (event, fields) => events.push({ event, ...fields }) });
        s.stopping.removeEventListener('abort', stop);
        return 0;
      },
    },
  });
  const opts = () => ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null', '-o', 'IdentitiesOnly=yes', '-i', key, '-P', String(srv.port)];
  return {
    port: srv.port,
    key,
    hostPub: `${hostKey}.pub`,
    events,
    opts,
    sftpBatch: (script, extra = []) => runAsync('sftp', [...opts(), '-b', '-', ...extra, 'alice@127.0.0.1'], { input: script }),
    scp: (args) => runAsync('scp', [...opts(), ...args]),
    remote: (path) => `alice@127.0.0.1:${path}`,
    connect: () =>
      new Promise((resolve, reject) => {
        const c = new ssh2.Client();
        c.on('error', reject);
        c.on('ready', () =>
          c.sftp((err, sftp) => {
            if (err) return reject(err);
            resolve({ sftp, end: () => c.end() });
          }),
        );
        c.connect({ host: '127.0.0.1', port: srv.port, username: 'alice', privateKey: readFileSync(key) });
      }),
    stop: async () => {
      await srv.stop();
      t.cleanup();
    },
  };
}

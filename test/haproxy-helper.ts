/**
 * Runs Debian's HAProxy (/usr/sbin/haproxy, foreground `-db`) as a child with a generated TCP config:
 * one frontend on 127.0.0.1:<free port>, one backend whose server lines the caller writes (e.g.
 * `send-proxy-v2 check inter 200ms`). Used by the PROXY protocol golden tests and the fleet proof.
 *
 *   const hap = await startHaproxy(['server s1 127.0.0.1:2222 send-proxy-v2 source 127.0.0.3']);
 *   ...connect to 127.0.0.1:hap.port...
 *   await hap.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

export const HAPROXY = '/usr/sbin/haproxy';
export const haveHaproxy = existsSync(HAPROXY);

/** A free TCP port on 127.0.0.1 (bound and released: HAProxy binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Haproxy {
  readonly port: number;
  readonly child: ChildProcess;
  /** HAProxy's own stderr (warnings, server up/down notices). */
  logs(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Starts HAProxy in TCP mode with `serverLines` in its backend (and `backendExtra` lines before them);
 * the frontend listens on 127.0.0.1 and on each of `extraBinds` (e.g. `[::1]`), same port, each bind
 * with `bindOptions` (e.g. `accept-proxy`). With accept-proxy the readiness probe sends a PROXY line.
 */
export async function startHaproxy(serverLines: string[], backendExtra: string[] = [], extraBinds: string[] = [], bindOptions = ''): Promise<Haproxy> {
  const port = await freePort();
  const tmp = tempDir('sshkit-haproxy-');
  const cfg = join(tmp.dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  log stderr format short local0 info',
      'defaults',
      '  mode tcp',
      '  log global',
      '  timeout connect 2s',
      '  timeout check 5s', // a health check answered slowly on a loaded machine is not a dead server
      '  timeout client 30s',
      '  timeout server 30s',
      '  retries 2',
      '  option redispatch',
      'frontend fe',
      `  bind 127.0.0.1:${port} ${bindOptions}`,
      ...extraBinds.map((b) => `  bind ${b}:${port} ${bindOptions}`),
      '  default_backend be',
      'backend be',
      '  balance roundrobin',
      ...backendExtra.map((l) => `  ${l}`),
      ...serverLines.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  const child = spawn(HAPROXY, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => (live.delete(child), tmp.cleanup(), resolve())));
  // Ready when the frontend accepts a TCP connection.
  const { connect } = await import('node:net');
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${err}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (bindOptions.includes('accept-proxy') && s.write('PROXY UNKNOWN\r\n'), s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100) throw new Error(`haproxy did not listen: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    child,
    logs: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * What the server benchmarks (serve.bench.ts, serve-cpu.ts) share: one timed login through ssh2's Client
 * (connect, kex, publickey, exec `echo ok`, close; TCP_NODELAY, PERF.md lesson 1) and the wait for a port.
 */
import { connect } from 'node:net';
import { createRequire } from 'node:module';

const { Client } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');

/**
 * One login as `user`; `keep` leaves it open with a shell channel (no pty) instead of exec. Resolves with
 * the latency in ms. `hostKey` (the host key's wire blob) pins the server's key: any other fails the login.
 */
export function login(port: number, privateKey: Buffer, user: string, keep = false, hostKey?: Buffer): Promise<{ ms: number; conn: any }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const conn = new Client();
    conn.on('ready', () => {
      // kept: an idle session, a shell channel open without a pty (sshd starts a shell for it)
      if (keep) return conn.shell(false, (err) => (err ? reject(err) : resolve({ ms: performance.now() - t0, conn })));
      conn.exec('echo ok', (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (d: Buffer) => (out += d));
        stream.on('close', () => {
          conn.end();
          if (out.trim() !== 'ok') return reject(new Error(`unexpected output ${JSON.stringify(out)}`));
          resolve({ ms: performance.now() - t0, conn });
        });
      });
    });
    conn.on('error', reject);
    conn.connect({ host: '127.0.0.1', port, username: user, privateKey, hostVerifier: (blob: Buffer) => !hostKey || blob.equals(hostKey), readyTimeout: 60_000 } as any);
    (conn as any)._sock?.setNoDelay?.(true);
  });
}

/** Resolves once 127.0.0.1:`port` accepts a connection, polled every `intervalMs` (fails after `timeoutMs`). */
export async function waitPort(port: number, intervalMs = 50, timeoutMs = 20_000): Promise<void> {
  for (const end = performance.now() + timeoutMs; performance.now() < end; ) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`port ${port} never opened`);
}

/**
 * The algorithms ssh2's Client negotiates with the server on `port` (from its handshake debug lines,
 * ssh2/lib/protocol/kex.js): kex, host key, client→server cipher and MAC (`implicit` for an AEAD cipher).
 */
export function negotiated(port: number, privateKey: Buffer, user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const got = new Map<string, string>();
    const conn = new Client();
    const pick = (line: string) => {
      const m = /^Handshake: (KEX algorithm|Host key format|C->S Cipher|C->S MAC): (.+)$/.exec(line);
      if (m) got.set(m[1], m[2]);
    };
    conn.on('ready', () => {
      conn.end();
      resolve([got.get('KEX algorithm'), got.get('Host key format'), got.get('C->S Cipher'), got.get('C->S MAC') ?? 'implicit'].join(' / '));
    });
    conn.on('error', reject);
    conn.connect({ host: '127.0.0.1', port, username: user, privateKey, hostVerifier: () => true, readyTimeout: 60_000, debug: pick } as any);
  });
}

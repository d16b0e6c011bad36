/**
 * The light load client of the serve benches (issue 14): bench/ssh-load.go, Go's golang.org/x/crypto/ssh
 * from Debian built the way the interop tests build test/peers/go-peer.go (GO111MODULE=off
 * GOPATH=/usr/share/gocode). ssh2's Client in one Node process costs ≈ 7 ms of CPU a login, as much as
 * the server it loads; this one ≈ 2–3 ms, so at c=8 on 2 cores the servers, not the client, are measured.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './util.js';

/** What bench/ssh-load.go prints (one JSON object). */
export interface GoLoadResult {
  conc: number;
  logins: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
  cpuMsPerLogin: number;
  kex: string;
  cipher: string;
  mac: string;
  hostKey: string;
}

/** The algorithms pinned for every server: what ssh2's Client negotiates with Conch (Twisted 22.4 has no GCM, no EtM MAC). */
export const GO_ALGORITHMS = { kex: 'curve25519-sha256@libssh.org', cipher: 'aes128-ctr', mac: 'hmac-sha2-256', hostAlg: 'ssh-ed25519' } as const;

/**
 * Builds bench/ssh-load.go into `dir`; returns the binary's path, or why it cannot (Go or Debian's
 * golang-golang-x-crypto-dev missing) so the bench can say so and skip the Go rows.
 */
export function buildGoLoad(dir: string): { bin: string } | { missing: string } {
  if (spawnSync('go', ['version']).error) return { missing: 'go not installed (apt-get install -y golang-go golang-golang-x-crypto-dev)' };
  const bin = join(dir, 'ssh-load');
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '', GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'sshkit-bench-gocache') };
  const r = spawnSync('go', ['build', '-o', bin, join(ROOT, 'bench', 'ssh-load.go')], { env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { missing: `go build bench/ssh-load.go failed (golang-golang-x-crypto-dev installed?): ${(r.stderr || String(r.error)).trim().split('\n')[0]}` };
  return { bin };
}

/** Options of one time-boxed run of the Go client against 127.0.0.1:`port`. */
export interface GoLoadRun {
  port: number;
  user: string;
  keyFile: string;
  hostPubFile: string;
  conc: number;
  seconds: number;
  /** Stop after this many logins in all (default: the time box only). */
  logins?: number;
}

/** Runs the Go client once; rejects (with its first error) when any login failed or none completed. */
export function goLoad(bin: string, o: GoLoadRun): Promise<GoLoadResult> {
  const a = GO_ALGORITHMS;
  const args = ['-port', String(o.port), '-user', o.user, '-key', o.keyFile, '-host-pub', o.hostPubFile, '-c', String(o.conc), '-seconds', String(o.seconds),
    '-kex', a.kex, '-cipher', a.cipher, '-mac', a.mac, '-host-alg', a.hostAlg, ...(o.logins ? ['-n', String(o.logins)] : [])];
  return new Promise((resolve, reject) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.once('error', reject);
    c.once('close', (code) => {
      if (code !== 0) return reject(new Error(`ssh-load -c ${o.conc} against port ${o.port} exited ${code}: ${err.trim() || out.trim()}`));
      try {
        resolve(JSON.parse(out) as GoLoadResult);
      } catch {
        reject(new Error(`ssh-load printed no JSON: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}

/**
 * Key files each way, one table for every peer's key tool: keys `sshkit keygen` writes must be read by
 * the peer's tool (same public key), and keys the peer's tool writes must be read and fingerprinted by
 * `sshkit fingerprint` exactly as `ssh-keygen -l -f` prints them (the test runs both on the same file).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_TYPES, sshkit, tempDir } from './helpers.js';
import { keygenL } from './interop-peers.js';

export interface KeyTool {
  name: string;
  /** helpers.KEY_TYPES names the tool reads and writes. */
  types: string[];
  /** Reads the OpenSSH private key at `path` (written by sshkit); resolves with the public key line it derives. */
  readPrivate(path: string, dir: string): Promise<string>;
  /** Writes a fresh key of `type` the tool's own way; resolves with files (OpenSSH private or public form) to fingerprint. */
  write(type: string, dir: string): Promise<string[]>;
}

/** Key types of the key-file cells (RSA at 2048 bits: generating 3072-bit keys in Python dominated the run). */
export const KEY_FILE_TYPES = ['ed25519', 'ecdsa256', 'ecdsa384', 'ecdsa521', 'rsa2048'];

const blob = (line: string) => line.trim().split(/\s+/).slice(0, 2).join(' ');

/** Defines the key-file cells for one tool (call at the top level of a test file). */
export function keyFileMatrix(tool: KeyTool): void {
  const tmp = tempDir(`sshkit-interop-keys-${tool.name.replace(/\W+/g, '')}-`);
  after(() => tmp.cleanup());
  describe(`key files: sshkit ↔ ${tool.name}`, { concurrency: 4 }, () => {
    for (const type of tool.types) {
      test(`sshkit keygen ${type} → ${tool.name} reads the same public key`, async () => {
        const f = join(tmp.dir, `sshkit_${type}`);
        const r = sshkit(['keygen', '-q', ...KEY_TYPES[type], '-N', '', '-C', `sshkit-${type}`, '-f', f]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(blob(await tool.readPrivate(f, tmp.dir)), blob(readFileSync(`${f}.pub`, 'utf8')));
      });
      test(`${tool.name} writes ${type} → sshkit fingerprint prints what ssh-keygen -l prints`, async () => {
        const files = await tool.write(type, join(tmp.dir));
        assert.ok(files.length > 0);
        for (const file of files) {
          const want = keygenL(file); // ssh-keygen -l -f FILE
          const got = sshkit(['fingerprint', file]);
          assert.equal(got.status, 0, got.stderr);
          assert.equal(got.stdout, want, `sshkit fingerprint ${file}`);
        }
      });
    }
  });
}

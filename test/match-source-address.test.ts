/**
 * Certificate `source-address` lists (addrmatch.c addr_match_cidr_list) against OpenSSH: `ssh-keygen -s CA
 * -O source-address=LIST` refuses exactly the lists matchCidrList calls invalid (wildcards, negation,
 * `0x7f…`, scopes, host bits, empty entries); for the valid ones the real sshd (`TrustedUserCAKeys`) lets
 * a certified key in from 127.0.0.1 / 127.0.0.2 (`ssh -b`) exactly when matchCidrList says so.
 * sshkit's server used the from= matcher here before, which let `*` and `127.0.0.*` through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { matchCidrList } from '../src/core/addr.js';
import { parseAuthorizedKeys } from '../src/core/authorized-keys.js';
import { authorizePublicKey } from '../src/core/pubkey-auth.js';
import { runAsync, tempDir } from './helpers.js';
import { startSshd } from './sshd-helper.js';

const LISTS = [
  '127.0.0.1', '127.0.0.0/8', '127.0.0.2/32', '127.1', '::1', '::ffff:127.0.0.1', '10.0.0.0/8,127.0.0.1/32',
  '*', '127.0.0.*', '!127.0.0.1', '127.0.0.1,', '0x7f.0.0.1', 'fe80::1%1', '10.1.2.3/8', `${'0'.repeat(46)}::1`, 'localhost',
];
const CLIENTS = ['127.0.0.1', '127.0.0.2'];

function sshkitVerdict(list: string, client: string): boolean | 'invalid' {
  try {
    return matchCidrList(list, client);
  } catch {
    return 'invalid';
  }
}

test('source-address: ssh-keygen -O and sshd agree with matchCidrList', { timeout: 120_000 }, async () => {
  const tmp = tempDir('sshkit-srcaddr-');
  const gen = (name: string) => assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(tmp.dir, name)]).status, 0);
  gen('ca');
  const signed: Array<{ list: string; key: string }> = [];
  const mismatches: string[] = [];
  LISTS.forEach((list, i) => {
    gen(`k${i}`);
    const r = spawnSync('ssh-keygen', ['-q', '-s', join(tmp.dir, 'ca'), '-I', `row${i}`, '-n', 'root', '-O', `source-address=${list}`, join(tmp.dir, `k${i}.pub`)]);
    const valid = r.status === 0;
    if (valid !== (sshkitVerdict(list, '127.0.0.1') !== 'invalid')) mismatches.push(`ssh-keygen -O source-address=${list}: ${valid ? 'signs' : 'refuses'}`);
    if (valid) signed.push({ list, key: join(tmp.dir, `k${i}`) });
  });
  const sshd = await startSshd({ config: [`TrustedUserCAKeys ${join(tmp.dir, 'ca.pub')}`] });
  try {
    for (const { list, key } of signed) {
      for (const client of CLIENTS) {
        const r = await runAsync('ssh', ['-F', '/dev/null', '-b', client, '-p', String(sshd.port), '-i', key, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
          '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${sshd.user}@127.0.0.1`, 'true']);
        if ((r.status === 0) !== sshkitVerdict(list, client)) mismatches.push(`sshd source-address=${list} from ${client}: ${r.status === 0}`);
      }
    }
  } finally {
    await sshd.stop();
    tmp.cleanup();
  }
  assert.deepEqual(mismatches, []);
  // controls: both kinds of list were exercised
  assert.ok(signed.length >= 5 && signed.length < LISTS.length);
  assert.equal(sshkitVerdict('127.0.0.1', '127.0.0.1'), true);
  assert.equal(sshkitVerdict('127.0.0.1', '127.0.0.2'), false);
});

/** SSH wire string / uint32 / uint64. */
const str = (b: Buffer | string) => {
  const d = Buffer.isBuffer(b) ? b : Buffer.from(b);
  const n = Buffer.alloc(4);
  n.writeUInt32BE(d.length);
  return Buffer.concat([n, d]);
};
const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/**
 * An ed25519 user certificate for `root` carrying any source-address, signed with node:crypto — ssh-keygen
 * refuses to write `*` or `127.0.0.*` (its own addr_match_cidr_list check), a hostile CA tool need not.
 */
function crafted(sourceAddress: string): { caLine: string; cert: Buffer } {
  const ca = generateKeyPairSync('ed25519');
  const user = generateKeyPairSync('ed25519');
  const raw = (k: KeyObject) => Buffer.from((k.export({ format: 'jwk' }).x as string), 'base64url');
  const caBlob = Buffer.concat([str('ssh-ed25519'), str(raw(ca.publicKey))]);
  const body = Buffer.concat([
    str('ssh-ed25519-cert-v01@openssh.com'), str(Buffer.alloc(32, 7)), str(raw(user.publicKey)), u64(1n), u32(1), str('crafted'),
    str(str('root')), u64(0n), u64(0xffffffffffffffffn), str(Buffer.concat([str('source-address'), str(str(sourceAddress))])),
    str(''), str(''), str(caBlob),
  ]);
  const sig = Buffer.concat([str('ssh-ed25519'), str(sign(null, body, ca.privateKey))]);
  return { caLine: `ssh-ed25519 ${caBlob.toString('base64')}`, cert: Buffer.concat([body, str(sig)]) };
}

test('sshkit serve: a certificate source-address of * or 127.0.0.* is invalid, not a wildcard', () => {
  const ask = (src: string) => {
    const { caLine, cert } = crafted(src);
    const index = parseAuthorizedKeys(`cert-authority ${caLine}\n`);
    return authorizePublicKey(index, { user: 'root', algorithm: 'ssh-ed25519-cert-v01@openssh.com', keyBlob: cert, address: '127.0.0.1' }).result;
  };
  assert.equal(ask('127.0.0.1'), 'query-ok', 'control: a CIDR list that names the client');
  assert.equal(ask('127.0.0.0/8,10.0.0.0/8'), 'query-ok', 'control');
  assert.equal(ask('127.0.0.*'), 'fail');
  assert.equal(ask('*'), 'fail');
  assert.equal(ask('!10.0.0.1,127.0.0.1'), 'fail');
});

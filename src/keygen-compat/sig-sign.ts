/**
 * `sshkit-keygen -Y sign -f KEY -n NS [-U] [-P PASS] [-O hashalg=…] [FILE…]` — ssh-keygen.c sig_sign and
 * sign_one, on sshkit's SSHSIG writer (core/sshsig.ts): the key is loaded as sshkey_load_public does;
 * when SSH_AUTH_SOCK names an agent holding that key, the agent signs (`-U`: it must), else the private
 * key found by load_sign_key (`KEY.pub`/`KEY-cert.pub` → `KEY`). Each FILE gets FILE.sig (mode 0666
 * less umask, as open(2) there); no FILE (or `-`) signs stdin to stdout.
 */
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { AgentClient } from '../client/agent.js';
import { createSigner } from '../core/signature.js';
import { armorSignature, encodeSshsig, hashFd, signDigest, signedData, type SshsigHash } from '../core/sshsig.js';
import { SshkitError } from '../core/errors.js';
import type { PublicKey } from '../core/key.js';
import { loadSigningIdentity } from './files.js';
import { FATAL, hashStream, loadPublicLikeOpenssh, kgLog, readStdinLine, sigOpts, strerror } from './sig-common.js';
import type { KgArgs, KgIO } from './types.js';

/** Signs a digest of one message into an SSHSIG blob: the agent's or the private key's signer. */
type DigestSigner = (hash: SshsigHash, digest: Buffer) => Promise<Buffer>;

/** ssh_get_authentication_socket + ssh_agent_has_key: the agent when it holds `pub`, else why not. */
async function agentFor(io: KgIO, pub: PublicKey, namespace: string): Promise<{ sign: DigestSigner; close: () => void } | 'no-socket' | 'no-key'> {
  const sock = io.env.SSH_AUTH_SOCK;
  if (!sock) return 'no-socket';
  let agent: AgentClient;
  try {
    agent = await AgentClient.open(sock);
  } catch {
    return 'no-socket';
  }
  let held = false;
  try {
    held = (await agent.identities()).some((b) => b.equals(pub.blob));
  } catch {
    held = false;
  }
  if (!held) {
    agent.close();
    return 'no-key';
  }
  return {
    // sshsig.c sshsig_wrap_sign: the agent signs the same to-be-signed data, RSA as rsa-sha2-512
    sign: async (hash, digest) => {
      const signature = await agent.sign(pub.blob, signedData(namespace, hash, digest), 'rsa-sha2-512');
      return encodeSshsig({ publicKey: pub.blob, namespace, hashAlgorithm: hash, signature });
    },
    close: () => agent.close(),
  };
}

/** ssh-keygen.c load_sign_key (load_identity's failures are thrown as KgFatal); a status after a logged error. */
async function privateSigner(io: KgIO, args: KgArgs, keyPath: string, pub: PublicKey, namespace: string): Promise<DigestSigner | number> {
  let privPath = keyPath;
  let waspub = false;
  for (const suffix of ['-cert.pub', '.pub']) {
    if (privPath.length > suffix.length && privPath.endsWith(suffix)) {
      privPath = privPath.slice(0, -suffix.length);
      waspub = true;
    }
  }
  if (waspub && !existsSync(privPath)) {
    kgLog(io, `No private key found for public key "${keyPath}"`);
    return FATAL;
  }
  const priv = await loadSigningIdentity(privPath, args, io);
  let signer;
  try {
    signer = createSigner(priv, pub.blob);
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    kgLog(io, `Public key ${keyPath} doesn't match private key`);
    return FATAL;
  }
  return async (hash, digest) => signDigest(signer, namespace, hash, digest);
}

/** confirm_overwrite: an existing FILE.sig is replaced only after a `y` answer on stdin. */
async function confirmOverwrite(io: KgIO, path: string): Promise<boolean> {
  if (!existsSync(path)) return true;
  io.stdout(`${path} already exists.\nOverwrite (y/n)? `);
  const answer = await readStdinLine(io.stdin);
  return answer !== null && (answer[0] === 'y' || answer[0] === 'Y');
}

/** sign_one for FILE (or stdin when `fd` is null): progress lines, the armored signature written. */
async function signOne(io: KgIO, sign: DigestSigner, hashalg: string, name: string, fd: number | null, quiet: boolean): Promise<number> {
  if (!quiet) io.stderr(fd === null ? 'Signing data on standard input\n' : `Signing file ${name}\n`);
  if (hashalg !== 'sha512' && hashalg !== 'sha256') {
    // sshsig.c sshsig_check_hashalg, reached through sshsig_sign_fd's hash_file
    kgLog(io, `sshsig_check_hashalg: unsupported hash algorithm "${hashalg}"`);
    kgLog(io, 'sshsig_sign_fd: hash_file: signature algorithm not supported');
    kgLog(io, `Signing ${name} failed: signature algorithm not supported`);
    return FATAL;
  }
  const hash: SshsigHash = hashalg;
  let digest: Buffer;
  try {
    digest = fd === null ? await hashStream(io.stdin, hash) : await hashFd(fd, hash);
  } catch (err) {
    kgLog(io, `hash_file: read: ${strerror(err)}`);
    kgLog(io, `sshsig_sign_fd: hash_file: ${strerror(err)}`);
    kgLog(io, `Signing ${name} failed: ${strerror(err)}`);
    return FATAL;
  }
  const armored = armorSignature(await sign(hash, digest));
  if (fd === null) {
    io.stdout(armored);
    return 0;
  }
  const wfile = `${name}.sig`;
  if (!(await confirmOverwrite(io, wfile))) return 0;
  try {
    writeFileSync(wfile, armored, { mode: 0o666 });
  } catch (err) {
    kgLog(io, `Cannot open ${wfile}: ${strerror(err)}`);
    return FATAL;
  }
  if (!quiet) io.stderr(`Write signature to ${wfile}\n`);
  return 0;
}

/** `-Y sign` (ssh-keygen.c sig_sign); the caller has checked -f and -n as main() does. */
export async function sigSign(args: KgArgs, io: KgIO, keyPath: string, namespace: string): Promise<number> {
  const opts = sigOpts(args, io, { hashalg: true });
  if (!opts) return FATAL;
  const quiet = args.flags.has('q');
  const requireAgent = args.flags.has('U');
  const loaded = loadPublicLikeOpenssh(keyPath);
  if ('error' in loaded) {
    kgLog(io, `Couldn't load public key ${keyPath}: ${loaded.error}`);
    return FATAL;
  }
  const agent = await agentFor(io, loaded.key, namespace);
  if (requireAgent && agent === 'no-socket') return kgLog(io, "Couldn't get agent socket"), FATAL;
  if (requireAgent && agent === 'no-key') return kgLog(io, "Couldn't find key in agent"), FATAL;
  let sign: DigestSigner;
  if (typeof agent === 'object') sign = agent.sign;
  else {
    const s = await privateSigner(io, args, keyPath, loaded.key, namespace);
    if (typeof s === 'number') return s;
    sign = s;
  }
  const hashalg = opts.hashalg ?? 'sha512';
  try {
    if (args.operands.length === 0) return await signOne(io, sign, hashalg, '(stdin)', null, quiet);
    for (const file of args.operands) {
      if (file === '-') {
        const st = await signOne(io, sign, hashalg, file, null, quiet);
        if (st !== 0) return st;
        continue;
      }
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch (err) {
        return kgLog(io, `Cannot open ${file} for signing: ${strerror(err)}`), FATAL;
      }
      try {
        const st = await signOne(io, sign, hashalg, file, fd, quiet);
        if (st !== 0) return st;
      } finally {
        closeSync(fd);
      }
    }
    return 0;
  } finally {
    if (typeof agent === 'object') agent.close();
  }
}

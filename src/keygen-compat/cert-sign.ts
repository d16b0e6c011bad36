/**
 * `sshkit-keygen -s CA -I ID [-h] [-n P,…] [-V …] [-z [+]N] [-O opt…] [-U] key.pub…` — ssh-keygen.c
 * do_ca_sign (and main()'s add_cert_option loop before it) on sshkit's certificate writer
 * (core/cert-write.ts certify, cert-options.ts, validity.ts): the CA is a private key (load_identity,
 * with OpenSSH's permission check) or, with -U, a public key whose private half ssh-agent holds; each
 * key is loaded, certified and saved as KEY-cert.pub (0644, ` comment\n` as sshkey_save_public) in turn,
 * with the `Signed user key …` log line; the first failure is fatal (earlier certificates stay).
 */
import { writeFileSync } from 'node:fs';
import { AgentClient } from '../client/agent.js';
import { buildCertOptions, type CertOptions } from '../core/cert-options.js';
import { formatValidity } from '../core/cert-time.js';
import { certify, type CertSigner } from '../core/cert-write.js';
import { SshkitError } from '../core/errors.js';
import { formatPublicKey, inspectBlob } from '../core/key.js';
import { createSigner } from '../core/signature.js';
import { FOREVER, parseValidity } from '../core/validity.js';
import { loadPublicLikeOpenssh, kgLog, strerror } from './sig-common.js';
import { loadSigningIdentity } from './files.js';
import { KgFatal } from './usage.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';

/** A core refusal's text without sshkit's `-X: ` flag prefix (ssh-keygen's messages name no flag). */
const plain = (err: SshkitError) => err.message.replace(/^-[A-Za-z]: /, '');

/** The CA signer: load_identity, or with -U the agent holding the CA public key. */
async function loadCa(args: KgArgs, io: KgIO, path: string, close: Array<() => void>): Promise<CertSigner> {
  if (!args.flags.has('U')) {
    const priv = await loadSigningIdentity(path, args, io);
    const signer = createSigner(priv);
    return { publicKey: signer.publicKey.blob, sign: (data, alg) => signer.sign(data, alg) };
  }
  const pub = loadPublicLikeOpenssh(path);
  if ('error' in pub) throw new KgFatal(`Cannot load CA public key ${path}: ${pub.error}`);
  const sock = io.env.SSH_AUTH_SOCK;
  if (!sock) throw new KgFatal('Cannot use public key for CA signature: agent not present');
  let agent: AgentClient;
  try {
    agent = await AgentClient.open(sock);
  } catch (err) {
    throw new KgFatal(`Cannot use public key for CA signature: ${/ENOENT/.test(String((err as Error).message)) ? 'No such file or directory' : 'Connection refused'}`);
  }
  close.push(() => agent.close());
  let ids: Buffer[];
  try {
    ids = await agent.identities();
  } catch {
    throw new KgFatal('Retrieve agent key list: agent refused operation');
  }
  if (!ids.some((b) => b.equals(pub.key.blob))) throw new KgFatal(`CA key ${path} not found in agent`);
  return { publicKey: pub.key.blob, sign: (data, alg) => agent.sign(pub.key.blob, data, alg) };
}

/** -z as main() read it: `+N` counts up from N. */
function serialOf(args: KgArgs): { serial: bigint; step: bigint } {
  const z = lastArg(args, 'z');
  if (z === undefined) return { serial: 0n, step: 0n };
  return z.startsWith('+') ? { serial: BigInt(z.slice(1)), step: 1n } : { serial: BigInt(z), step: 0n };
}

/** `-s CA … key.pub…` (ssh-keygen.c do_ca_sign); main has checked -I and the operand count. */
export async function certifyKeys(args: KgArgs, io: KgIO): Promise<number> {
  const caPath = lastArg(args, 's')!;
  const keyId = lastArg(args, 'I')!;
  const certType = args.flags.has('h') ? 'host' : 'user';
  const t = lastArg(args, 't');
  let validAfter = 0n;
  let validBefore = FOREVER;
  let options: CertOptions;
  try {
    const v = lastArg(args, 'V');
    if (v !== undefined) ({ validAfter, validBefore } = parseValidity(v, Date.now() / 1000));
    options = buildCertOptions(args.flags.get('O') ?? [], certType);
  } catch (err) {
    if (err instanceof SshkitError) throw new KgFatal(plain(err));
    throw err;
  }
  let { serial, step } = serialOf(args);
  const close: Array<() => void> = [];
  try {
    const ca = await loadCa(args, io, caPath, close);
    const caType = inspectBlob(ca.publicKey).type;
    // -t names the CA's signature algorithm; sshkit signs with ssh-keygen's default for the CA type only
    if (t !== undefined && t !== caType && !(caType === 'ssh-rsa' && t === 'rsa-sha2-512')) {
      throw new KgFatal(`sshkit-keygen: -t ${t} with -s is not supported (the CA signs with its default algorithm)`);
    }
    const principalsArg = lastArg(args, 'n');
    for (const path of args.operands) {
      const principals = principalsArg === undefined ? [] : principalsArg.split(',');
      if (principals.includes('')) throw new KgFatal('Empty principal name');
      if (principals.length > 256) throw new KgFatal('Too many certificate principals specified');
      const loaded = loadPublicLikeOpenssh(path);
      if ('error' in loaded) throw new KgFatal(`load pubkey "${path}": ${loaded.error}`);
      const info = inspectBlob(loaded.key.blob);
      if (info.isCert) throw new KgFatal(`do_ca_sign: key "${path}" type ${info.label} cannot be certified`);
      let cert;
      try {
        cert = await certify(loaded.key.blob, { certType, keyId, principals, validAfter, validBefore, serial, options }, ca);
      } catch (err) {
        if (err instanceof SshkitError) throw new KgFatal(`Couldn't certify key ${path}: ${plain(err)}`);
        throw err;
      }
      const out = `${path.endsWith('.pub') ? path.slice(0, -4) : path}-cert.pub`;
      // sshkey_try_load_public: the comment up to CR/LF, or the file name when there is none;
      // a key read from a private key file has none at all, printed by fprintf as "(null)"
      const comment = loaded.from === 'private' ? '(null)' : loaded.key.comment.replace(/[\r\n].*$/s, '') || loaded.from;
      const line = `${formatPublicKey({ type: cert.type, blob: cert.blob, comment: '' })} `;
      try {
        writeFileSync(out, Buffer.concat([Buffer.from(line, 'latin1'), Buffer.from(comment, loaded.key.comment.replace(/[\r\n].*$/s, '') ? 'latin1' : 'utf8'), Buffer.from('\n')]), { mode: 0o644 });
      } catch (err) {
        throw new KgFatal(`Unable to save public key to ${lastArg(args, 'f') ?? '(null)'}: ${strerror(err)}`);
      }
      if (!args.flags.has('q')) {
        const who = principalsArg !== undefined ? ` for ${principalsArg}` : '';
        kgLog(io, `Signed ${certType} key ${out}: id "${keyId}" serial ${serial}${who} valid ${formatValidity(validAfter, validBefore)}`);
      }
      serial = (serial + step) & FOREVER;
    }
  } finally {
    for (const c of close) c();
  }
  return 0;
}

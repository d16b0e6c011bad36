/** The work behind `sshkit certify` (ssh-keygen.c do_ca_sign), loaded only when that command runs. */
import { AgentClient } from '../client/agent.js';
import { buildCertOptions } from '../core/cert-options.js';
import { formatValidity } from '../core/cert-time.js';
import { certify, type CertSigner, type CertSpec } from '../core/cert-write.js';
import { bad, ParseError, SshkitError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { formatPublicKey, inspectBlob, parsePublicKeyText, type PublicKey } from '../core/key.js';
import { isPrivateKeyText, loadSigningKey, publicFromPrivate } from '../core/private-key.js';
import { createSigner } from '../core/signature.js';
import { parseValidity, FOREVER } from '../core/validity.js';
import { pathExists, writeFilesAtomic, type FileSpec } from '../core/atomic-write.js';
import { readFirstLine, readInput } from '../input.js';
import { Output } from '../output.js';
import type { CertifyArgs } from './certify.js';

/** A key to certify: the file it came from, its key, the comment's bytes (as sshkey_load_public gives it), the output. */
interface Subject {
  readonly path: string;
  readonly key: PublicKey;
  readonly comment: Buffer;
  readonly out: string;
}

/**
 * sshkey_load_public: PATH as a public key, else PATH.pub, else the public half of a private key at PATH.
 * An empty comment becomes the path read; a key taken from a private key file gets no comment
 * (deliberate difference: ssh-keygen 9.2 writes the literal comment "(null)" there).
 */
async function loadSubject(path: string): Promise<Subject> {
  if (path === '-') throw bad('-: a key to certify must be a file (its certificate is written beside it)');
  const out = `${path.endsWith('.pub') ? path.slice(0, -4) : path}-cert.pub`;
  const located = (file: string, err: unknown) => (err instanceof ParseError ? new ParseError(`${file}: ${err.message}`) : err);
  // KEY alone when only KEY.pub exists: read KEY.pub (as sshkey_load_public tries it next)
  const text = !pathExists(path) && pathExists(`${path}.pub`) ? null : (await readInput(path)).toString('latin1');
  let used = path;
  let key: PublicKey;
  if (text === null || isPrivateKeyText(text)) {
    const pub = `${path}.pub`;
    if (pathExists(pub)) {
      used = pub;
      try {
        key = parsePublicKeyText((await readInput(pub)).toString('latin1'));
      } catch (err) {
        throw located(pub, err);
      }
    } else {
      let k: PublicKey | null;
      try {
        k = publicFromPrivate(text ?? '');
      } catch (err) {
        throw located(path, err);
      }
      if (!k) throw bad(`${path}: encrypted PEM private key and no ${pub}: its public key cannot be read`);
      return { path, key: k, comment: Buffer.alloc(0), out };
    }
  } else {
    try {
      key = parsePublicKeyText(text);
    } catch (err) {
      throw located(path, err);
    }
  }
  if (inspectBlob(key.blob).isCert) throw bad(`${used}: key type ${key.type} cannot be certified (it is a certificate)`);
  // the file was read as latin1, so the comment is its bytes; a path (from argv) is UTF-8
  const own = key.comment.replace(/[\r\n].*$/s, '');
  return { path: used, key, comment: own ? Buffer.from(own, 'latin1') : Buffer.from(used, 'utf8'), out };
}

/** The CA: a private key file (createSigner), or a public key held by ssh-agent. */
async function loadCa(argv: CertifyArgs, close: Array<() => void>): Promise<CertSigner> {
  const path = argv.signKey;
  const text = (await readInput(path)).toString('latin1');
  let pub: Buffer;
  if (isPrivateKeyText(text)) {
    if (!argv.agent) {
      const pass = argv.passphraseFile !== undefined ? await readFirstLine(argv.passphraseFile) : argv.passphrase;
      const signer = createSigner(loadSigningKey(text, pass, path));
      return { publicKey: signer.publicKey.blob, sign: (data, alg) => signer.sign(data, alg) };
    }
    const k = publicFromPrivate(text) ?? (pathExists(`${path}.pub`) ? parsePublicKeyText((await readInput(`${path}.pub`)).toString('latin1')) : null);
    if (!k) throw bad(`${path}: encrypted PEM key without ${path}.pub: its public key cannot be read for -U`);
    pub = k.blob;
  } else {
    try {
      pub = parsePublicKeyText(text).blob;
    } catch (err) {
      throw err instanceof ParseError ? new ParseError(`${path}: ${err.message}`) : err;
    }
  }
  if (inspectBlob(pub).isCert) throw bad(`${path}: a certificate cannot be a CA key`);
  const sock = process.env.SSH_AUTH_SOCK;
  if (!sock) throw bad(`${path}: a public key, so the CA's private key must be in ssh-agent, but SSH_AUTH_SOCK is not set`);
  const agent = await AgentClient.open(sock);
  close.push(() => agent.close());
  if (!(await agent.identities()).some((b) => b.equals(pub))) throw bad(`${path}: CA key ${fingerprint(pub)} not found in ssh-agent`);
  return { publicKey: pub, sign: (data, alg) => agent.sign(pub, data, alg) };
}

/** -z: a decimal uint64, `+N` to count up from N (ssh-keygen's strtoull rules: digits only). */
function parseSerial(text: string | undefined): { serial: bigint; step: bigint } {
  if (text === undefined) return { serial: 0n, step: 0n };
  const step = text.startsWith('+') ? 1n : 0n;
  const digits = step ? text.slice(1) : text;
  if (!/^[0-9]+$/.test(digits) || BigInt(digits) > FOREVER) throw bad(`-z: Invalid serial number "${text}"`);
  return { serial: BigInt(digits), step };
}

/** Signs every key given; see certify.ts. */
export async function certifyFiles(argv: CertifyArgs): Promise<void> {
  const out = new Output(argv);
  const certType = argv.host ? 'host' : 'user';
  const principals = argv.principals === undefined ? [] : argv.principals.split(',');
  const { validAfter, validBefore } = argv.validity === undefined ? { validAfter: 0n, validBefore: FOREVER } : parseValidity(argv.validity, Date.now() / 1000);
  let { serial, step } = parseSerial(argv.serial);
  const options = buildCertOptions(argv.option ?? [], certType);
  const base = { certType, keyId: argv.identity, principals, validAfter, validBefore, options } as const;

  const subjects: Subject[] = [];
  for (const p of argv.pubkeys.map(String)) subjects.push(await loadSubject(p));
  const outs = new Set<string>();
  for (const s of subjects) {
    if (outs.has(s.out)) throw bad(`${s.out}: named twice (two keys would be certified into one file)`);
    outs.add(s.out);
    if (!argv.force && pathExists(s.out)) throw bad(`${s.out}: already exists (use --force to overwrite)`);
  }
  const close: Array<() => void> = [];
  const results: Array<Record<string, unknown>> = [];
  const files: FileSpec[] = [];
  const valid = formatValidity(validAfter, validBefore);
  try {
    const ca = await loadCa(argv, close);
    for (const s of subjects) {
      const cert = await certify(s.key.blob, { ...base, serial } satisfies CertSpec, ca);
      const line = Buffer.from(formatPublicKey({ type: cert.type, blob: cert.blob, comment: '' }), 'latin1');
      const data = Buffer.concat([line, s.comment.length ? Buffer.concat([Buffer.from(' '), s.comment]) : Buffer.alloc(0), Buffer.from('\n')]);
      files.push({ path: s.out, data, mode: 0o644 });
      results.push({
        file: s.path,
        certificate: s.out,
        type: cert.type,
        certType,
        keyId: cert.keyId,
        serial: serial.toString(),
        principals: cert.principals,
        validAfter: validAfter.toString(),
        validBefore: validBefore.toString(),
        valid,
        fingerprint: fingerprint(cert.blob),
        caFingerprint: fingerprint(ca.publicKey),
      });
      serial = (serial + step) & FOREVER;
    }
  } finally {
    for (const c of close) c();
  }
  // every certificate is signed before the first is written; they are written as one unit (a failure
  // removes the ones this run created), each through a temp file, with one folder sync per folder
  writeFilesAtomic(files, argv.force);
  if (!argv.quiet) {
    const who = argv.principals !== undefined ? ` for ${argv.principals}` : '';
    for (const r of results) process.stderr.write(`Signed ${certType} key ${r.certificate}: id "${argv.identity}" serial ${r.serial}${who} valid ${valid}\n`);
  }
  if (out.json) out.data(results);
}

/**
 * Key generation for `sshkit keygen` (SPEC "sshkit keygen"): Node's crypto makes the key pair; the OpenSSH
 * format is written by openssh-key.ts without a passphrase and by sshpk with one (bcrypt KDF, 16 rounds,
 * aes256-ctr — what ssh-keygen writes), and Node's
 * crypto writes the PEM / PKCS#8 forms exactly as ssh-keygen -m PEM / -m PKCS8 does (OpenSSL-encrypted
 * PEM and PBES2 with AES-128-CBC). Like ssh-keygen, ed25519 keys are always written in OpenSSH format.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFilesAtomic, pathExists } from './atomic-write.js';
import { bad } from './errors.js';
import { formatPublicKey, inspectBlob, keyFromBlob, type KeyInfo, type PublicKey } from './key.js';
import { sshpk } from './private-key.js';
import { sshPublicBlob, writePlainOpensshKey } from './openssh-key.js';

/** Key types sshkit generates (`-t`). */
export type KeyKind = 'ed25519' | 'ecdsa' | 'rsa';
/** Private key file formats (`-m`). */
export type PrivateFormat = 'openssh' | 'pem' | 'pkcs8';

/** A validated `-t`/`-b` pair. */
export interface KeySpec {
  readonly kind: KeyKind;
  readonly bits: number;
}

/** SPEC: RSA below 2048 bits is refused (OpenSSH allows 1024); OpenSSH's maximum is 16384. */
export const RSA_MIN_GEN_BITS = 2048;
const RSA_MAX_BITS = 16384;
const RSA_DEFAULT_BITS = 3072;
const EC_CURVES: Record<number, string> = { 256: 'P-256', 384: 'P-384', 521: 'P-521' };

/**
 * Validates `-t` and `-b` (SPEC: default ed25519; rsa 3072 by default, at least 2048; ecdsa 256, 384
 * or 521). As ssh-keygen, `-b` is ignored for ed25519, whose size is fixed.
 */
export function keySpec(type = 'ed25519', bits?: string | number): KeySpec {
  const kind = type.toLowerCase();
  if (kind !== 'ed25519' && kind !== 'ecdsa' && kind !== 'rsa') {
    throw bad(`-t ${type}: unknown key type (expected ed25519, ecdsa or rsa)`);
  }
  let n: number | undefined;
  if (bits !== undefined && bits !== '') {
    const s = String(bits);
    if (!/^\d{1,6}$/.test(s)) throw bad(`-b ${s}: not a number of bits`);
    n = Number(s);
  }
  switch (kind) {
    case 'ed25519':
      return { kind, bits: 256 };
    case 'ecdsa':
      if (n === undefined) return { kind, bits: 256 };
      if (!(n in EC_CURVES)) throw bad(`-b ${n}: ECDSA keys must be 256, 384 or 521 bits`);
      return { kind, bits: n };
    case 'rsa':
      if (n === undefined) return { kind, bits: RSA_DEFAULT_BITS };
      if (n < RSA_MIN_GEN_BITS) throw bad(`-b ${n}: RSA keys shorter than ${RSA_MIN_GEN_BITS} bits are refused`);
      if (n > RSA_MAX_BITS) throw bad(`-b ${n}: RSA keys longer than ${RSA_MAX_BITS} bits are not supported`);
      return { kind, bits: n };
  }
}

/** Validates `-m` (case-insensitive, as ssh-keygen; RFC4716 is ssh-keygen's name for the OpenSSH format). */
export function privateFormat(format = 'openssh'): PrivateFormat {
  const f = format.toLowerCase();
  if (f === 'openssh' || f === 'rfc4716') return 'openssh';
  if (f === 'pem' || f === 'pkcs8') return f;
  throw bad(`-m ${format}: unknown key format (expected openssh, pem or pkcs8)`);
}

/** What `generateKey` made: the private key file's text and the public key (with its comment). */
export interface GeneratedKey {
  readonly spec: KeySpec;
  readonly publicKey: PublicKey;
  readonly info: KeyInfo;
  readonly privateText: string;
  /** The format actually written (ed25519 is always openssh, as with ssh-keygen). */
  readonly format: PrivateFormat;
  readonly encrypted: boolean;
}

/** What keygen makes: type and size, comment, passphrase and private key format. */
export interface GenerateOptions {
  readonly comment: string;
  /** Empty or absent: unencrypted (SPEC: no -N or -N '' means unencrypted). */
  readonly passphrase?: string | Buffer;
  readonly format?: PrivateFormat;
}

/**
 * Validates the options before any work (so a refusal prints nothing else): a one-line comment, and
 * the format actually written with its passphrase rule. Returns the passphrase bytes (none: plain key).
 */
export function checkGenerateOptions(spec: KeySpec, opts: GenerateOptions): { pass: Buffer | undefined; format: PrivateFormat } {
  if (/[\r\n]/.test(opts.comment)) throw bad('comment: must be one line (no line breaks)');
  const pass = opts.passphrase === undefined || opts.passphrase.length === 0 ? undefined : Buffer.from(opts.passphrase as any);
  const format: PrivateFormat = spec.kind === 'ed25519' ? 'openssh' : (opts.format ?? 'openssh');
  // ssh-keygen refuses 1–4 character passphrases for PEM/PKCS#8 (SSH_ERR_PASSPHRASE_TOO_SHORT, an OpenSSL rule).
  if (pass && format !== 'openssh' && pass.length < 5) {
    throw bad(`passphrase: too short for -m ${format} (minimum five characters, as ssh-keygen)`);
  }
  return { pass, format };
}

/**
 * A new private key. The key comes out of the generator already encoded (PKCS#8 DER) and is imported from
 * those bytes: Node 20 can deadlock when a key made by generateKeyPairSync is exported later and a GC
 * collects the generator's job during that export (the job's destructor takes the key's mutex, which the
 * export holds; seen under serve load, gdb: ExportJWKEdKey → GC → ~KeyGenJob). An imported key has no job.
 */
function newKeyObject(spec: KeySpec): KeyObject {
  const pkcs8 = { type: 'pkcs8', format: 'der' } as const;
  const spki = { type: 'spki', format: 'der' } as const;
  let der: Buffer;
  switch (spec.kind) {
    case 'ed25519':
      der = generateKeyPairSync('ed25519', { privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
      break;
    case 'ecdsa':
      der = generateKeyPairSync('ec', { namedCurve: EC_CURVES[spec.bits], privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
      break;
    case 'rsa':
      der = generateKeyPairSync('rsa', { modulusLength: spec.bits, publicExponent: 0x10001, privateKeyEncoding: pkcs8, publicKeyEncoding: spki }).privateKey;
      break;
  }
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/**
 * Generates a key pair and serializes the private key. The comment goes into the OpenSSH private key
 * and the public key; PEM and PKCS#8 cannot hold one (so `ssh-keygen -y` shows none for them).
 */
export function generateKey(spec: KeySpec, opts: GenerateOptions): GeneratedKey {
  const { pass, format } = checkGenerateOptions(spec, opts);
  const priv = newKeyObject(spec);
  let privateText: string;
  let blob: Buffer;
  if (format === 'openssh' && !pass) {
    // without a passphrase the format is written here (openssh-key.ts), not by sshpk: ≈ 40 ms less
    ({ text: privateText, publicBlob: blob } = writePlainOpensshKey(priv, opts.comment));
  } else if (format === 'openssh') {
    blob = sshPublicBlob(priv);
    const key = sshpk().parsePrivateKey(priv.export({ type: 'pkcs8', format: 'pem' }) as string, 'pkcs8');
    key.comment = opts.comment;
    privateText = key.toBuffer('openssh', { passphrase: pass as any, cipher: 'aes256-ctr' }).toString('utf8');
    if (!Buffer.from(key.toPublic().toBuffer('rfc4253')).equals(blob)) throw new Error('sshpk and Node disagree on the public key');
  } else {
    blob = sshPublicBlob(priv);
    const type = format === 'pkcs8' ? 'pkcs8' : spec.kind === 'rsa' ? 'pkcs1' : 'sec1';
    privateText = (
      pass
        ? priv.export({ type, format: 'pem', cipher: 'aes-128-cbc', passphrase: pass })
        : priv.export({ type, format: 'pem' } as any)
    ) as string;
  }
  const publicKey = keyFromBlob(blob, opts.comment);
  return { spec, publicKey, info: inspectBlob(blob), privateText, format, encrypted: !!pass };
}

/** The public key file that goes with a private key file (ssh-keygen's convention). */
export function publicKeyPath(file: string): string {
  return file + '.pub';
}

/**
 * Refuses to go on when FILE or FILE.pub exists (SPEC: "left untouched and the command fails (2)
 * unless --force"). Checked before generating, so a slow RSA key is not made for nothing; the final
 * write re-checks atomically.
 */
export function refuseExisting(file: string): void {
  for (const p of [file, publicKeyPath(file)]) {
    if (pathExists(p)) throw bad(`${p}: already exists (use --force to overwrite)`);
  }
}

/**
 * Writes FILE (0600) and FILE.pub (0644, `type base64 comment`, no trailing space for an empty comment),
 * each atomically; a missing parent folder is made 0700. Without `force` neither file is replaced.
 */
export function saveKeyPair(file: string, key: GeneratedKey, force = false): void {
  writeFilesAtomic(
    [
      { path: file, data: key.privateText, mode: 0o600 },
      { path: publicKeyPath(file), data: formatPublicKey(key.publicKey) + '\n', mode: 0o644 },
    ],
    force,
  );
}

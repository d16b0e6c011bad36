/**
 * Public key conversion, as `ssh-keygen -e` / `-i` with `-m RFC4716|PKCS8|PEM` (ssh-keygen.c
 * do_convert_to_ssh2/_pkcs8/_pem and do_convert_from_ssh2/_pkcs8/_pem, OpenSSH 9.2). Output is byte for
 * byte what ssh-keygen writes; the refusals are its refusals (no PKCS8/PEM for Ed25519, PEM import is
 * PKCS#1 RSA only). PEM/PKCS#8 are decoded and encoded by OpenSSL (node:crypto), as ssh-keygen does, and
 * handed to sshpk only as a framed SPKI for the SSH blob. RFC 4716 is read by key-file.ts parseRfc4716.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { encodeBase64 } from './base64.js';
import { bad, ParseError } from './errors.js';
import { inspectBlob, plainKeyBlob } from './key-blob.js';
import { parseRfc4716 } from './key-file.js';
import { keyFromBlob, type PublicKey } from './key.js';
import { sshpk } from './private-key.js';

/** The conversion formats ssh-keygen's -m takes for -e/-i (case-insensitive, as strcasecmp there). */
export type ConvertFormat = 'RFC4716' | 'PKCS8' | 'PEM';

const FORMATS: ReadonlyMap<string, ConvertFormat> = new Map([
  ['rfc4716', 'RFC4716'],
  ['pkcs8', 'PKCS8'],
  ['pem', 'PEM'],
]);

/** Parses `-m`; an unknown name is ssh-keygen's `Unsupported conversion format "X"`. */
export function convertFormat(name = 'RFC4716'): ConvertFormat {
  const f = FORMATS.get(name.toLowerCase());
  if (!f) throw bad(`Unsupported conversion format ${JSON.stringify(name)}`);
  return f;
}

/** base64 in lines of 70 (ssh-keygen.c dump_base64), each line ended by a newline. */
function base64Lines(bytes: Buffer, width: number): string {
  const b64 = encodeBase64(bytes);
  let out = '';
  for (let i = 0; i < b64.length; i += width) out += b64.slice(i, i + width) + '\n';
  return out;
}

/** The key as an OpenSSL key object (RSA and ECDSA, plain or certified, as ssh-keygen's EVP conversions). */
function toKeyObject(key: PublicKey, format: ConvertFormat): KeyObject {
  const info = inspectBlob(key.blob);
  if (info.baseType !== 'ssh-rsa' && !info.baseType.startsWith('ecdsa-sha2-')) {
    throw bad(`${format}: unsupported key type ${info.label}`);
  }
  // a certificate exports the key it certifies, as ssh-keygen's EVP conversion of its key part
  const blob = info.isCert ? plainKeyBlob(key.blob) : key.blob;
  return createPublicKey(sshpk().parseKey(blob, 'rfc4253').toString('pkcs8'));
}

/**
 * `ssh-keygen -e -m FORMAT`: RFC 4716 with ssh-keygen's `Comment: "BITS-bit TYPE, converted by
 * USER@HOST from OpenSSH"` header (`who` is USER@HOST), PKCS8 as an SPKI `PUBLIC KEY`, PEM as PKCS#1
 * `RSA PUBLIC KEY` for RSA and (PEM_write_EC_PUBKEY) the SPKI form for ECDSA.
 */
export function exportPublicKey(key: PublicKey, format: ConvertFormat, who: string): string {
  if (format === 'RFC4716') {
    const info = inspectBlob(key.blob);
    // ssh-keygen.c do_convert_to_ssh2 formats into `char comment[61]`: a long USER@HOST is cut at 60 bytes
    const comment = Buffer.from(`${info.bits}-bit ${info.label}, converted by ${who} from OpenSSH`).subarray(0, 60).toString();
    return `---- BEGIN SSH2 PUBLIC KEY ----\nComment: "${comment}"\n${base64Lines(key.blob, 70)}---- END SSH2 PUBLIC KEY ----\n`;
  }
  const k = toKeyObject(key, format);
  const pkcs1 = format === 'PEM' && k.asymmetricKeyType === 'rsa';
  return k.export({ type: pkcs1 ? 'pkcs1' : 'spki', format: 'pem' }) as string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----\r?\n[\s\S]*?-----END \1-----/;

/**
 * `ssh-keygen -i -m FORMAT`: the key in the file, with no comment (ssh-keygen prints `type base64`).
 * RFC4716: the first SSH2 PUBLIC KEY block; PKCS8: a `PUBLIC KEY` or `RSA PUBLIC KEY` (RSA, ECDSA
 * P-256/384/521); PEM: an `RSA PUBLIC KEY` only. Private keys are not imported (ssh.com private keys
 * neither: a deliberate difference, sshkit has no reader for them).
 */
export function importPublicKey(text: string, format: ConvertFormat, name: string): PublicKey {
  if (format === 'RFC4716') {
    if (!text.trimStart().startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) throw new ParseError(`${name}: not an RFC 4716 public key (---- BEGIN SSH2 PUBLIC KEY ----)`);
    let found;
    try {
      found = parseRfc4716(text).keys[0];
    } catch (err) {
      throw new ParseError(`${name}: ${(err as Error).message}${err instanceof ParseError && err.line ? ` (line ${err.line})` : ''}`);
    }
    if (!found) throw new ParseError(`${name}: no key found`);
    return keyFromBlob(found.key.blob);
  }
  const block = PEM_BLOCK.exec(text);
  const label = block?.[1];
  const accepted = format === 'PEM' ? label === 'RSA PUBLIC KEY' : label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY';
  if (!block || !accepted) throw new ParseError(`${name}: not a ${format === 'PEM' ? 'PEM (RSA PUBLIC KEY)' : 'PKCS8 (PUBLIC KEY)'} public key`);
  let k: KeyObject;
  try {
    k = createPublicKey({ key: block[0], format: 'pem', ...(label === 'RSA PUBLIC KEY' ? { type: 'pkcs1' } : { type: 'spki' }) });
  } catch (err) {
    throw new ParseError(`${name}: invalid ${format} public key: ${(err as Error).message.split('\n')[0]}`);
  }
  const curve = k.asymmetricKeyDetails?.namedCurve;
  const ok = k.asymmetricKeyType === 'rsa' || (k.asymmetricKeyType === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1' || curve === 'secp521r1'));
  if (!ok) throw new ParseError(`${name}: unsupported pubkey type ${k.asymmetricKeyType}${curve ? ` (${curve})` : ''}`);
  const spki = k.export({ type: 'spki', format: 'pem' }) as string;
  const key = keyFromBlob(Buffer.from(sshpk().parseKey(spki, 'pem').toBuffer('rfc4253')));
  inspectBlob(key.blob); // the same limits as every other key we read (RSA size etc.)
  return key;
}

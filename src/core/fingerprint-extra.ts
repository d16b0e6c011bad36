/**
 * The fingerprint forms ssh-keygen offers besides fingerprint.ts's SHA256/MD5: `-E sha1|sha384|sha512`
 * (sshkey.c fingerprint_b64: `ALG:` + unpadded base64) and `-B`'s Bubble Babble of the SHA-1 digest
 * (sshkey.c fingerprint_bubblebabble, after Antti Huima's "The Bubble Babble Binary Data Encoding").
 * Both hash the plain key blob (a certificate's certified key), as fingerprint.ts's digest does.
 */
import { createHash } from 'node:crypto';
import { plainKeyBlob } from './key.js';

/** The digests ssh-keygen -E accepts (digest-openssl.c's table; -E takes them case-insensitively). */
export type DigestName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** The raw digest of a key's plain blob under any of ssh-keygen's -E algorithms. */
export function keyDigest(blob: Buffer, alg: DigestName): Buffer {
  return createHash(alg).update(plainKeyBlob(blob)).digest();
}

/** `SHA1:…`, `SHA384:…`, `SHA512:…` (and SHA256), as sshkey_fingerprint(SSH_FP_BASE64) prints them. */
export function base64Fingerprint(blob: Buffer, alg: Exclude<DigestName, 'md5'>): string {
  return `${alg.toUpperCase()}:${keyDigest(blob, alg).toString('base64').replace(/=+$/, '')}`;
}

const VOWELS = 'aeiouy';
const CONSONANTS = 'bcdfghklmnprstvzx';

/** Bubble Babble of `raw` (`xifas-bamih-…-cuxax`), byte for byte as OpenSSH's fingerprint_bubblebabble. */
export function bubbleBabble(raw: Buffer): string {
  const rounds = Math.floor(raw.length / 2) + 1;
  let seed = 1;
  let out = 'x';
  for (let i = 0; i < rounds; i++) {
    if (i + 1 < rounds || raw.length % 2 !== 0) {
      const b0 = raw[2 * i];
      out += VOWELS[(((b0 >> 6) & 3) + seed) % 6] + CONSONANTS[(b0 >> 2) & 15] + VOWELS[((b0 & 3) + Math.floor(seed / 6)) % 6];
      if (i + 1 < rounds) {
        const b1 = raw[2 * i + 1];
        out += CONSONANTS[(b1 >> 4) & 15] + '-' + CONSONANTS[b1 & 15];
        seed = (seed * 5 + (b0 * 7 + b1)) % 36;
      }
    } else {
      out += VOWELS[seed % 6] + CONSONANTS[16] + VOWELS[Math.floor(seed / 6)];
    }
  }
  return out + 'x';
}

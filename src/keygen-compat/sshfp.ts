/**
 * `sshkit-keygen -r HOST [-g] [-f file]` (ssh-keygen.c do_print_resource_record, 9.2): the SSHFP records
 * of the key in FILE (sshkey_load_public: the file, FILE.pub or a private key's clear public part) from
 * core/sshfp.ts. Without -f, ssh-keygen prints the records of /etc/ssh's host keys (a missing one is
 * skipped; none at all is "no keys found.").
 */
import { readFileSync, statSync } from 'node:fs';
import { publicKeyOfFile } from '../core/upkeep.js';
import { sshfpRecords } from '../core/sshfp.js';
import { SshkitError } from '../core/errors.js';
import { strerror } from './files.js';
import { lastArg, type KgArgs, type KgIO } from './types.js';
import { KgFatal, logLine } from './usage.js';

/** _PATH_HOST_*_KEY_FILE in the order ssh-keygen tries them. */
const HOST_KEYS = ['rsa', 'dsa', 'ecdsa', 'ed25519', 'xmss'].map((t) => `/etc/ssh/ssh_host_${t}_key`);

/** One file's records, or false when it does not exist (do_print_resource_record returns 0). */
function records(file: string, host: string, generic: boolean): string | false {
  try {
    statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new KgFatal(`${file}: ${strerror(err)}`);
  }
  try {
    return sshfpRecords(host, publicKeyOfFile(file, readFileSync(file)).blob, generic);
  } catch (err) {
    if (!(err instanceof SshkitError)) throw err;
    let why = 'invalid format';
    try {
      statSync(file + '.pub');
    } catch (e) {
      why = strerror(e); // sshkey_load_public reports its last try, FILE.pub
    }
    throw new KgFatal(`Failed to read v2 public key from "${file}": ${why}`);
  }
}

/** `-r HOST` (the -f file, else every host key in /etc/ssh). */
export async function runSshfp(a: KgArgs, io: KgIO): Promise<number> {
  const host = lastArg(a, 'r') ?? '';
  const generic = a.flags.has('g');
  const file = lastArg(a, 'f');
  if (file !== undefined) {
    const out = records(file, host, generic);
    if (out === false) throw new KgFatal(`${file}: No such file or directory`);
    if (out === '') io.stderr(logLine('export_dns_rr: unsupported algorithm and/or digest_type'));
    io.stdout(out);
    return 0;
  }
  let n = 0;
  for (const f of HOST_KEYS) {
    const out = records(f, host, generic);
    if (out === false) continue;
    if (out === '') io.stderr(logLine('export_dns_rr: unsupported algorithm and/or digest_type'));
    io.stdout(out);
    n++;
  }
  if (n === 0) throw new KgFatal('no keys found.');
  return 0;
}

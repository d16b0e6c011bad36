/**
 * `sshkit-keygen -s`, `-L`, `-k`, `-Q` (issue 12). `-L` is ssh-keygen.c do_show_cert on the same
 * certificate view as `sshkit inspect` (core/cert-inspect.ts: print_cert's lines); `-s` is in
 * cert-sign.ts, `-k`/`-Q` in cert-krl.ts.
 */
import { certHeading, formatCertificate, viewCertificate } from '../core/cert-inspect.js';
import { SshkitError } from '../core/errors.js';
import { readKeyPrefix } from '../core/key.js';
import { certifyKeys } from './cert-sign.js';
import { checkKrl, generateKrl } from './cert-krl.js';
import { identityFile, statOrFatal } from './files.js';
import { kgLog, loadFile } from './sig-common.js';
import { readAllStdin } from './process-io.js';
import { KgFatal, unsupported } from './usage.js';
import type { KgArgs, KgIO } from './types.js';

/** `-s CA [-I -n -V -z -h -O -U] key.pub...` (ssh-keygen.c do_ca_sign). */
export async function runCertify(a: KgArgs, io: KgIO): Promise<number> {
  if (a.flags.has('D')) throw unsupported('-D (PKCS#11)');
  return certifyKeys(a, io);
}

/** `-L -f cert` (ssh-keygen.c do_show_cert): each certificate line's heading and print_cert; exit 0 if one was shown. */
export async function runList(a: KgArgs, io: KgIO): Promise<number> {
  const file = await identityFile(a, io);
  const isStdin = file === '-';
  let data: Buffer;
  if (isStdin) data = await readAllStdin();
  else {
    statOrFatal(file, true);
    const got = loadFile(file);
    if ('error' in got) throw new KgFatal(`fopen ${file}: ${got.error}`);
    data = got.data;
  }
  const path = isStdin ? '(stdin)' : file;
  const lines = data.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let ok = false;
  lines.forEach((raw, i) => {
    const n = i + 1;
    const cp = raw.replace(/^[ \t]+/, '');
    if (cp.startsWith('#')) return;
    let blob: Buffer;
    try {
      const got = readKeyPrefix(cp);
      if (!got) throw new SshkitError(2, 'invalid format');
      blob = got.key.blob;
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      kgLog(io, `${path}:${n}: invalid key: invalid format`);
      return;
    }
    let view;
    try {
      view = viewCertificate(blob);
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      if (/not a certificate/.test(err.message)) kgLog(io, `${path}:${n} is not a certificate`);
      else kgLog(io, `${path}:${n}: invalid key: ${/does not verify/.test(err.message) ? 'incorrect signature' : 'invalid format'}`);
      return;
    }
    ok = true;
    io.stdout(`${certHeading(path, n, isStdin)}\n${formatCertificate(view)}`);
  });
  return ok ? 0 : 1;
}

/** `-k [-u] [-s CA] [-z N] [-C comment] -f krl spec...` (ssh-keygen.c do_gen_krl). */
export async function runKrl(a: KgArgs, io: KgIO): Promise<number> {
  return generateKrl(a, io);
}

/** `-Q [-l] -f krl key...` (ssh-keygen.c do_check_krl). */
export async function runQuery(a: KgArgs, io: KgIO): Promise<number> {
  return checkKrl(a, io);
}

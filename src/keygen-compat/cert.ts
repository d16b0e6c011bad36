/** `sshkit-keygen -s`, `-L`, `-k`, `-Q` (issue 12). Scaffold: filled in by its owner. */
import type { KgArgs, KgIO } from './types.js';

const notYet = (flag: string, io: KgIO) => (io.stderr(`sshkit-keygen: ${flag} is not built yet\n`), 255);
/** `-s CA [-I -n -V -z -h -O -U] key.pub...` (ssh-keygen.c do_ca_sign). */
export async function runCertify(_a: KgArgs, io: KgIO): Promise<number> { return notYet('-s', io); }
/** `-L -f cert` (ssh-keygen.c do_show_cert). */
export async function runList(_a: KgArgs, io: KgIO): Promise<number> { return notYet('-L', io); }
/** `-k [-u] [-s CA] [-z N] -f krl spec...` (ssh-keygen.c do_gen_krl). */
export async function runKrl(_a: KgArgs, io: KgIO): Promise<number> { return notYet('-k', io); }
/** `-Q [-l] -f krl key...` (ssh-keygen.c do_check_krl). */
export async function runQuery(_a: KgArgs, io: KgIO): Promise<number> { return notYet('-Q', io); }

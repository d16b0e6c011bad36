/**
 * `sshkit-keygen`'s main(): ssh-keygen 9.2's command line on sshkit's core (issue 12). The option loop
 * checks each option's argument in command-line order as ssh-keygen.c main()'s getopt loop does (so
 * `-E foo -x` fails on -E, `-x -E foo` on -x), then the modes are tried in main()'s order: -Y, the
 * operand count, -p/-c and -l/-H/-R conflicts, -k, -Q, -s, -L, -F/-R/-H, -D, -K, -l/-B, -p, -c, -e, -i,
 * -y, -r, -M, -A, and generation last. A flag or mode sshkit does not build is one line, exit 255.
 */
import { getopt, type KgOption } from './getopt.js';
import { processIO } from './process-io.js';
import type { KgArgs, KgIO, ModeHandler } from './types.js';
import { KgFatal, KgUsage, logLine, unsupported, USAGE } from './usage.js';
import { runCertify, runKrl, runList, runQuery } from './cert.js';
import { runY } from './sig.js';
import { runKnownHosts } from './hosts.js';
import { runFingerprint, runPrintPublic } from './show.js';
import { runComment, runPassphrase } from './upkeep.js';
import { runExport, runImport } from './convert.js';
import { runSshfp } from './sshfp.js';
import { runGenerate } from './generate.js';
import { runHostKeys } from './hostkeys.js';

const PATH_MAX = 4096;

/** ssh-keygen.c's strtonum(optarg, min, max) messages ("invalid", "too small", "too large"). */
function strtonumError(s: string, min: number, max: number): string | null {
  if (!/^\s*[-+]?\d+$/.test(s)) return 'invalid';
  const n = Number(s.trim());
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return null;
}

const DIGESTS = new Set(['md5', 'sha1', 'sha256', 'sha384', 'sha512']);
const CONVERT_FORMATS = new Set(['rfc4716', 'ssh2', 'pkcs8', 'pem']);
/** cipher.c's table (cipher_by_name, case-sensitive): the names -Z accepts. */
const CIPHERS = new Set([
  '3des-cbc', 'aes128-cbc', 'aes192-cbc', 'aes256-cbc', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr',
  'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'none',
]);

/** The checks ssh-keygen.c's getopt loop makes as it reads each option (each a fatal(), exit 255). */
function checkOption(o: KgOption): void {
  const a = o.arg;
  switch (o.flag) {
    case 'b': {
      const e = strtonumError(a, 1, 0xffffffff);
      if (e) throw new KgFatal(`Bits has bad value ${a} (${e})`);
      return;
    }
    case 'E':
      if (!DIGESTS.has(a.toLowerCase())) throw new KgFatal(`Invalid hash algorithm "${a}"`);
      return;
    case 'm':
      if (!CONVERT_FORMATS.has(a.toLowerCase())) throw new KgFatal(`Unsupported conversion format "${a}"`);
      return;
    case 'f':
      if (Buffer.byteLength(a) >= PATH_MAX) throw new KgFatal('Identity filename too long');
      return;
    case 'Z':
      if (!CIPHERS.has(a)) throw new KgFatal(`Invalid OpenSSH-format cipher '${a}'`);
      return;
    case 'a': {
      const e = strtonumError(a, 1, 0x7fffffff);
      if (e) throw new KgFatal(`Invalid number: ${a} (${e})`);
      return;
    }
    case 'z': {
      const s = a.startsWith('+') ? a.slice(1) : a;
      if (!/^[0-9]\d*$/.test(s) || BigInt(s) > 0xffffffffffffffffn) throw new KgFatal(`Invalid serial number "${s}"`);
      return;
    }
    case 'M':
      if (a !== 'generate' && a !== 'screen') throw new KgFatal(`Unsupported moduli option ${a}`);
      return;
  }
}

const has = (a: KgArgs, f: string): boolean => a.flags.has(f);

/** The mode ssh-keygen.c main() would run for these arguments, after its argument-count checks. */
function dispatch(a: KgArgs): ModeHandler {
  if (has(a, 'Y')) return runY;
  const argc = a.operands.length;
  if (has(a, 's')) {
    if (argc < 1 && !has(a, 'k')) throw new KgUsage('Too few arguments.');
  } else if (argc > 0 && !has(a, 'k') && !has(a, 'Q') && !has(a, 'M')) {
    throw new KgUsage('Too many arguments.');
  }
  if (has(a, 'p') && has(a, 'c')) throw new KgUsage('Can only have one of -p and -c.');
  if (has(a, 'l') && (has(a, 'R') || has(a, 'H'))) throw new KgUsage('Cannot use -l with -H or -R.');
  if (has(a, 'k')) return runKrl;
  if (has(a, 'Q')) return runQuery;
  if (has(a, 's')) {
    if (!has(a, 'I')) throw new KgFatal('Must specify key id (-I) when certifying');
    return runCertify;
  }
  if (has(a, 'L')) return runList;
  if (has(a, 'R') || has(a, 'H') || has(a, 'F')) return runKnownHosts;
  if (has(a, 'D')) throw unsupported('-D (PKCS#11)');
  if (has(a, 'K')) throw unsupported('-K (FIDO authenticator download)');
  if (has(a, 'l') || has(a, 'B')) return runFingerprint;
  if (has(a, 'p')) return runPassphrase;
  if (has(a, 'c')) return runComment;
  if (has(a, 'e')) return runExport;
  if (has(a, 'i') || has(a, 'X')) return runImport;
  if (has(a, 'y')) return runPrintPublic;
  if (has(a, 'r')) return runSshfp;
  if (has(a, 'M')) throw unsupported('-M (moduli generation and screening)');
  if (has(a, 'A')) return runHostKeys;
  return runGenerate;
}

/** Runs one ssh-keygen command line (without the program name); returns ssh-keygen 9.2's exit status. */
export async function main(argv: readonly string[], io: KgIO): Promise<number> {
  try {
    const g = getopt(argv);
    for (const o of g.options) checkOption(o);
    if (g.error !== undefined) throw new KgUsage(g.error);
    return await dispatch(g.args)(g.args, io);
  } catch (err) {
    if (err instanceof KgUsage) {
      io.stderr((err.message ? logLine(err.message) : '') + USAGE);
      return 1;
    }
    if (err instanceof KgFatal) {
      if (err.message) io.stderr(logLine(err.message));
      return err.status;
    }
    // a core refusal not mapped by the mode: still one line, never a stack trace
    io.stderr(logLine(`sshkit-keygen: ${err instanceof Error ? err.message : String(err)}`));
    return 255;
  }
}

/** The executable's entry (bin/sshkit-keygen): the process's I/O, the exit status set once here. */
export async function runMain(argv: readonly string[]): Promise<void> {
  process.exitCode = await main(argv, processIO());
  process.stdin.pause();
}

/**
 * `sshkit krl -f KRL [-u] [-s CA.pub|none] [-z VERSION] [-C COMMENT] [--force] FILE...` — `ssh-keygen -k`:
 * writes a binary KRL (PROTOCOL.krl) from public keys, certificates and KRL spec lines (krl-spec.ts),
 * byte-compatible with ssh-keygen 9.2 apart from the generation date; `-u` adds to an existing KRL,
 * written atomically (a failure leaves the old file intact). An existing KRL is not replaced without
 * `-u` or `--force` (ssh-keygen replaces it).
 * `sshkit krl --check -f KRL KEY...` — `ssh-keygen -Q`: `KEY (comment): ok|REVOKED` per key, exit 1 when
 * any key is revoked; the file may also be a list of public keys (the same reader as sshd's RevokedKeys).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  update: boolean;
  ca?: string;
  krlVersion?: string;
  comment?: string;
  check: boolean;
  force: boolean;
  quiet: boolean;
  files?: string[];
}

/** Reads one key file's public key (a .pub or certificate), errors naming the file. */
async function loadPublic(path: string): Promise<{ blob: Buffer; comment: string }> {
  const { readInput } = await import('../input.js');
  const { parsePublicKeyText } = await import('../core/key.js');
  const { ParseError, bad } = await import('../core/errors.js');
  try {
    const key = parsePublicKeyText((await readInput(path)).toString('latin1'));
    return { blob: key.blob, comment: key.comment };
  } catch (err) {
    if (err instanceof ParseError) throw bad(`${path}: cannot load public key: ${err.message}`);
    throw err;
  }
}

async function check(argv: ArgumentsCamelCase<Args>, files: string[]): Promise<void> {
  const { Output, requestStatus } = await import('../output.js');
  const { readInput } = await import('../input.js');
  const { ParseError, bad } = await import('../core/errors.js');
  const { parseRevokedKeys, isRevoked } = await import('../core/revocation.js');
  const out = new Output(argv);
  if (!files.length) throw bad('--check: no key files given');
  let revoked;
  try {
    revoked = parseRevokedKeys(await readInput(argv.file));
  } catch (err) {
    if (err instanceof ParseError) throw bad(`${argv.file}: ${err.message}`);
    throw err;
  }
  if (revoked.errors.length) throw bad(`${argv.file}:${revoked.errors[0].line}: ${revoked.errors[0].message}`);
  const results = [];
  for (const f of files) {
    const key = await loadPublic(f);
    results.push({ file: f, comment: key.comment, revoked: isRevoked(revoked, key.blob) });
  }
  if (out.json) out.data(results);
  else for (const r of results) out.line(`${r.file}${r.comment ? ` (${r.comment})` : ''}: ${r.revoked ? 'REVOKED' : 'ok'}`);
  if (results.some((r) => r.revoked)) requestStatus(1);
}

/** `-z`: a decimal u64, as ssh-keygen's strtoull(optarg, &ep, 10) with its range checks. */
function krlVersion(text: string | undefined, bad: (m: string) => Error): bigint {
  if (text === undefined) return 0n;
  if (!/^[0-9]+$/.test(text) || BigInt(text) >= 1n << 64n) throw bad(`-z: invalid KRL version ${JSON.stringify(text)}`);
  return BigInt(text);
}

async function generate(argv: ArgumentsCamelCase<Args>, files: string[]): Promise<void> {
  const { Output } = await import('../output.js');
  const { readInput } = await import('../input.js');
  const { ParseError, bad } = await import('../core/errors.js');
  const { pathExists, writeFileAtomic } = await import('../core/atomic-write.js');
  const { Krl } = await import('../core/krl.js');
  const { parseKrl } = await import('../core/krl-parse.js');
  const { writeKrl } = await import('../core/krl-write.js');
  const { applyKrlSpec } = await import('../core/krl-spec.js');
  const { isCertificateBlob } = await import('../core/certificate.js');
  const out = new Output(argv);
  const version = krlVersion(argv.krlVersion, bad);
  const exists = pathExists(argv.file);
  if (argv.update && !exists) throw bad(`${argv.file}: KRL does not exist`);
  if (!argv.update && exists && !argv.force) throw bad(`${argv.file}: already exists (use -u to update it, --force to replace it)`);
  let ca: Buffer | 'any' | undefined;
  if (argv.ca !== undefined && argv.ca.toLowerCase() === 'none') ca = 'any';
  else if (argv.ca !== undefined) {
    ca = (await loadPublic(argv.ca)).blob;
    if (isCertificateBlob(ca)) throw bad(`${argv.ca}: the CA key must be a plain public key, not a certificate`);
  }
  let krl = new Krl();
  if (argv.update) {
    try {
      krl = parseKrl(await readInput(argv.file));
    } catch (err) {
      if (err instanceof ParseError) throw bad(`${argv.file}: ${err.message}`);
      throw err;
    }
  }
  if (version !== 0n) krl.version = version;
  if (argv.comment !== undefined) krl.comment = Buffer.from(argv.comment, 'utf8').toString('latin1');
  for (const f of files) {
    if (!argv.quiet && !out.json) out.line(`Revoking from ${f === '-' ? '(standard input)' : f}`);
    try {
      applyKrlSpec(krl, (await readInput(f)).toString('latin1'), ca);
    } catch (err) {
      if (err instanceof ParseError) throw bad(`${f === '-' ? '(standard input)' : f}${err.line ? `:${err.line}` : ''}: ${err.message}`);
      throw err;
    }
  }
  const data = writeKrl(krl, BigInt(Math.floor(Date.now() / 1000)));
  writeFileAtomic(argv.file, data, 0o644, true);
  if (out.json) {
    let serials = 0n;
    let keyIds = 0;
    for (const c of krl.cas.values()) {
      const { lo, hi } = c.serials.ranges();
      for (let i = 0; i < lo.length; i++) serials += hi[i] - lo[i] + 1n;
      keyIds += c.keyIds.size;
    }
    out.data({ krl: argv.file, version: krl.version.toString(), bytes: data.length, cas: krl.cas.size, serials: serials.toString(), keyIds, keys: krl.keys.size, sha1: krl.sha1.size, sha256: krl.sha256.size });
  }
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const files = (argv.files ?? []).map(String);
  if (argv.check && (argv.update || argv.ca !== undefined || argv.krlVersion !== undefined || argv.comment !== undefined)) {
    const { bad } = await import('../core/errors.js');
    throw bad('--check cannot be combined with -u, -s, -z or -C');
  }
  if (argv.check) return check(argv, files);
  return generate(argv, files);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'krl [files..]',
  describe: 'Write a binary key revocation list (as ssh-keygen -k), or check keys against one (--check, as ssh-keygen -Q)',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'The KRL file' })
      .option('update', { alias: 'u', type: 'boolean', default: false, describe: 'Add to the existing KRL (atomically)' })
      .option('ca', { alias: 's', type: 'string', nargs: 1, describe: 'CA public key for serial:/id: lines (none: any CA)' })
      .option('krl-version', { alias: 'z', type: 'string', nargs: 1, describe: 'KRL version number' })
      .option('comment', { alias: 'C', type: 'string', nargs: 1, describe: 'KRL comment' })
      .option('check', { alias: 'Q', type: 'boolean', default: false, describe: 'Check KEY files against the KRL (exit 1 if any is revoked)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing KRL' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines' })
      .positional('files', { type: 'string', array: true, describe: 'Spec files, public keys or certificates (with --check: keys)' }),
  handler: run,
};

export default command;

/**
 * `sshkit sign -f KEY -n NAMESPACE [--hash sha512|sha256] [-P PASS | --passphrase-file F] [--force] [FILE...]`
 * — `ssh-keygen -Y sign` (SPEC "sshkit sign"): each FILE gets FILE.sig (an existing one is kept and the
 * command fails unless --force); with no FILE (or `-`) stdin is signed to stdout. Files are hashed as a
 * stream. KEY may be a private key, its .pub, or a KEY-cert.pub certificate (the signature then carries
 * the certificate, as ssh-keygen does).
 */
import { accessSync, closeSync, constants, fstatSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { bad, fsError } from '../core/errors.js';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  namespace: string;
  hash: string;
  passphrase?: string;
  passphraseFile?: string;
  force: boolean;
  quiet: boolean;
  files?: string[];
}

/** The private key path and optional public/certificate blob for `-f` (ssh-keygen load_sign_key). */
async function loadSigner(keyPath: string, pass: string | Buffer | undefined) {
  const { readInput } = await import('../input.js');
  const { loadSigningKey } = await import('../core/private-key.js');
  const { parsePublicKeyText } = await import('../core/key.js');
  const { createSigner } = await import('../core/signature.js');
  const { ParseError } = await import('../core/errors.js');
  let privPath = keyPath;
  let pub: Buffer | undefined;
  const suffix = ['-cert.pub', '.pub'].find((s) => keyPath.endsWith(s));
  if (suffix) {
    privPath = keyPath.slice(0, -suffix.length);
    try {
      pub = parsePublicKeyText((await readInput(keyPath)).toString('latin1')).blob;
    } catch (err) {
      if (err instanceof ParseError) throw new ParseError(`${keyPath}: ${err.message}`);
      throw err;
    }
  }
  const priv = loadSigningKey(await readInput(privPath), pass, privPath);
  try {
    return createSigner(priv, pub);
  } catch (err) {
    if (err instanceof ParseError) throw new ParseError(`${keyPath}: ${err.message}`);
    throw err;
  }
}

/** Opens every FILE for reading (a folder is refused) and checks that FILE.sig's folder is writable; `-` stays stdin. */
function openInputs(files: string[]): { file: string; fd?: number }[] {
  const opened: { file: string; fd?: number }[] = [];
  try {
    for (const file of files) {
      if (file === '-') {
        opened.push({ file });
        continue;
      }
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch (err) {
        throw fsError(file, err);
      }
      opened.push({ file, fd });
      if (fstatSync(fd).isDirectory()) throw bad(`${file}: Is a directory`);
      try {
        accessSync(dirname(file), constants.W_OK);
      } catch (err) {
        throw fsError(`${file}.sig`, err);
      }
    }
  } catch (err) {
    for (const { fd } of opened) if (fd !== undefined) closeSync(fd);
    throw err;
  }
  return opened;
}

/** H(FILE) from its already open descriptor; read errors become `FILE: why`. */
async function hashOpen(sshsig: typeof import('../core/sshsig.js'), file: string, fd: number, hash: 'sha512' | 'sha256'): Promise<Buffer> {
  try {
    return await sshsig.hashFd(fd, hash);
  } catch (err) {
    throw fsError(file, err);
  }
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const sshsig = await import('../core/sshsig.js');
  const { fingerprint } = await import('../core/fingerprint.js');
  const { pathExists, writeFileAtomic } = await import('../core/atomic-write.js');
  const out = new Output(argv);

  if (argv.hash !== 'sha512' && argv.hash !== 'sha256') throw bad(`--hash: unsupported hash algorithm ${JSON.stringify(argv.hash)} (sha512 or sha256)`);
  const hash = argv.hash as 'sha512' | 'sha256';
  if (argv.namespace === '') throw bad('-n: the namespace must not be empty');
  const files = argv.files && argv.files.length > 0 ? argv.files.map(String) : ['-'];
  if (files.includes('-') && files.length > 1) throw bad('-: stdin cannot be signed together with files');
  if (files[0] === '-' && out.json) throw bad('--json: cannot be combined with signing stdin (the signature goes to stdout)');
  if (!argv.force) for (const f of files) if (f !== '-' && pathExists(`${f}.sig`)) throw bad(`${f}.sig: already exists (use --force to overwrite)`);

  const { readFirstLine } = await import('../input.js');
  let pass: string | Buffer | undefined = argv.passphrase;
  if (argv.passphraseFile !== undefined) {
    pass = await readFirstLine(argv.passphraseFile);
  }
  const signer = await loadSigner(argv.file, pass);
  // Every input is opened (and every FILE.sig's folder checked) before the first progress line, so a
  // bad argument is one error line and nothing else, and no file is signed (issue 10 item 7).
  const inputs = openInputs(files);
  const say = (text: string) => {
    if (!argv.quiet) process.stderr.write(text + '\n');
  };
  const results: unknown[] = [];
  try {
    for (const { file: f, fd } of inputs) {
      say(f === '-' ? 'Signing data on standard input' : `Signing file ${f}`);
      const digest = fd === undefined ? await sshsig.hashFile('-', hash, () => process.stdin) : await hashOpen(sshsig, f, fd, hash);
      const armored = sshsig.armorSignature(sshsig.signDigest(signer, argv.namespace, hash, digest));
      if (f === '-') {
        process.stdout.write(armored);
        continue;
      }
      writeFileAtomic(`${f}.sig`, armored, 0o644, argv.force);
      say(`Write signature to ${f}.sig`);
      results.push({ file: f, signature: `${f}.sig`, namespace: argv.namespace, hash, keyType: signer.publicKey.type, fingerprint: fingerprint(signer.publicKey.blob) });
    }
  } finally {
    for (const { fd } of inputs) if (fd !== undefined) closeSync(fd);
  }
  if (out.json) out.data(results);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'sign [files..]',
  describe: 'Sign files (FILE.sig) or stdin (to stdout) in the SSHSIG format, as ssh-keygen -Y sign',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'Files to sign (none or - for stdin → stdout)' })
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'Private key (or KEY.pub / KEY-cert.pub beside it)' })
      .option('namespace', { alias: 'n', type: 'string', nargs: 1, demandOption: true, describe: 'Signature namespace (e.g. file, git)' })
      .option('hash', { type: 'string', default: 'sha512', describe: 'Message hash: sha512 (default) or sha256' })
      .option('passphrase', { alias: 'P', type: 'string', nargs: 1, describe: 'Passphrase of an encrypted key' })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Read the passphrase from the first line of a file' })
      .conflicts('passphrase', 'passphrase-file')
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing FILE.sig' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines on stderr' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

/**
 * `sshkit keygen [-t ed25519|ecdsa|rsa] [-b BITS] [-C COMMENT] [-f FILE] [-N PASSPHRASE | --passphrase-file F]
 * [-m openssh|pem|pkcs8] [--force] [-q] [--json]` — ssh-keygen's key generation without its prompts
 * (SPEC "sshkit keygen"). `-f -` writes the private key alone to stdout (no .pub; the report goes to
 * stderr), since SPEC makes `-` stdout for output.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  type?: string;
  bits?: string;
  comment?: string;
  file?: string;
  passphrase?: string;
  passphraseFile?: string;
  format?: string;
  force: boolean;
  quiet: boolean;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const { bad } = await import('../core/errors.js');
  const kg = await import('../core/keygen.js');
  const { fingerprint, randomart } = await import('../core/fingerprint.js');
  const out = new Output(argv);

  const spec = kg.keySpec(argv.type, argv.bits);
  const format = kg.privateFormat(argv.format);
  const toStdout = argv.file === '-';
  if (argv.file === '') throw bad('-f: empty file name');
  if (toStdout && out.json) throw bad('--json: cannot be combined with -f - (the private key goes to stdout)');
  const file = toStdout ? '-' : (argv.file ?? (await import('node:path')).join((await import('../home.js')).homeDir(), '.ssh', `id_${spec.kind}`));
  const passphrase = argv.passphraseFile !== undefined ? await (await import('../input.js')).readFirstLine(argv.passphraseFile) : (argv.passphrase ?? '');
  const comment = argv.comment ?? ((await import('../home.js')).userAtHost());
  kg.checkGenerateOptions(spec, { comment, passphrase, format });
  if (!toStdout && !argv.force) kg.refuseExisting(file);

  // The human report mirrors ssh-keygen's stdout; with -f - it goes to stderr, stdout holds the key.
  const say = (text: string) => {
    if (argv.quiet || out.json) return;
    if (toStdout) process.stderr.write(text + '\n');
    else out.line(text);
  };
  say(`Generating public/private ${spec.kind} key pair.`);
  const key = kg.generateKey(spec, { comment, passphrase, format });
  const fp = fingerprint(key.publicKey.blob);
  if (toStdout) {
    process.stdout.write(key.privateText);
  } else {
    kg.saveKeyPair(file, key, argv.force);
    say(`Your identification has been saved in ${file}`);
    say(`Your public key has been saved in ${kg.publicKeyPath(file)}`);
  }
  say('The key fingerprint is:');
  say(`${fp} ${comment}`);
  say("The key's randomart image is:");
  say(randomart(key.publicKey.blob, key.info));
  if (out.json) {
    out.data({
      file,
      publicFile: kg.publicKeyPath(file),
      type: spec.kind,
      keyType: key.publicKey.type,
      bits: key.info.bits,
      fingerprint: fp,
      comment,
      format: key.format,
      encrypted: key.encrypted,
    });
  }
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'keygen',
  describe: 'Generate a key pair (FILE 0600 and FILE.pub 0644), as ssh-keygen -t does',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('type', { alias: 't', type: 'string', requiresArg: true, describe: 'Key type: ed25519 (default), ecdsa or rsa' })
      .option('bits', { alias: 'b', type: 'string', requiresArg: true, describe: 'Key size: rsa ≥ 2048 (default 3072); ecdsa 256 (default), 384, 521' })
      .option('comment', { alias: 'C', type: 'string', requiresArg: true, describe: 'Comment (default user@hostname)' })
      .option('file', { alias: 'f', type: 'string', nargs: 1, describe: 'Private key file (default ~/.ssh/id_<type>); FILE.pub gets the public key; - for stdout' })
      .option('passphrase', { alias: 'N', type: 'string', requiresArg: true, describe: "Passphrase to encrypt the key ('' for none)" })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Read the passphrase from the first line of a file (- for stdin)' })
      .conflicts('passphrase', 'passphrase-file')
      .option('format', { alias: 'm', type: 'string', requiresArg: true, describe: 'Private key format: openssh (default), pem, pkcs8 (ed25519 is always openssh)' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite an existing FILE / FILE.pub' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

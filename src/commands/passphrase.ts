/**
 * `sshkit passphrase -f KEY [-P OLD | --old-passphrase-file F] [-N NEW | --passphrase-file F] [--json]` —
 * `ssh-keygen -p` without its prompts: KEY is written again under the new passphrase ('' = none), in
 * OpenSSH format, atomically, mode 0600 (core/upkeep.ts changePassphrase). A wrong old passphrase is
 * one line, exit 2, and KEY keeps its bytes.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  oldPassphrase?: string;
  oldPassphraseFile?: string;
  newPassphrase?: string;
  passphraseFile?: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const { bad } = await import('../core/errors.js');
  const { readFirstLine } = await import('../input.js');
  const { changePassphrase } = await import('../core/upkeep.js');
  const out = new Output(argv);
  if (argv.file === '' || argv.file === '-') throw bad('-f: a key file is required (not stdin: it is rewritten)');
  const oldPass = argv.oldPassphraseFile !== undefined ? await readFirstLine(argv.oldPassphraseFile) : Buffer.from(argv.oldPassphrase ?? '', 'utf8');
  if (argv.newPassphrase === undefined && argv.passphraseFile === undefined) throw bad('-N or --passphrase-file: the new passphrase is required (-N "" for none)');
  const newPass = argv.passphraseFile !== undefined ? await readFirstLine(argv.passphraseFile) : Buffer.from(argv.newPassphrase ?? '', 'utf8');
  const r = changePassphrase(argv.file, oldPass, newPass);
  if (out.json) out.data({ file: r.file, keyType: r.key.type, comment: r.oldComment, encrypted: r.encrypted });
  else {
    if (r.oldComment !== null) out.line(`Key has comment '${r.oldComment}'`); // as ssh-keygen -p
    out.line('Your identification has been saved with the new passphrase.');
  }
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'passphrase',
  describe: 'Change the passphrase of a private key (OpenSSH format, atomically), as ssh-keygen -p',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'Private key file' })
      .option('old-passphrase', { alias: 'P', type: 'string', nargs: 1, describe: 'Current passphrase (none for an unencrypted key)' })
      .option('old-passphrase-file', { type: 'string', nargs: 1, describe: 'Read the current passphrase from the first line of a file (- for stdin)' })
      .conflicts('old-passphrase', 'old-passphrase-file')
      .option('new-passphrase', { alias: 'N', type: 'string', nargs: 1, describe: "New passphrase ('' for none)" })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Read the new passphrase from the first line of a file (- for stdin)' })
      .conflicts('new-passphrase', 'passphrase-file') as unknown as Argv<Args>,
  handler: run,
};
export default command;

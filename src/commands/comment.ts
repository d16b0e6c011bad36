/**
 * `sshkit comment -f KEY -C NEW [-P PASS | --passphrase-file F] [--json]` — `ssh-keygen -c`: the comment
 * of the private key (written again in OpenSSH format under the same passphrase) and of KEY.pub, both
 * replaced atomically (core/upkeep.ts changeComment). Prints ssh-keygen's two lines.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  comment: string;
  passphrase?: string;
  passphraseFile?: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const { bad } = await import('../core/errors.js');
  const { readFirstLine } = await import('../input.js');
  const { changeComment } = await import('../core/upkeep.js');
  const out = new Output(argv);
  if (argv.file === '' || argv.file === '-') throw bad('-f: a key file is required (not stdin: it is rewritten)');
  const pass = argv.passphraseFile !== undefined ? await readFirstLine(argv.passphraseFile) : Buffer.from(argv.passphrase ?? '', 'utf8');
  const r = changeComment(argv.file, pass, argv.comment);
  if (out.json) {
    out.data({ file: r.file, publicFile: r.publicFile, keyType: r.key.type, oldComment: r.oldComment, comment: r.key.comment });
  } else {
    out.line(r.oldComment === null ? 'No existing comment' : `Old comment: ${r.oldComment}`);
    out.line(`Comment '${r.key.comment}' applied`);
  }
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'comment',
  describe: 'Change the comment of a private key and its .pub (atomically), as ssh-keygen -c',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'Private key file (KEY.pub is rewritten too)' })
      .option('comment', { alias: 'C', type: 'string', nargs: 1, demandOption: true, describe: 'New comment' })
      .option('passphrase', { alias: 'P', type: 'string', nargs: 1, describe: 'Passphrase of an encrypted key' })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Read the passphrase from the first line of a file (- for stdin)' })
      .conflicts('passphrase', 'passphrase-file') as unknown as Argv<Args>,
  handler: run,
};
export default command;

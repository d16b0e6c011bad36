/**
 * `sshkit export -f KEY [-m RFC4716|PKCS8|PEM] [--json]` — `ssh-keygen -e`: the public key of KEY (a .pub
 * line, or a private key's public part, or KEY.pub) in another format, on stdout, byte for byte as
 * ssh-keygen 9.2 (core/key-export.ts). The RFC 4716 comment names USER@HOST as ssh-keygen's does.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  format: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const { SshkitError } = await import('../core/errors.js');
  const { readInput, inputName } = await import('../input.js');
  const { convertFormat, exportPublicKey } = await import('../core/key-export.js');
  const { publicKeyOfFile } = await import('../core/upkeep.js');
  const out = new Output(argv);
  const format = convertFormat(argv.format);
  const name = inputName(argv.file);
  const data = await readInput(argv.file);
  const user = (await import('../home.js')).userAtHost();
  let key;
  let text: string;
  try {
    key = publicKeyOfFile(argv.file, data);
    text = exportPublicKey(key, format, user);
  } catch (err) {
    if (err instanceof SshkitError && !err.message.startsWith(`${name}:`)) throw new SshkitError(err.status, `${name}: ${err.message}`);
    throw err;
  }
  if (out.json) out.data({ file: name, format, keyType: key.type, text });
  else process.stdout.write(text);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'export',
  describe: 'Write a public key as RFC 4716, PKCS8 or PEM, as ssh-keygen -e',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'Public or private key file (- for stdin)' })
      .option('format', { alias: 'm', type: 'string', nargs: 1, default: 'RFC4716', describe: 'RFC4716 (default), PKCS8 or PEM (Ed25519: RFC4716 only)' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

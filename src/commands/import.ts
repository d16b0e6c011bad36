/**
 * `sshkit import -f FILE [-m RFC4716|PKCS8|PEM] [--json]` — `ssh-keygen -i`: an RFC 4716, PKCS8 or PEM
 * public key as an OpenSSH `type base64` line on stdout (no comment, as ssh-keygen), byte for byte as
 * ssh-keygen 9.2 (core/key-export.ts importPublicKey).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file: string;
  format: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output } = await import('../output.js');
  const { readInput, inputName } = await import('../input.js');
  const { convertFormat, importPublicKey } = await import('../core/key-export.js');
  const { formatPublicKey } = await import('../core/key.js');
  const out = new Output(argv);
  const format = convertFormat(argv.format);
  const name = inputName(argv.file);
  const key = importPublicKey((await readInput(argv.file)).toString('latin1'), format, name);
  const line = formatPublicKey({ ...key, comment: '' });
  if (out.json) out.data({ file: name, format, keyType: key.type, line });
  else out.line(line);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'import',
  describe: 'Read an RFC 4716, PKCS8 or PEM public key as an OpenSSH line, as ssh-keygen -i',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'Key file to convert (- for stdin)' })
      .option('format', { alias: 'm', type: 'string', nargs: 1, default: 'RFC4716', describe: 'RFC4716 (default), PKCS8 or PEM' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

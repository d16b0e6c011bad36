/**
 * `sshkit passwd USER [--password-file F]` prints one `user:$scrypt$…` line for `sshkit serve --passwords`
 * (the "a helper to make a line"). The password is the first line of F or of stdin (`-`), never
 * an argument, so it does not land in shell history or `ps`. Append the output to the passwords file.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  user: string;
  passwordFile: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { bad } = await import('../core/errors.js');
  const { Output } = await import('../output.js');
  const { hashPassword } = await import('../core/passwords.js');
  const out = new Output(argv);
  if (!/^[^\s:#][^\s:]*$/.test(argv.user)) throw bad(`${argv.user}: not a usable user name (no blanks or ':')`);
  const { readFirstLine } = await import('../input.js');
  const password = (await readFirstLine(argv.passwordFile)).toString('utf8');
  if (password === '') throw bad('password: empty (give it on the first line of stdin or --password-file)');
  const line = `${argv.user}:${await hashPassword(password)}`;
  if (out.json) out.data({ user: argv.user, line });
  else out.line(line);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'passwd <user>',
  describe: 'Make a user:scrypt-hash line for serve --passwords (password read from stdin)',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('user', { type: 'string', demandOption: true, describe: 'User name' })
      .option('password-file', { type: 'string', default: '-', describe: 'File whose first line is the password (- = stdin)' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

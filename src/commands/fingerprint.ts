/**
 * `sshkit fingerprint [FILE|-]... [-E sha256|md5] [-v] [--json]` — what `ssh-keygen -l [-v] [-E] -f FILE`
 * prints, for every key in every file (SPEC "sshkit fingerprint").
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

/** The parsed arguments of `sshkit fingerprint`. */
export interface FingerprintArgs extends GlobalFlags {
  files: string[];
  hash: string;
  visual: boolean;
}

const command: CommandModule<GlobalFlags, FingerprintArgs> = {
  command: 'fingerprint [files..]',
  describe: 'Print fingerprints (and randomart) of keys, key files, authorized_keys, known_hosts, allowed_signers',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('files', { type: 'string', array: true, default: ['-'], describe: 'Key files; - for stdin' })
      .option('hash', {
        alias: 'E',
        type: 'string',
        default: 'sha256',
        requiresArg: true,
        coerce: (v: string) => String(v).toLowerCase(),
        choices: ['sha256', 'md5'],
        describe: 'Fingerprint hash',
      })
      .option('visual', { alias: 'v', type: 'boolean', default: false, describe: 'Show the randomart picture' }) as Argv<FingerprintArgs>,
  handler: async (argv: ArgumentsCamelCase<FingerprintArgs>) => {
    const { runFingerprint } = await import('./fingerprint-run.js');
    await runFingerprint(argv);
  },
};
export default command;

/**
 * `sshkit certify -s CA -I KEY_ID [-h] [-n P,...] [-V VALIDITY] [-z SERIAL] [-O OPTION]... [-U]
 * [-P PASS | --passphrase-file F] [--force] [-q] [--json] PUBKEY...` — `ssh-keygen -s` (issue 11): each
 * PUBKEY (`KEY.pub`, or `KEY` with `KEY.pub` beside it, or a private key `KEY`) gets `KEY-cert.pub`; every
 * output is checked before anything is signed, all are signed before any is written, and they are written
 * atomically as one unit, never over an existing file without --force. The CA is
 * a private key file, or a public key whose private half is in ssh-agent (`SSH_AUTH_SOCK`; `-U` takes
 * the agent even when CA names a private key), as ssh-keygen -U. Progress lines are ssh-keygen's.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

/** The flags of `sshkit certify`, as yargs hands them over. */
export interface CertifyArgs extends GlobalFlags {
  pubkeys: string[];
  signKey: string;
  identity: string;
  host: boolean;
  principals?: string;
  validity?: string;
  serial?: string;
  option?: string[];
  agent: boolean;
  passphrase?: string;
  passphraseFile?: string;
  force: boolean;
  quiet: boolean;
}

async function run(argv: ArgumentsCamelCase<CertifyArgs>): Promise<void> {
  const { certifyFiles } = await import('./certify-run.js');
  await certifyFiles(argv);
}

const command: CommandModule<GlobalFlags, CertifyArgs> = {
  command: 'certify <pubkeys..>',
  describe: 'Sign public keys into OpenSSH certificates (KEY-cert.pub), as ssh-keygen -s',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('pubkeys', { type: 'string', array: true, describe: 'Public keys to certify (KEY.pub, or KEY with KEY.pub beside it)' })
      .option('sign-key', { alias: 's', type: 'string', nargs: 1, demandOption: true, describe: 'CA private key, or CA.pub with its key in ssh-agent' })
      .option('identity', { alias: 'I', type: 'string', nargs: 1, demandOption: true, describe: 'Key ID written in the certificate' })
      .option('host', { alias: 'h', type: 'boolean', default: false, describe: 'Host certificates (default: user certificates)' })
      .option('principals', { alias: 'n', type: 'string', nargs: 1, describe: 'Principals, comma-separated (user or host names)' })
      .option('validity', { alias: 'V', type: 'string', nargs: 1, describe: 'Validity: +52w, -1d:+1w, YYYYMMDD[HHMM[SS]][Z]:…, always:forever, 0x…' })
      .option('serial', { alias: 'z', type: 'string', nargs: 1, describe: 'Serial number (+N: N, then one more for each next key)' })
      .option('option', { alias: 'O', type: 'string', array: true, nargs: 1, describe: 'clear, force-command=C, source-address=L, no-*/permit-*, extension:N[=V], critical:N[=V]' })
      .option('agent', { alias: 'U', type: 'boolean', default: false, describe: 'The CA key is in ssh-agent (SSH_AUTH_SOCK)' })
      .option('passphrase', { alias: 'P', type: 'string', nargs: 1, describe: 'Passphrase of an encrypted CA key' })
      .option('passphrase-file', { type: 'string', nargs: 1, describe: 'Read the CA passphrase from the first line of a file' })
      .conflicts('passphrase', 'passphrase-file')
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite existing KEY-cert.pub files' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress lines on stderr' }) as unknown as Argv<CertifyArgs>,
  handler: run,
};
export default command;

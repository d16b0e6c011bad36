/**
 * ssh-keygen 9.2's usage() text (ssh-keygen.c usage(), as `ssh-keygen -x` prints it after "unknown option"),
 * and the exits of main(): usage() is exit 1, fatal() exit 255, each log line ending "\r\n" (log.c do_log
 * writes "%s\r\n" to stderr) while usage is plain fprintf.
 */

/** The usage text, byte for byte (stderr). */
export const USAGE = [
  'usage: ssh-keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]',
  '                  [-m format] [-N new_passphrase] [-O option]',
  '                  [-t dsa | ecdsa | ecdsa-sk | ed25519 | ed25519-sk | rsa]',
  '                  [-w provider] [-Z cipher]',
  '       ssh-keygen -p [-a rounds] [-f keyfile] [-m format] [-N new_passphrase]',
  '                   [-P old_passphrase] [-Z cipher]',
  '       ssh-keygen -i [-f input_keyfile] [-m key_format]',
  '       ssh-keygen -e [-f input_keyfile] [-m key_format]',
  '       ssh-keygen -y [-f input_keyfile]',
  '       ssh-keygen -c [-a rounds] [-C comment] [-f keyfile] [-P passphrase]',
  '       ssh-keygen -l [-v] [-E fingerprint_hash] [-f input_keyfile]',
  '       ssh-keygen -B [-f input_keyfile]',
  '       ssh-keygen -D pkcs11',
  '       ssh-keygen -F hostname [-lv] [-f known_hosts_file]',
  '       ssh-keygen -H [-f known_hosts_file]',
  '       ssh-keygen -K [-a rounds] [-w provider]',
  '       ssh-keygen -R hostname [-f known_hosts_file]',
  '       ssh-keygen -r hostname [-g] [-f input_keyfile]',
  '       ssh-keygen -M generate [-O option] output_file',
  '       ssh-keygen -M screen [-f input_file] [-O option] output_file',
  '       ssh-keygen -I certificate_identity -s ca_key [-hU] [-D pkcs11_provider]',
  '                  [-n principals] [-O option] [-V validity_interval]',
  '                  [-z serial_number] file ...',
  '       ssh-keygen -L [-f input_keyfile]',
  '       ssh-keygen -A [-a rounds] [-f prefix_path]',
  '       ssh-keygen -k -f krl_file [-u] [-s ca_public] [-z version_number]',
  '                  file ...',
  '       ssh-keygen -Q [-l] -f krl_file [file ...]',
  '       ssh-keygen -Y find-principals -s signature_file -f allowed_signers_file',
  '       ssh-keygen -Y match-principals -I signer_identity -f allowed_signers_file',
  '       ssh-keygen -Y check-novalidate -n namespace -s signature_file',
  '       ssh-keygen -Y sign -f key_file -n namespace file [-O option] ...',
  '       ssh-keygen -Y verify -f allowed_signers_file -I signer_identity',
  '                  -n namespace -s signature_file [-r krl_file] [-O option]',
].join('\n') + '\n';

/**
 * ssh-keygen's fatal(): the message on stderr (one log line, "\r\n"), exit 255. Thrown by a mode and
 * turned into its output and status in one place (main.ts), as ssh-keygen's fatal() exits from anywhere.
 */
export class KgFatal extends Error {
  constructor(
    message: string,
    readonly status = 255,
  ) {
    super(message);
  }
}

/** ssh-keygen's `error(MSG); usage();` (or bare usage() with no message): exit 1. */
export class KgUsage extends Error {
  constructor(message?: string) {
    super(message ?? '');
  }
}

/** ssh-keygen's `error(...)`/`fatal(...)` line: log.c ends every stderr line with "\r\n". */
export function logLine(message: string): string {
  return `${message}\r\n`;
}

/** The one line for a flag or mode sshkit-keygen does not build (exit 255, never a silent other behaviour). */
export function unsupported(what: string): KgFatal {
  return new KgFatal(`sshkit-keygen: ${what} is not supported`);
}

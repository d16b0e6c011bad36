/**
 * `sshkit inspect FILE... [--json]` — for each certificate exactly what `ssh-keygen -L -f FILE` prints
 * (issue 11; ssh-keygen.c do_show_cert): a heading (`FILE:` for line 1, else `FILE:N:`; `(stdin):N:`
 * for `-` or no FILE) and print_cert's lines. A file with no certificate in it is one `FILE: not a certificate`
 * line on stderr; a bad certificate line, or a bad line among certificates, is `FILE:N: why`; either makes
 * the exit status 2.
 * Blank and `#` lines are skipped (ssh-keygen complains about a blank line; its stderr is not matched).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface InspectArgs extends GlobalFlags {
  files: string[];
}

async function run(argv: ArgumentsCamelCase<InspectArgs>): Promise<void> {
  const { Output, requestStatus } = await import('../output.js');
  const { Exit, SshkitError } = await import('../core/errors.js');
  const { inputName, readInput } = await import('../input.js');
  const { readKeyPrefix } = await import('../core/key.js');
  const ci = await import('../core/cert-inspect.js');
  const out = new Output(argv);
  const results: unknown[] = [];
  for (const file of argv.files.map(String)) {
    const name = inputName(file);
    let text: string;
    try {
      text = (await readInput(file)).toString('utf8');
    } catch (err) {
      if (!(err instanceof SshkitError)) throw err;
      out.warn(`sshkit: ${err.message}`);
      requestStatus(Exit.BAD);
      continue;
    }
    const errors: string[] = [];
    let certLines = 0; // lines that claim a certificate type, shown or not
    let shown = 0;
    text.split('\n').forEach((raw, i) => {
      const line = raw.replace(/\r$/, '');
      const t = line.replace(/^[ \t]+/, '');
      if (t === '' || t.startsWith('#')) return;
      if (/^\S*-cert-v01@openssh\.com[ \t]/.test(t)) certLines++;
      try {
        const got = readKeyPrefix(line);
        if (!got) throw new SshkitError(Exit.BAD, 'not a public key or certificate');
        const view = ci.viewCertificate(got.key.blob);
        shown++;
        if (out.json) results.push({ file: name, line: i + 1, ...view });
        else out.line(`${ci.certHeading(name, i + 1, file === '-')}\n${ci.formatCertificate(view).replace(/\n$/, '')}`);
      } catch (err) {
        if (!(err instanceof SshkitError)) throw err;
        errors.push(`${name}:${i + 1}: ${err.message}`);
      }
    });
    if (certLines === 0) out.warn(`${name}: not a certificate`);
    else for (const e of errors) out.warn(e);
    if (shown === 0 || errors.length > 0) requestStatus(Exit.BAD);
  }
  if (out.json) out.data(results);
}

const command: CommandModule<GlobalFlags, InspectArgs> = {
  command: 'inspect [files..]',
  describe: 'Show certificates as ssh-keygen -L does',
  builder: (y: Argv<GlobalFlags>) =>
    y.positional('files', { type: 'string', array: true, default: ['-'], describe: 'Certificate files (KEY-cert.pub); - (or none) for stdin' }) as unknown as Argv<InspectArgs>,
  handler: run,
};
export default command;

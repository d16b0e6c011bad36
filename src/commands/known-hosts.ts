/**
 * `sshkit known-hosts [-f FILE] (-F HOST | -R HOST | -H) [--json]` — ssh-keygen's known_hosts upkeep
 * (core/known-hosts-edit.ts): -F prints what `ssh-keygen -F` prints (exit 1 when HOST is not found),
 * -R removes HOST's plain entries and -H hashes every plain entry, both keeping FILE.old and printing
 * ssh-keygen's lines. FILE defaults to ~/.ssh/known_hosts.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  file?: string;
  find?: string;
  remove?: string;
  hash: boolean;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output, requestStatus } = await import('../output.js');
  const { bad } = await import('../core/errors.js');
  const { readInput } = await import('../input.js');
  const ed = await import('../core/known-hosts-edit.js');
  const out = new Output(argv);
  const modes = [argv.find !== undefined, argv.remove !== undefined, argv.hash].filter(Boolean).length;
  if (modes !== 1) throw bad('known-hosts: give exactly one of -F HOST, -R HOST, -H');
  for (const h of [argv.find, argv.remove]) if (h === '') throw bad('known-hosts: empty host name');
  const file = argv.file ?? (await import('node:path')).join((await import('../home.js')).homeDir(), '.ssh', 'known_hosts');
  if (file === '-' && argv.find === undefined) throw bad('-f -: -R and -H rewrite the file; give a file name');
  const text = (await readInput(file)).toString('latin1');

  if (argv.find !== undefined) {
    const found = ed.findHost(text, argv.find);
    if (found.length === 0) requestStatus(1);
    if (out.json) out.data({ file, host: argv.find, found });
    else process.stdout.write(Buffer.from(ed.formatFound(argv.find, found), 'latin1'));
    return;
  }
  if (argv.remove !== undefined) {
    const host = argv.remove;
    const r = ed.removeHost(file, text, host);
    if (r.removed.length === 0) {
      if (out.json) out.data({ file, host, removed: [], backup: null });
      else out.warn(`Host ${host} not found in ${file}`);
      return;
    }
    const old = ed.replaceKeepingOld(file, r.text);
    if (out.json) return out.data({ file, host, removed: r.removed, backup: old });
    for (const n of r.removed) out.line(`# Host ${host} found: line ${n}`);
    out.line(`${file} updated.`);
    out.line(`Original contents retained as ${old}`);
    return;
  }
  const h = ed.hashHosts(file, text);
  const old = ed.replaceKeepingOld(file, h.text);
  if (out.json) return out.data({ file, hashed: h.hashed, wildcardLines: h.wildcards, backup: old });
  const lines = text.split('\n');
  for (const n of h.wildcards) {
    const hosts = lines[n - 1].replace(/^[ \t]*(@[^ \t]+[ \t]+)?/, '').split(/[ \t]/)[0];
    out.warn(`${file}:${n}: ignoring host name with wildcard: ${hosts.slice(0, 64)}`);
  }
  out.line(`${file} updated.`);
  out.line(`Original contents retained as ${old}`);
  if (h.hashed > 0) {
    out.warn(`WARNING: ${old} contains unhashed entries`);
    out.warn('Delete this file to ensure privacy of hostnames');
  }
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'known-hosts',
  describe: 'Find (-F), remove (-R) or hash (-H) hosts in a known_hosts file, as ssh-keygen',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('file', { alias: 'f', type: 'string', nargs: 1, describe: 'known_hosts file (default ~/.ssh/known_hosts)' })
      .option('find', { alias: 'F', type: 'string', nargs: 1, describe: 'Print the entries for HOST ([host]:port for another port)' })
      .option('remove', { alias: 'R', type: 'string', nargs: 1, describe: "Remove HOST's entries (FILE.old keeps the old contents)" })
      .option('hash', { alias: 'H', type: 'boolean', default: false, describe: 'Hash every plain host name (FILE.old keeps the old contents)' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

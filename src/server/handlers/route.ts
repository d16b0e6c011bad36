/**
 * The last stage of the CLI's pipeline: which handler runs a session. The `sftp` subsystem goes to
 * handlers/sftp.ts; `--exec os` runs shells and commands as OS processes (handlers/exec-os.ts), where
 * legacy `scp -O` (the rcp protocol: exec of `scp -t` / `scp -f`) works as it does under sshd; under
 * `--exec builtin` shells and commands run the builtin table (handlers/builtin.ts), and an rcp-protocol
 * exec is refused with a message saying what works instead (there is no `scp` on the other end).
 */
import { splitWords } from '../commands.js';
import type { Handler } from '../pipeline.js';
import { builtin } from './builtin.js';
import { execOs } from './exec-os.js';

/**
 * Is this exec the server side of the rcp protocol, as `scp -O` (or OpenSSH < 9) starts it: `scp` with
 * `-t` (sink) or `-f` (source) among its options (scp.c: the remote runs `scp -v -r -p -d -t -- path`).
 */
export function isLegacyScp(command: string): boolean {
  let words: string[];
  try {
    words = splitWords(command);
  } catch {
    return false;
  }
  if (words[0] !== 'scp' && !/\/scp$/.test(words[0] ?? '')) return false;
  for (const w of words.slice(1)) {
    if (w === '--' || !w.startsWith('-')) break;
    if (/^-[a-zA-Z]*[tf]/.test(w)) return true;
  }
  return false;
}

/** The refusal an rcp-protocol exec gets under --exec builtin (stderr, status 1). */
export function legacyScpMessage(sftpOn: boolean): string {
  return `sshkit: scp -O (the legacy rcp protocol) needs a real scp and runs only under --exec os; ${
    sftpOn ? 'use scp without -O (it speaks SFTP)' : 'this server has no --sftp either'
  }\n`;
}

/** Refuses an rcp-protocol exec with one clear line. */
const refuseLegacyScp: Handler = async (s) => {
  const ch = s.open();
  if (!ch) return { refused: 'channel closed' };
  ch.stderr.write(legacyScpMessage(s.ctx.sftp !== undefined));
  s.ctx.log.event('scp-refused', { conn: s.ctx.connId, session: s.id, user: s.ctx.user, reason: 'rcp protocol needs --exec os' });
  return 1;
};

/** Chooses the handler of one session (the `sftp` one is given: it loads the SFTP server lazily). */
export function route(sftp: Handler): Handler {
  return (s) => {
    const r = s.request;
    if (r.kind === 'subsystem') return r.name === 'sftp' ? sftp(s) : Promise.resolve({ refused: `subsystem ${r.name} not served` });
    if (s.ctx.exec === 'os') return execOs(s);
    if (r.kind === 'exec' && isLegacyScp(r.command)) return refuseLegacyScp(s);
    return builtin(s);
  };
}

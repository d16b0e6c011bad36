/**
 * `sshkit find-principals -f ALLOWED_SIGNERS -s SIGFILE [--verify-time T]` — `ssh-keygen -Y find-principals`
 * (SPEC): the principals of the first allowed_signers line that allows the signature's key, one per
 * line (for a certificate: its principals that the `cert-authority` line's patterns match). Like
 * ssh-keygen it does not verify the signature itself. None: `No principal matched.` on stderr, exit 1.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  allowedSigners: string;
  signature: string;
  verifyTime?: string;
  revoked?: string;
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { Output, requestStatus } = await import('../output.js');
  const { bad, ParseError } = await import('../core/errors.js');
  const { MAX_SIGNATURE, verifyTime } = await import('./verify-signature.js');
  const { readInput } = await import('../input.js');
  const { readSignature } = await import('../core/sshsig-verify.js');
  const { checkAllowedSigners } = await import('../core/allowed-signers.js');
  const out = new Output(argv);

  const now = await verifyTime(argv.verifyTime);
  const data = await readInput(argv.signature, MAX_SIGNATURE);
  let read;
  try {
    read = readSignature(data);
  } catch (err) {
    if (err instanceof ParseError) throw bad(`${argv.signature === '-' ? '(stdin)' : argv.signature}: ${err.message}`);
    throw err;
  }
  const text = (await readInput(argv.allowedSigners)).toString('latin1');
  if (argv.revoked !== undefined) {
    // the same reader as verify-signature -r (a KRL or key lines); a revoked signer has no principals
    const { parseRevokedKeys, isRevoked } = await import('../core/revocation.js');
    let list;
    try {
      list = parseRevokedKeys(await readInput(argv.revoked));
    } catch (err) {
      if (err instanceof ParseError) throw bad(`${argv.revoked}: ${err.message}`);
      throw err;
    }
    if (list.errors.length) throw bad(`${argv.revoked}:${list.errors[0].line}: ${list.errors[0].message}`);
    if (isRevoked(list, read.sig.publicKey)) {
      if (out.json) out.data({ result: 'revoked', principals: [], signer: { type: read.signer.label, fingerprint: read.signer.fingerprint } });
      else out.warn(`${read.signer.label} key ${read.signer.fingerprint} is revoked`);
      return requestStatus(1);
    }
  }
  const r = checkAllowedSigners(text, { key: read.sig.publicKey, now });
  const principals = r.ok ? r.grant.principals.filter((p) => p !== '') : [];
  if (out.json) {
    out.data({
      result: principals.length ? 'found' : 'none',
      principals,
      signer: { type: read.signer.label, fingerprint: read.signer.fingerprint },
      ...(r.ok ? { line: r.grant.line } : { reason: 'No principal matched.' }),
    });
  } else {
    for (const p of principals) out.line(p);
  }
  if (!r.ok) {
    for (const x of r.reasons) out.warn(`${argv.allowedSigners}:${x.line}: ${x.reason}`);
    if (!out.json) out.warn('No principal matched.');
    requestStatus(1);
  }
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'find-principals',
  describe: 'Print the allowed_signers principals allowed for a signature\'s key, as ssh-keygen -Y find-principals',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .option('allowed-signers', { alias: 'f', type: 'string', nargs: 1, demandOption: true, describe: 'allowed_signers file' })
      .option('signature', { alias: 's', type: 'string', nargs: 1, demandOption: true, describe: 'Signature file' })
      .option('revoked', { alias: 'r', type: 'string', nargs: 1, describe: 'Revoked keys: a KRL or public keys, one a line' })
      .option('verify-time', { type: 'string', nargs: 1, describe: 'Check validity at this time (YYYYMMDD[HHMM[SS]][Z])' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

/**
 * `sshkit verify-signature -f ALLOWED_SIGNERS -I IDENTITY -n NAMESPACE -s SIGFILE [-r REVOKED] [FILE|-]`
 * or `--public-key KEYFILE` instead of `-f`/`-I` — `ssh-keygen -Y verify` (SPEC "sshkit verify-signature").
 * Prints ssh-keygen's line (`Good "NS" signature for ID with ED25519 key SHA256:…`) on success; on a
 * negative answer the reasons and `Could not verify signature.` go to stderr and the exit status is 1.
 * Malformed input (signature, files, keys) is exit 2 with one line.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { GlobalFlags } from '../output.js';

interface Args extends GlobalFlags {
  allowedSigners?: string;
  identity?: string;
  namespace: string;
  signature: string;
  publicKey?: string;
  revoked?: string;
  verifyTime?: string;
  data?: string;
}

/** Signature files over this size are refused as bad input (ssh-keygen's are a few KiB). */
export const MAX_SIGNATURE = 16 << 20;

/** `--verify-time` in ssh-keygen's forms (YYYYMMDD[HHMM[SS]][Z]), or now. */
export async function verifyTime(text: string | undefined): Promise<number> {
  if (text === undefined) return Math.floor(Date.now() / 1000);
  const { parseAbsoluteTime } = await import('../core/allowed-signers.js');
  const { bad } = await import('../core/errors.js');
  try {
    return parseAbsoluteTime(text);
  } catch {
    throw bad(`--verify-time: invalid time ${JSON.stringify(text)}`);
  }
}

async function run(argv: ArgumentsCamelCase<Args>): Promise<void> {
  const { readInput } = await import('../input.js');
  const { Output, requestStatus } = await import('../output.js');
  const { bad, ParseError } = await import('../core/errors.js');
  const { verifySignatureFile } = await import('../core/sshsig-verify.js');
  const { hashFile } = await import('../core/sshsig.js');
  const out = new Output(argv);

  if (argv.publicKey === undefined && (argv.allowedSigners === undefined || argv.identity === undefined)) {
    throw bad('verify-signature: -f ALLOWED_SIGNERS and -I IDENTITY are required (or --public-key KEYFILE)');
  }
  if (argv.signature === '-' && (argv.data ?? '-') === '-') throw bad('-s: the signature and the data cannot both come from stdin');
  const now = await verifyTime(argv.verifyTime);
  const signature = await readInput(argv.signature, MAX_SIGNATURE);
  let publicKey: Buffer | undefined;
  if (argv.publicKey !== undefined) {
    const { parsePublicKeyText } = await import('../core/key.js');
    const text = (await readInput(argv.publicKey)).toString('latin1');
    try {
      publicKey = parsePublicKeyText(text).blob;
    } catch (err) {
      if (err instanceof ParseError) throw bad(`${argv.publicKey}: ${err.message}`);
      throw err;
    }
  }
  let revoked;
  if (argv.revoked !== undefined) {
    const { parseRevokedKeys } = await import('../core/revocation.js');
    try {
      revoked = parseRevokedKeys(await readInput(argv.revoked));
    } catch (err) {
      if (err instanceof ParseError) throw bad(`${argv.revoked}: ${err.message}`);
      throw err;
    }
    // a revocation list that cannot be read in full must not let a signature through
    for (const e of revoked.errors) out.warn(`${argv.revoked}:${e.line}: ${e.message}`);
    if (revoked.errors.length) throw bad(`${argv.revoked}: unreadable revoked-keys file (${revoked.errors.length} bad line${revoked.errors.length > 1 ? 's' : ''})`);
  }
  const allowed =
    publicKey === undefined
      ? { kind: 'allowed-signers' as const, text: (await readInput(argv.allowedSigners!)).toString('latin1'), path: argv.allowedSigners!, principal: argv.identity! }
      : undefined;
  let outcome;
  try {
    outcome = await verifySignatureFile({
      signature,
      digest: (hash) => hashFile(argv.data ?? '-', hash, () => process.stdin),
      namespace: argv.namespace,
      anchor: allowed ?? { kind: 'public-key', blob: publicKey! },
      revoked,
      now,
    });
  } catch (err) {
    if (err instanceof ParseError && argv.signature !== '-' && err.message.startsWith('signature')) throw bad(`${argv.signature}: ${err.message}`);
    throw err;
  }
  const { sig, signer } = outcome;
  const who = allowed ? ` for ${allowed.principal}` : '';
  if (out.json) {
    out.data({
      result: outcome.ok ? 'good' : 'bad',
      namespace: argv.namespace,
      principal: allowed ? allowed.principal : null,
      signer: { type: signer.label, key: `${sig.publicKey.subarray(4, 4 + sig.publicKey.readUInt32BE(0)).toString()} ${sig.publicKey.toString('base64')}`, fingerprint: signer.fingerprint },
      hash: sig.hashAlgorithm,
      ...(outcome.ok ? {} : { reason: outcome.reasons.join('; ') }),
    });
    if (!outcome.ok) for (const r of outcome.reasons) out.warn(r);
  } else if (outcome.ok) {
    out.line(`Good "${argv.namespace}" signature${who} with ${signer.label} key ${signer.fingerprint}`);
  } else {
    for (const r of outcome.reasons) out.warn(r);
    out.warn('Could not verify signature.');
  }
  if (!outcome.ok) requestStatus(1);
}

const command: CommandModule<GlobalFlags, Args> = {
  command: 'verify-signature [data]',
  describe: 'Verify an SSHSIG signature against allowed_signers (or one key), as ssh-keygen -Y verify',
  builder: (y: Argv<GlobalFlags>) =>
    y
      .positional('data', { type: 'string', describe: 'The signed data (default - for stdin)' })
      // yargs re-parses a positional as `--data VALUE`, where a lone `-` is no value and became ''
      // (issue 10 item 6: `sshkit: : No such file or directory`); with nargs 1 it is taken as the value
      .nargs('data', 1)
      .option('allowed-signers', { alias: 'f', type: 'string', nargs: 1, describe: 'allowed_signers file' })
      .option('identity', { alias: 'I', type: 'string', nargs: 1, describe: 'The principal that must have signed' })
      .option('namespace', { alias: 'n', type: 'string', nargs: 1, demandOption: true, describe: 'Signature namespace' })
      .option('signature', { alias: 's', type: 'string', nargs: 1, demandOption: true, describe: 'Signature file' })
      .option('public-key', { type: 'string', nargs: 1, describe: 'Check against this public key alone (instead of -f/-I)' })
      .conflicts('public-key', ['allowed-signers', 'identity'])
      .option('revoked', { alias: 'r', type: 'string', nargs: 1, describe: 'Revoked keys: a KRL or public keys, one a line' })
      .option('verify-time', { type: 'string', nargs: 1, describe: 'Check validity at this time (YYYYMMDD[HHMM[SS]][Z])' }) as unknown as Argv<Args>,
  handler: run,
};
export default command;

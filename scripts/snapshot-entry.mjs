/**
 * The startup snapshot's entry (issue 14): scripts/build-snapshot.mjs bundles this file with the whole CLI
 * and yargs into dist/snapshot/sshkit.cjs, and `node --build-snapshot` runs it once and freezes the heap.
 * bin/sshkit then starts `node --snapshot-blob … BIN ARGS…`, and Node calls the main function below
 * instead of loading any file. bin/sshkit-keygen runs bin/sshkit's launcher lines too: for it the main
 * function runs sshkit-keygen's main (the same core, ssh-keygen's command line) — git calls it per commit.
 *
 * Built in: every command's module and the modules the one-shot commands run (PRELOAD), with node:crypto,
 * yargs warmed up by a few command lines that print help or a usage error and the core's parsing on a fixed
 * signature, so that their code is compiled already, and the yargs parser of the one run (cli.ts
 * prepareParser: every command registered; the terminal's width and certify's -h are set at run time). Nothing that reads the environment, the terminal, the clock or randomness runs here:
 * none of those modules does anything on load, and no command handler runs.
 *
 * Decided at start, never frozen: the package root that every `import.meta.url` of the bundle is taken
 * from (build-snapshot.mjs rewrites each to `__sshkitUrl(path)`) and the folder of yargs' locale files.
 */
import v8 from 'node:v8';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import yargs from 'yargs/yargs';
import { COMMANDS, main, prepareParser } from '../dist/src/cli.js';
import { runMain as keygenMain } from '../dist/src/keygen-compat/main.js';
// a module of build-snapshot.mjs's plugin: yargs' y18n, with its locale folder decided at run time
import { useLocales } from 'sshkit:y18n';

/** What fingerprint, sign and verify-signature load in their handlers (the rest loads from the bundle when run). */
const PRELOAD = [
  () => import('../dist/src/commands/fingerprint-run.js'),
  () => import('../dist/src/core/sshsig-verify.js'),
  () => import('../dist/src/core/sshsig.js'),
  () => import('../dist/src/core/private-key.js'),
  () => import('../dist/src/core/signature.js'),
  () => import('../dist/src/core/allowed-signers.js'),
  () => import('../dist/src/core/revocation.js'),
  () => import('../dist/src/core/atomic-write.js'),
  () => import('../dist/src/input.js'),
];

/**
 * Packages our modules require at run time (createRequire) that are served from the bundle: compiled in,
 * never run while building (sshpk's dependencies read NODE_NDEBUG and seed a random pool on load).
 */
__sshkitBundled.set('sshpk', () => require('sshpk'));

/** Command lines run while building: help and usage errors only (output discarded), never a handler. */
const WARM_UP = [['--help'], ['fingerprint', '--help'], ['verify-signature', '--help'], ['sign', '--help'], ['sign'], ['verify-signature', '-n', 'x'], ['fingerprint', '--frob']];

/**
 * The pure parts of verify-signature, sign and fingerprint, run once on a fixed signature (made by
 * ssh-keygen -Y sign for this file) so that their code is compiled in the heap: ≈ 4 ms of every such run.
 * Nothing here makes a KeyObject (a native handle cannot be frozen) or touches a file.
 */
const WARM_SIG = `-----BEGIN SSH SIGNATURE-----
U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgtTQKNv6AD4HOf19RbQytqr7Pk5
VdQopjvHDeqXB6sPYAAAAEZmlsZQAAAAAAAAAGc2hhNTEyAAAAUwAAAAtzc2gtZWQyNTUx
OQAAAEDFdJs2aGCpgRSKPkaHuiAIDPuWhpCLf98dGlzfXEmIPQSVicKYGQkAMWEou4L/40
WHHpWDzdcpDxN5hpm8wPgA
-----END SSH SIGNATURE-----
`;
const WARM_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILU0Cjb+gA+Bzn9fUW0Mraq+z5OVXUKKY7xw3qlwerD2 warm@example.com';

async function warmCore() {
  const { readSignature } = await import('../dist/src/core/sshsig-verify.js');
  const { signedData } = await import('../dist/src/core/sshsig.js');
  const { checkAllowedSigners } = await import('../dist/src/core/allowed-signers.js');
  const { parsePublicKeyText } = await import('../dist/src/core/key.js');
  const { sig } = readSignature(Buffer.from(WARM_SIG));
  signedData('file', sig.hashAlgorithm, Buffer.alloc(64));
  const key = parsePublicKeyText(WARM_KEY);
  const r = checkAllowedSigners(`warm@example.com ${WARM_KEY}\n`, { key: sig.publicKey, principal: 'warm@example.com', namespace: 'file', now: 1700000000 });
  if (!r.ok || !key.blob.equals(sig.publicKey)) throw new Error('the start-up snapshot\'s warm-up signature no longer checks');
}

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // bin/sshkit passes its own resolved path first, so process.argv is [node, BIN, ...args] as on the plain path
  const root = join(dirname(process.argv[1]), '..');
  __sshkitRoot = pathToFileURL(root + '/').href;
  // node:module is not among the built-ins Node supports while building a snapshot: required at start only
  const { createRequire } = require('node:module');
  useLocales(() => {
    // where the build found them, relative to the package root (one stat), else where Node resolves yargs now
    const near = join(root, __SSHKIT_YARGS_LOCALES__);
    if (existsSync(join(near, 'en.json'))) return near;
    return join(dirname(createRequire(join(root, 'package.json')).resolve('yargs/package.json')), 'locales');
  });
  // bin/sshkit-keygen runs bin/sshkit's launcher lines, which pass its own path: ssh-keygen's command line
  if (basename(process.argv[1]) === 'sshkit-keygen') void keygenMain(process.argv.slice(2));
  else void main(process.argv.slice(2), yargs);
});

__sshkitBuildRoot = pathToFileURL(join(__dirname, '..', '..') + '/').href;
void (async () => {
  for (const name of COMMANDS) await import(`../dist/src/commands/${name}.js`);
  for (const load of PRELOAD) await load();
  for (const args of WARM_UP) await main(args, yargs);
  await warmCore();
  // the parser of the one run the snapshot serves: yargs configured with every command (cli.ts)
  await prepareParser(yargs);
  process.exitCode = undefined;
  __sshkitBuildRoot = null;
})();

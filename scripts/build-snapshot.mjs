/**
 * Builds sshkit's V8 startup snapshot (issue 14), run by `npm ci` / `npm run build` after tsc:
 *
 *  1. esbuild bundles scripts/snapshot-entry.mjs — the compiled CLI (dist/src), yargs and chalk — into one
 *     CommonJS file, dist/snapshot/sshkit.cjs (a snapshot's script cannot load files: `require` there
 *     knows only Node's built-in modules, and `import()` is unavailable). ssh2 and sshpk stay outside:
 *     our code loads them with createRequire(import.meta.url), which works once the snapshot runs.
 *  2. `node --snapshot-blob … --build-snapshot dist/snapshot/sshkit.cjs` runs it and writes the heap to
 *     dist/snapshot/sshkit.blob, whose mtime is then set to the Node binary's (`touch -r`): bin/sshkit
 *     uses the blob only while that Node is the one on PATH and the blob is newer than dist/src/cli.js.
 *  3. The new snapshot must print `--version` as the plain path does, or it is deleted.
 *
 * Any failure (Node < 20, no esbuild, a build error) leaves no blob and the CLI on its plain path, with
 * one warning line: a missing snapshot costs start-up time, never correctness.
 *
 * Installed from the npm tarball (postinstall, `--installed`): the tarball carries the bundle of step 1;
 * steps 2 and 3 run with the Node of that machine. In a checkout `--installed` does nothing (prepare does all).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'snapshot');
const BUNDLE = join(OUT, 'sshkit.cjs');
const BLOB = join(OUT, 'sshkit.blob');
const INSTALLED = process.argv.includes('--installed');

/** One warning and a clean exit: the plain path still works. */
function skip(why) {
  rmSync(BLOB, { force: true });
  process.stderr.write(`sshkit: startup snapshot not built (${why}); bin/sshkit runs on the plain path\n`);
  process.exit(0);
}

/**
 * Every `import.meta.url` of a dist/src module becomes the module's own URL, taken at run time, and every
 * `createRequire(import.meta.url)` a require that is made on its first call: a module may then be loaded
 * while the snapshot is built (its `const require = …` waits), as long as it requires nothing then.
 */
const importMetaPlugin = {
  name: 'sshkit-import-meta',
  setup(build) {
    build.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (args) => {
      const rel = JSON.stringify(relative(ROOT, args.path).split(sep).join('/'));
      let text = readFileSync(args.path, 'utf8').replace(/\bcreateRequire\(import\.meta\.url\)/g, `__sshkitRequire(${rel})`);
      // the import left unused would load node:module while building (not among the built-ins Node supports there)
      const IMPORT = "import { createRequire } from 'node:module';\n";
      if (text.includes(IMPORT) && !/\bcreateRequire\b/.test(text.replace(IMPORT, ''))) text = text.replace(IMPORT, '');
      text = text.replace(/\bimport\.meta\.url\b/g, `__sshkitUrl(${rel})`);
      if (/\bimport\.meta\b/.test(text)) throw new Error(`${rel}: import.meta other than import.meta.url is not supported in the snapshot`);
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * yargs creates its y18n (translations of its messages) on require, with the locale folder next to its own
 * file — the build machine's path, frozen into the heap. This stand-in creates the real y18n on first use,
 * with the folder the snapshot's main function names (snapshot-entry.mjs useLocales).
 */
const y18nPlugin = {
  name: 'sshkit-y18n',
  setup(build) {
    const real = createRequire(YARGS).resolve('y18n');
    build.onResolve({ filter: /^y18n$|^sshkit:y18n$/ }, () => ({ path: 'y18n', namespace: 'sshkit-y18n' }));
    build.onLoad({ filter: /.*/, namespace: 'sshkit-y18n' }, () => ({
      loader: 'js',
      resolveDir: ROOT,
      contents: `
        const y18n = require(${JSON.stringify(real)});
        let folder = null, opts = {}, locale = 'en', inst = null;
        const get = () => (inst ??= y18n({ ...opts, directory: folder ? folder() : opts.directory, locale }));
        module.exports = (o) => {
          opts = o || {};
          locale = opts.locale || 'en';
          inst = null;
          return {
            __: (...a) => get().__(...a),
            __n: (...a) => get().__n(...a),
            setLocale: (l) => { locale = l; if (inst) inst.setLocale(l); },
            getLocale: () => locale,
            updateLocale: (x) => get().updateLocale(x),
            locale,
          };
        };
        module.exports.useLocales = (f) => { folder = f; inst = null; };
      `,
    }));
  },
};

/**
 * Top of the bundle: the package root every rewritten `import.meta.url` is taken from, and the lazy require
 * that stands in for `createRequire(import.meta.url)` (answering from the bundle for the packages in
 * __sshkitBundled). While the snapshot is built only cli.js may ask for
 * its URL (version() reads package.json when called and keeps nothing); any other module asking then would
 * freeze the build machine's path into the heap, so that fails the build.
 */
const BANNER = `/* sshkit startup snapshot bundle: made by scripts/build-snapshot.mjs, do not edit */
var __sshkitRoot = null, __sshkitBuildRoot = null, __sshkitBundled = new Map();
function __sshkitUrl(rel) {
  if (__sshkitRoot !== null) return __sshkitRoot + rel;
  if (__sshkitBuildRoot !== null && rel === 'dist/src/cli.js') return __sshkitBuildRoot + rel;
  throw new Error(rel + ': import.meta.url taken while the snapshot is built (load the module lazily)');
}
function __sshkitRequire(rel) {
  let real = null;
  const get = () => (real ??= require('node:module').createRequire(__sshkitUrl(rel)));
  const r = (id) => {
    const bundled = __sshkitBundled.get(id);
    return bundled ? bundled() : get()(id);
  };
  r.resolve = (id, options) => get().resolve(id, options);
  Object.defineProperty(r, 'cache', { get: () => get().cache }); // Node's one module cache (server/ssh2-load.ts reads it)
  return r;
}`;

/** yargs' package.json, as Node resolves it from the package root. */
const YARGS = createRequire(join(ROOT, 'package.json')).resolve('yargs/package.json');

const [major] = process.versions.node.split('.').map(Number);
if (INSTALLED && existsSync(join(ROOT, 'src'))) process.exit(0); // a checkout: `prepare` builds it after tsc
if (major < 20) skip(`Node ${process.version}: startup snapshots need Node 20 or later`);
if (!existsSync(join(ROOT, 'dist', 'src', 'cli.js'))) skip('dist/src/cli.js is missing: run tsc first');
if (INSTALLED) await installed();
else await bundle();

/**
 * `--installed` (the package's postinstall): the npm tarball carries the bundle (made by `prepare` when it
 * was packed), not the blob, which only the Node that will run it can make. npm extracts every file with one
 * mtime (1985-10-26), so the bundle is made newer than dist and package.json, as bin/sshkit checks.
 */
async function installed() {
  if (!existsSync(BUNDLE)) skip('the package carries no dist/snapshot/sshkit.cjs');
  const now = new Date();
  utimesSync(BUNDLE, now, now);
  rmSync(BLOB, { force: true });
}

async function bundle() {
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  skip('esbuild is not installed (a devDependency)');
}

mkdirSync(OUT, { recursive: true });
rmSync(BLOB, { force: true });
try {
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'scripts', 'snapshot-entry.mjs')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // import() cannot run inside a snapshot: every dynamic import becomes a lazy require of the bundled module
    supported: { 'dynamic-import': false },
    // ssh2 (native parts) loads from node_modules at run time, as on the plain path; sshpk is bundled
    // but not run at build time (snapshot-entry.mjs BUNDLED): its code is in the heap, its state is not
    external: ['ssh2', 'cpu-features'],
    banner: { js: BANNER },
    // the heap is read at every start: less source text is a faster start (names kept for messages)
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    plugins: [importMetaPlugin, y18nPlugin],
    define: { __SSHKIT_YARGS_LOCALES__: JSON.stringify(relative(ROOT, join(dirname(YARGS), 'locales'))) },
    logLevel: 'silent',
  });
  const warnings = result.warnings.map((w) => w.text);
  if (warnings.length) throw new Error(`esbuild: ${warnings.join('; ')}`);
} catch (err) {
  skip(`bundling failed: ${(err.errors?.map((e) => e.text).join("; ")) || String(err.message).split("\n")[0]}`);
}
}

const env = { ...process.env };
delete env.NODE_OPTIONS;
const tmp = `${BLOB}.tmp`;
const built = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', BUNDLE], { cwd: OUT, env, encoding: 'utf8' });
if (built.status !== 0) {
  rmSync(tmp, { force: true });
  skip(`node --build-snapshot exited ${built.status}: ${(built.stderr || '').trim().split('\n').slice(-3).join(' / ')}`);
}
renameSync(tmp, BLOB);
// the blob carries the Node binary's mtime: bin/sshkit compares the two with test(1), no process started
const touched = spawnSync('touch', ['-r', process.execPath, BLOB]);
if (touched.status !== 0) skip('touch -r failed');

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const bin = join(ROOT, 'bin', 'sshkit');
const check = spawnSync(process.execPath, ['--snapshot-blob', BLOB, bin, '--version'], { env, encoding: 'utf8' });
if (check.status !== 0 || check.stdout !== `${version}\n`) skip(`the snapshot's --version printed ${JSON.stringify(check.stdout)} (exit ${check.status}): ${check.stderr.trim()}`);
process.stdout.write(`sshkit: startup snapshot built for Node ${process.version} (${relative(ROOT, BLOB)})\n`);

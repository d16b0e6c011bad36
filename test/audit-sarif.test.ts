/**
 * `sshkit audit --sarif` (issue 16): the log validates against the SARIF 2.1.0 JSON schema as shipped in
 * the @microsoft/jest-sarif npm package (sarif-2.1.0-rtm.5.json, draft-04; checked by ajv, no network),
 * lists every rule in tool.driver.rules and places each finding on its file and line; and colour: ANSI
 * escapes on a terminal, never with NO_COLOR or --no-color.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, SSHKIT, sshkit, tempDir, testEnv } from './helpers.js';
import { cleanInventory, plantedInventory } from './audit-inventory.js';

const require = createRequire(import.meta.url);
let root: string;
let cleanup: () => void;
let revoked: string;

before(() => {
  ({ dir: root, cleanup } = tempDir('sshkit-audit-sarif-'));
  ({ revoked } = plantedInventory(root));
  cleanInventory(root);
});
after(() => cleanup());

function sarifValidator(): { (doc: unknown): boolean; errors?: unknown } {
  const Ajv = require('ajv-draft-04');
  const addFormats = require('ajv-formats');
  // the schema's patterns are ECMAScript 5 (no u flag: one has a lone `]`), as draft-04 validators read them
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(require(join(ROOT, 'node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json')));
}

interface SarifLog {
  version: string;
  runs: {
    tool: { driver: { name: string; rules: { id: string; defaultConfiguration: { level: string } }[] } };
    results: { ruleId: string; ruleIndex: number; level: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[];
  }[];
}

test('--sarif validates against the SARIF 2.1.0 schema; rules listed; findings placed on file and line', () => {
  const validate = sarifValidator();
  assert.equal(validate({ version: '2.0.0', runs: [] }), false, 'control: the validator refuses a wrong version');
  const r = sshkit(['audit', '--sarif', '--revoked', revoked, 'inv'], { cwd: root });
  assert.equal(r.status, 1);
  const log = JSON.parse(r.stdout) as SarifLog;
  assert.ok(validate(log), JSON.stringify(validate.errors, null, 1));
  assert.equal(log.version, '2.1.0');
  const run = log.runs[0];
  const ids = run.tool.driver.rules.map((x) => x.id);
  assert.equal(new Set(ids).size, ids.length);
  const json = JSON.parse(sshkit(['audit', '--json', '--revoked', revoked, 'inv'], { cwd: root }).stdout) as { findings: { rule: string; severity: string; file: string; line: number | null; message: string }[] };
  assert.equal(run.results.length, json.findings.length);
  run.results.forEach((res, i) => {
    const f = json.findings[i];
    assert.equal(res.ruleId, f.rule);
    assert.equal(ids[res.ruleIndex], f.rule);
    assert.equal(res.level, f.severity);
    assert.equal(run.tool.driver.rules[res.ruleIndex].defaultConfiguration.level, f.severity);
    assert.equal(res.message.text, f.message);
    const loc = res.locations[0].physicalLocation;
    assert.equal(decodeURIComponent(loc.artifactLocation.uri), f.file);
    assert.equal(loc.region?.startLine ?? null, f.line);
  });
  for (const rule of new Set(json.findings.map((f) => f.rule))) assert.ok(ids.includes(rule));
});

test('--sarif with an absolute PATH: file:// artifact URIs, still valid', () => {
  const r = sshkit(['audit', '--sarif', join(root, 'inv/known_hosts')], { cwd: root });
  assert.equal(r.status, 1);
  const log = JSON.parse(r.stdout) as SarifLog;
  assert.ok(sarifValidator()(log));
  const uris = new Set(log.runs[0].results.map((x) => x.locations[0].physicalLocation.artifactLocation.uri));
  assert.deepEqual([...uris], [pathToFileURL(join(root, 'inv/known_hosts')).href]);
});

test('--sarif of a clean inventory: valid, no results, exit 0 (control)', () => {
  const r = sshkit(['audit', '--sarif', 'clean'], { cwd: root });
  assert.equal(r.status, 0);
  const log = JSON.parse(r.stdout) as SarifLog;
  assert.ok(sarifValidator()(log));
  assert.deepEqual(log.runs[0].results, []);
  assert.equal(sshkit(['audit', '--sarif', '--json', 'clean'], { cwd: root }).status, 2, '--sarif and --json exclude each other');
});

/** Runs `sshkit audit inv` on a terminal (script(1) gives it a pty), with NO_COLOR set or not. */
function onTty(noColor: boolean, extra: string[] = []): string {
  const env = testEnv();
  delete env.NO_COLOR;
  if (noColor) env.NO_COLOR = '1';
  const cmd = [process.execPath, SSHKIT, 'audit', ...extra, 'inv'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  return r.stdout;
}

test('colour: on a terminal the report is coloured; never with NO_COLOR or --no-color; never in a pipe', () => {
  assert.match(onTty(false), /\x1b\[[0-9;]*m/, 'control: colour on a TTY');
  assert.doesNotMatch(onTty(true), /\x1b\[/);
  assert.doesNotMatch(onTty(false, ['--no-color']), /\x1b\[/);
  const env = testEnv();
  delete env.NO_COLOR;
  const piped = spawnSync(process.execPath, [SSHKIT, 'audit', 'inv'], { cwd: root, env, encoding: 'utf8' });
  assert.equal(piped.status, 1);
  assert.doesNotMatch(piped.stdout, /\x1b\[/);
});

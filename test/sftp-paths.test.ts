/**
 * The jail's pure path rules (src/server/sftp/jail.ts, ops-paths.ts), by table and by property:
 * `normalize` turns any client path into components with no `.`/`..`/empty part (ChrootDirectory's
 * `..` at `/` stays at `/`), `linkTarget` reads absolute symlink texts from ROOT (ROOT's own real
 * path counts as ROOT), and `staysInside` (the SYMLINK-creation rule) agrees with a reference walk.
 * The kernel side of the jail is attacked in sftp-jail.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Jail, normalize, virtualPath } from '../src/server/sftp/jail.js';
import { staysInside } from '../src/server/sftp/ops-paths.js';
import { fuzzParams } from './fuzz-helper.js';

describe('normalize', () => {
  const table: Array<[string, string[], string]> = [
    ['', [], '/'],
    ['/', [], '/'],
    ['.', ['a'], '/a'],
    ['..', [], '/'],
    ['../../etc/passwd', [], '/etc/passwd'],
    ['/a/./b//c/', ['x'], '/a/b/c'],
    ['b/../../..', ['a'], '/'],
    ['c', ['a', 'b'], '/a/b/c'],
    ['/c', ['a', 'b'], '/c'],
    ['a/..b', [], '/a/..b'], // a name starting with two dots is a name
  ];
  for (const [path, base, want] of table) {
    it(`${JSON.stringify(path)} from /${base.join('/')} is ${want}`, () => assert.equal(virtualPath(normalize(path, base)), want));
  }

  it('property: no component is empty, `.` or `..`, and none holds a slash', () => {
    const part = fc.constantFrom('..', '.', '', 'a', 'b', '...', '..a');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), fc.boolean(), fc.array(fc.constantFrom('x', 'y'), { maxLength: 3 }), (parts, abs, base) => {
        const comps = normalize((abs ? '/' : '') + parts.join('/'), base);
        for (const c of comps) assert.ok(c !== '' && c !== '.' && c !== '..' && !c.includes('/'), JSON.stringify(comps));
      }),
      fuzzParams(300),
    );
  });
});

describe('staysInside (SYMLINK targets made over SFTP)', () => {
  /** Reference: walk the text from the link's folder; any step above the root escapes. */
  const reference = (target: string, dir: string[]) => {
    if (target === '' || target.startsWith('/')) return false;
    let depth = dir.length;
    for (const c of target.split('/')) {
      if (c === '..') depth -= 1;
      else if (c !== '.' && c !== '') depth += 1;
      if (depth < 0) return false;
    }
    return true;
  };
  const table: Array<[string, string[], boolean]> = [
    ['file', [], true],
    ['../file', [], false],
    ['../file', ['sub'], true],
    ['../../file', ['sub'], false],
    ['a/../../b', [], false], // climbs above the root midway, even if it comes back
    ['/etc/passwd', ['sub'], false],
    ['', [], false],
  ];
  for (const [target, dir, want] of table) {
    it(`${JSON.stringify(target)} in /${dir.join('/')}: ${want ? 'allowed' : 'refused'}`, () => assert.equal(staysInside(target, dir), want));
  }
  it('property: agrees with the reference walk', () => {
    const part = fc.constantFrom('..', '.', 'a', 'b');
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), fc.array(fc.constant('d'), { maxLength: 4 }), (parts, dir) => {
        const t = parts.join('/');
        assert.equal(staysInside(t, dir), reference(t, dir));
      }),
      fuzzParams(300),
    );
  });
});

describe('linkTarget (existing symlink texts)', () => {
  it('absolute texts are read from ROOT; ROOT\'s own real path is ROOT; relative texts from the link\'s folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sshkit-sftp-paths-'));
    const jail = new Jail(dir);
    try {
      assert.deepEqual(jail.linkTarget('/etc/passwd', ['sub']), ['etc', 'passwd']);
      assert.deepEqual(jail.linkTarget(join(jail.realRoot, 'sub/f'), []), ['sub', 'f']);
      assert.deepEqual(jail.linkTarget(jail.realRoot, ['x']), []);
      // a sibling whose name starts with ROOT's is not ROOT: read from ROOT like any absolute text
      assert.deepEqual(jail.linkTarget(`${jail.realRoot}-other/f`, []), normalize(`${jail.realRoot}-other/f`));
      assert.deepEqual(jail.linkTarget('../../x', ['a']), ['x']);
    } finally {
      jail.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

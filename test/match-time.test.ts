/**
 * parseAbsoluteTime against OpenSSH 9.2's parse_absolute_time, run for real: `ssh-keygen -s CA -V
 * TIME:forever` certifies a throw-away key and the certificate's valid_after is the instant OpenSSH
 * computed (or ssh-keygen refuses: "Invalid from time"). Covers the findings diff-time--44968b7514,
 * time--divergence-577c628bfa (00990101 read as 1999) and prop--absolute-time (00700701), in UTC and in
 * two zones with summer time (mktime is called with tm_isdst = 0). Spellings ssh-keygen -V reads as
 * something else (a leading + or -, 0x…, always/forever) are not absolute times and are left out.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAbsoluteTime } from '../src/core/time.js';
import { ROOT, tempDir } from './helpers.js';
import { certKeys, opensshAbsoluteTime, TIME_TABLE } from './match-openssh.js';

const FUZZ = join(ROOT, 'test/fixtures/fuzz');

function sshkitTime(t: string): number | null {
  try {
    return parseAbsoluteTime(t);
  } catch {
    return null;
  }
}

const tmp = tempDir('sshkit-time-');
after(tmp.cleanup);
const keys = certKeys(tmp.dir);

describe('fuzz findings', () => {
  for (const name of ['diff-time--44968b7514.bin', 'time--divergence-577c628bfa.bin']) {
    test(`${name}: refused as ssh-keygen -V refuses it`, () => {
      const t = readFileSync(join(FUZZ, name), 'latin1');
      assert.equal(opensshAbsoluteTime(keys.ca, keys.pub, t), null, `ssh-keygen -V ${t}:forever`);
      assert.equal(sshkitTime(t), null);
    });
  }
  test('prop--absolute-time: counterexample refused, 19700701Z control accepted', () => {
    const t = JSON.parse(/counterexample (\[.*\])/.exec(readFileSync(join(FUZZ, 'prop--absolute-time.txt'), 'utf8'))![1])[0] as string;
    assert.equal(sshkitTime(t), opensshAbsoluteTime(keys.ca, keys.pub, t));
    assert.equal(sshkitTime(t), null);
    assert.equal(sshkitTime('19700701Z'), opensshAbsoluteTime(keys.ca, keys.pub, '19700701Z'));
    assert.equal(sshkitTime('19700701Z'), 181 * 86400);
  });
});

for (const tz of ['UTC', 'Europe/Berlin', 'America/Sao_Paulo']) {
  test(`TZ=${tz}: sshkit and ssh-keygen -V agree on every spelling`, () => {
    const saved = process.env.TZ;
    process.env.TZ = tz; // Node re-reads TZ on assignment; ssh-keygen gets it through testEnv
    try {
      const diffs: string[] = [];
      for (const t of [...TIME_TABLE, '20200701', '202007011200', '20201025023000', '20200329023000']) {
        const want = opensshAbsoluteTime(keys.ca, keys.pub, t);
        const got = sshkitTime(t);
        if (got !== want) diffs.push(`${JSON.stringify(t)}: sshkit ${got}, ssh-keygen ${want}`);
      }
      assert.deepEqual(diffs, []);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
}

/**
 * Property (issue 14): a file indexed in pieces without its text (src/server/authorized-file.ts, the
 * detached KeyIndex) refuses, numbers and finds exactly what the text index of the same bytes does
 * (parseAuthorizedKeys, itself differential against the line parser in fuzz-authorized-index), with
 * tiny pieces and a tiny line cap so that lines cross piece boundaries, fill the buffer, and overflow
 * it: a line over the cap is one bad line `line longer than N bytes`, the rest as the text index says.
 * Lines mix ASCII and non-ASCII (their offsets are bytes, not characters), CRLF, blanks and comments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzParams } from './fuzz-helper.js';
import { tempDir } from './helpers.js';
import { parseAuthorizedKeys, parseAuthorizedKeysLine } from '../src/core/authorized-keys.js';
import { indexFile } from '../src/server/authorized-file.js';
import { WireWriter } from '../src/core/wire.js';

const keyLine = fc
  .record({
    key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    options: fc.constantFrom('', '', 'no-pty ', 'command="é x" ', 'bogus '),
    comment: fc.constantFrom('', ' c', ' café ☃', ' \u00ff', '\r', ' x\r'),
    type: fc.constantFrom('ssh-ed25519', 'ssh-ed25519', 'ssh-rsa'),
  })
  .map((r) => `${r.options}${r.type} ${new WireWriter().string('ssh-ed25519').string(Buffer.from(r.key)).toBuffer().toString('base64')}${r.comment}`);
const other = fc.constantFrom('', '# a comment é', '   ', 'junk', '\r', 'ssh-ed25519 AAAA', '\u2603\u2603');
const long = fc.nat(300).map((n) => `# ${'x'.repeat(n)}`);
const line = fc.oneof({ weight: 6, arbitrary: keyLine }, { weight: 2, arbitrary: other }, { weight: 1, arbitrary: long });

test('pieces without the text: the same bad lines and the same entries as the text index', async () => {
  const tmp = tempDir();
  const file = join(tmp.dir, 'ak');
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 14 }), fc.boolean(), fc.integer({ min: 1, max: 160 }), fc.integer({ min: 90, max: 260 }), async (lines, lastNl, piece, maxLine) => {
        const bytes = Buffer.from(lines.join('\n') + (lastNl ? '\n' : ''), 'utf8');
        writeFileSync(file, bytes);
        // the oracle: the text index of the same bytes, lines over the cap taken out (each one bad line)
        const raw = bytes.toString('latin1').split('\n');
        const tooLong = new Set(raw.flatMap((l, i) => (l.length > maxLine ? [i + 1] : [])));
        const kept = bytes.toString('utf8').split('\n').map((l, i) => (tooLong.has(i + 1) ? '' : l));
        const whole = parseAuthorizedKeys(kept.join('\n'));
        const errors = [...whole.errors, ...[...tooLong].map((n) => ({ line: n, message: `line longer than ${maxLine} bytes` }))].sort((a, b) => a.line - b.line);
        const fh = await open(file, 'r');
        try {
          const got = await indexFile(fh, bytes.length, 1 << 20, file, { piece, maxLine });
          assert.ok('index' in got);
          const index = got.index;
          assert.deepEqual(index.errors, errors);
          assert.equal(index.size, whole.size);
          for (const l of kept) {
            let blob: Buffer;
            try {
              blob = parseAuthorizedKeysLine(l.replace(/\r$/, '')).key.blob;
            } catch {
              continue; // not a key line: nothing to look up
            }
            assert.deepEqual(index.lookup(blob), whole.lookup(blob));
          }
          assert.equal(index.stale, false);
        } finally {
          await fh.close();
        }
      }),
      fuzzParams(150),
    );
  } finally {
    tmp.cleanup();
  }
});

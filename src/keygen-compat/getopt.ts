/**
 * ssh-keygen 9.2's command line as OpenSSH portable's bundled BSD getopt (openbsd-compat/getopt_long.c,
 * `getopt()` = getopt_internal without FLAG_PERMUTE) reads it on Linux: no permutation (the first
 * operand ends the options, so `-l FILE -v` leaves `FILE -v` as operands), clustered flags (`-lv`,
 * `-lf FILE`, `-qN ''`, `-fFILE`), `--` ends the options, a lone `-` is an operand, and a `-` inside a
 * cluster either ends the options (`-lv-`, the whole word then being an operand) or is an unknown option
 * (`-l-f`, `--foo`: "unknown option -- -"). Checked against the real ssh-keygen 9.2p1 in
 * test/keygen-compat-getopt.test.ts.
 */
import type { KgArgs } from './types.js';

/** ssh-keygen.c main()'s optstring (9.2). */
export const KEYGEN_OPTSTRING = 'ABHKLQUXceghiklopquvyC:D:E:F:I:M:N:O:P:R:V:Y:Z:a:b:f:g:m:n:r:s:t:w:z:';

/** One option as getopt returned it, in command-line order (main() acts on them in this order). */
export interface KgOption {
  readonly flag: string;
  /** The option's argument; '' for a flag that takes none. */
  readonly arg: string;
}

/** getopt's result: the options before any error, the error getopt printed (if any), and the operands. */
export interface GetoptResult {
  readonly options: readonly KgOption[];
  /** getopt's own message (ssh-keygen then prints its usage and exits 1). */
  readonly error?: string;
  readonly args: KgArgs;
}

function takesArg(optstring: string, c: string): boolean | undefined {
  if (c === ':') return undefined;
  const i = optstring.indexOf(c);
  if (i < 0) return undefined;
  return optstring[i + 1] === ':';
}

/**
 * Walks `argv` (without the program name) the way BSD getopt(3) does with `optstring`. Stops at the
 * first error, as ssh-keygen's loop does (its `case '?'` calls usage(), which exits).
 */
export function getopt(argv: readonly string[], optstring = KEYGEN_OPTSTRING): GetoptResult {
  const options: KgOption[] = [];
  let optind = 0;
  let error: string | undefined;
  outer: while (optind < argv.length) {
    const word = argv[optind];
    if (word[0] !== '-' || word.length === 1) break; // an operand, or a lone "-"
    if (word === '--') {
      optind++;
      break;
    }
    for (let p = 1; p < word.length; p++) {
      const c = word[p];
      const rest = word.slice(p + 1);
      if (c === '-' && rest === '') break outer; // "-lv-": getopt returns -1, optind stays on this word
      const arg = c === '-' ? undefined : takesArg(optstring, c);
      if (arg === undefined) {
        error = `unknown option -- ${c}`;
        break outer;
      }
      if (!arg) {
        options.push({ flag: c, arg: '' });
        continue;
      }
      if (rest !== '') {
        options.push({ flag: c, arg: rest });
      } else if (optind + 1 < argv.length) {
        optind++;
        options.push({ flag: c, arg: argv[optind] });
      } else {
        error = `option requires an argument -- ${c}`;
        break outer;
      }
      break;
    }
    optind++;
  }
  const flags = new Map<string, string[]>();
  for (const o of options) {
    const list = flags.get(o.flag);
    if (list) list.push(o.arg);
    else flags.set(o.flag, [o.arg]);
  }
  return { options, error, args: { flags, operands: error ? [] : argv.slice(optind) } };
}

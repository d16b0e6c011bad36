/**
 * The key-options grammar shared by authorized_keys and allowed_signers (sshd(8) "AUTHORIZED_KEYS FILE
 * FORMAT", auth-options.c): a comma-separated list of `name` or `name="value"`, where a value is
 * double-quoted and `\"` stands for a quote. The options field ends at the first blank outside quotes.
 */
import { ParseError } from './errors.js';

/** One option as written: lower-cased name and, for `name="…"`, the unquoted value. */
export interface RawOption {
  readonly name: string;
  readonly value?: string;
}

/**
 * Finds the end of a leading field (options, host patterns, principals): the first space or tab outside
 * double quotes, where `\"` does not end a quote. Throws on an unterminated quote.
 */
export function fieldEnd(text: string, from = 0): number {
  let quoted = false;
  let i = from;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && text[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) break;
  }
  if (quoted) throw new ParseError('unterminated quote in options');
  return i;
}

/** The next field of a line after blanks (options, host patterns, principals): its text and its end. */
export function leadingField(line: string, from = 0): { text: string; end: number } {
  let start = from;
  while (line[start] === ' ' || line[start] === '\t') start++;
  const end = fieldEnd(line, start);
  return { text: line.slice(start, end), end };
}

/** Splits an options field into options, strictly: empty names, stray quotes and junk after a value fail. */
export function parseOptions(field: string): RawOption[] {
  const out: RawOption[] = [];
  let i = 0;
  while (i < field.length) {
    let j = i;
    while (j < field.length && field[j] !== ',' && field[j] !== '=') j++;
    const name = field.slice(i, j).toLowerCase();
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new ParseError(`bad option name ${JSON.stringify(field.slice(i, j))}`);
    if (field[j] === '=') {
      if (field[j + 1] !== '"') throw new ParseError(`option ${name}: value must be double-quoted`);
      let k = j + 2;
      let value = '';
      for (; k < field.length; k++) {
        if (field[k] === '\\' && field[k + 1] === '"') {
          value += '"';
          k++;
        } else if (field[k] === '"') break;
        else value += field[k];
      }
      if (k >= field.length) throw new ParseError(`option ${name}: unterminated quote`);
      out.push({ name, value });
      j = k + 1;
    } else {
      out.push({ name });
    }
    if (j < field.length && field[j] !== ',') throw new ParseError(`option ${name}: unexpected ${JSON.stringify(field[j])}`);
    i = j + 1;
    if (j === field.length - 1) throw new ParseError('trailing comma in options');
  }
  return out;
}

/**
 * The built-in commands of `sshkit serve` (SPEC "Sessions": `help`, `echo`, `whoami`, `clear`, `quit`,
 * and `admin` for `--admin` users). The interactive shell (shell.ts) and exec requests run the same
 * table, so `ssh host whoami` prints what typing `whoami` at the prompt prints. Exit statuses follow
 * the shell's: 0 ok, 1 refused, 2 usage, 127 unknown command.
 */

/** What a command may touch: output streams, who is logged in, and the terminal. */
export interface CommandIO {
  readonly user: string;
  readonly admin: boolean;
  /** Line ending for output: `\r\n` on a pty, `\n` otherwise. */
  readonly eol: string;
  out(text: string): void;
  err(text: string): void;
  /** Starts the admin REPL on this channel; resolves with its exit status when it ends. */
  startAdmin(): Promise<number>;
}

/** Result: an exit status, or `quit` to end the shell (status 0). */
export type CommandResult = number | 'quit';

/** Splits a command line into words: blanks separate, '…' and "…" quote, \ escapes (a small sh subset). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}

const HELP: Array<[string, string]> = [
  ['help', 'list the commands'],
  ['echo [WORD]...', 'print the words'],
  ['whoami', 'print your user name'],
  ['clear', 'clear the screen'],
  ['quit', 'end the session (also: exit, Ctrl-D)'],
];

/** Runs one command line. Never throws: errors become a message on stderr and a status. */
export async function runCommand(line: string, io: CommandIO): Promise<CommandResult> {
  let words: string[];
  try {
    words = splitWords(line);
  } catch (err) {
    io.err(`sshkit: ${(err as Error).message}${io.eol}`);
    return 2;
  }
  if (words.length === 0) return 0;
  const [name, ...args] = words;
  switch (name) {
    case 'help': {
      const rows = io.admin ? [...HELP, ['admin', 'open the server REPL (admins only)'] as [string, string]] : HELP;
      for (const [cmd, what] of rows) io.out(`  ${cmd.padEnd(16)} ${what}${io.eol}`);
      return 0;
    }
    case 'echo':
      io.out(args.join(' ') + io.eol);
      return 0;
    case 'whoami':
      io.out(io.user + io.eol);
      return 0;
    case 'clear':
      io.out('\x1b[H\x1b[2J');
      return 0;
    case 'quit':
    case 'exit':
      return 'quit';
    case 'admin':
      if (!io.admin) {
        io.err(`admin: permission denied (${io.user} is not an --admin user)${io.eol}`);
        return 1;
      }
      return io.startAdmin();
    default:
      io.err(`${name}: command not found (try help)${io.eol}`);
      return 127;
  }
}

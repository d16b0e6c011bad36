/**
 * `sshkit serve --authorized-command CMD` (issue 17), sshd's AuthorizedKeysCommand (sshd_config(5);
 * auth2-pubkey.c `user_key_command_allowed2`): CMD is split as `argv_split()` does (no shell), the
 * tokens `%u %U %f %t %k %h` (and `%%`) in its arguments — never in the program path — are expanded
 * per login, and with no argument at all the user name is passed as the only one (sshd's fallback).
 * The program runs as --authorized-command-user (run-capped.ts) and prints authorized_keys lines, parsed
 * by the core parser (options honoured, a bad line logged as `command:line` and skipped).
 *
 * Fails closed: a command that times out (5 s), prints more than 1 MiB, cannot run, exits non-zero or
 * dies yields no key — logged, never cached. A good answer is reused for --authorized-command-cache
 * seconds, keyed by the expanded argument vector (so by exactly the tokens the command uses); identical
 * lookups running at once share one run, and at most MAX_RUNNING_COMMANDS run at a time.
 *
 * Deliberate differences (sshd is silent or does otherwise): an unknown token or a relative program
 * path refuses the server's start (sshd fails each login); user names outside USER_NAME_FOR_COMMAND are
 * never handed to the command (sshd only asks about accounts that exist; sshkit's users are names a
 * client sends before authenticating); `%U` and `%h` are the server account's uid and home, as `%h` in
 * --authorized (sshkit's users are not system accounts).
 */
import { homedir } from 'node:os';
import { KeyIndex, parseAuthorizedKeys } from '../core/authorized-keys.js';
import { checkTokens, percentExpand, splitArgv } from '../core/command-line.js';
import { bad, ParseError } from '../core/errors.js';
import { fingerprint } from '../core/fingerprint.js';
import { keyFromBlob } from '../core/key.js';
import type { Logger } from './log.js';
import { lookupUser, runCapped, unsafeCommandReason, type RunAs } from './run-capped.js';
import { serverOwner } from './safe-path.js';
import { logLineErrors, Slots } from './safe-read.js';

/** Tokens sshd expands in AuthorizedKeysCommand's arguments. */
export const COMMAND_TOKENS = 'uUfthk';
/** A command taking longer is killed and its answer denied. */
export const COMMAND_TIMEOUT_MS = 5000;
/** A command printing more is killed and its answer denied (an authorized_keys of ≈ 10,000 ed25519 lines). */
export const COMMAND_MAX_OUTPUT = 1 << 20;
/** Commands running at once; more wait for a free slot. */
export const MAX_RUNNING_COMMANDS = 4;
/** Answers kept, and their output bytes (least recently used dropped first). */
export const MAX_CACHED_ANSWERS = 1024;
export const MAX_CACHED_ANSWER_BYTES = 64 << 20;
/** User names handed to the command: a portable account name (letters, digits, `._@-`, not starting with `-`). */
export const USER_NAME_FOR_COMMAND = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,255}$/;

/** What the flags say (ServeOptions.authorizedCommand); the limits are overridable for tests and the library. */
export interface AuthorizedCommandOptions {
  command: string;
  user?: string;
  cacheSeconds: number;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

interface Answer {
  index: KeyIndex;
  until: number;
  bytes: number;
}

const EMPTY = new KeyIndex();

/** The --authorized-command source: `forKey()` answers with the keys the command lists for one request. */
export class AuthorizedCommand {
  private readonly cache = new Map<string, Answer>();
  private readonly inflight = new Map<string, Promise<KeyIndex>>();
  private readonly slots = new Slots(MAX_RUNNING_COMMANDS);
  private bytes = 0;
  /** Runs started, answers reused and failed runs (admin `stats()`, tests). */
  readonly counters = { runs: 0, hits: 0, failures: 0 };

  private constructor(
    private readonly argv: readonly string[],
    private readonly as: RunAs | undefined,
    private readonly opts: AuthorizedCommandOptions,
    private readonly log: Logger,
  ) {}

  /** Checks the flags and resolves the user; throws a one-line SshkitError for a command that could never work. */
  static async create(opts: AuthorizedCommandOptions, log: Logger): Promise<AuthorizedCommand> {
    let argv: string[];
    try {
      argv = splitArgv(opts.command);
      if (argv.length === 0) throw new ParseError('yielded no arguments');
      for (const a of argv.slice(1)) checkTokens(a, COMMAND_TOKENS);
    } catch (err) {
      throw bad(`--authorized-command ${JSON.stringify(opts.command)}: ${(err as Error).message}`);
    }
    if (!Number.isInteger(opts.cacheSeconds) || opts.cacheSeconds < 0) throw bad(`--authorized-command-cache: expected a whole number ≥ 0, got ${opts.cacheSeconds}`);
    const uid = process.getuid?.() ?? 0;
    let as: RunAs | undefined;
    if (opts.user === undefined) {
      // sshd refuses to run the command without AuthorizedKeysCommandUser; as root so do we
      if (uid === 0) throw bad('--authorized-command-user is required when the server runs as root (sshd AuthorizedKeysCommandUser): name an unprivileged account, e.g. nobody');
    } else {
      const found = await lookupUser(opts.user);
      if (!found) throw bad(`--authorized-command-user ${opts.user}: no such user`);
      if (uid !== 0 && found.uid !== uid) throw bad(`--authorized-command-user ${opts.user}: running a command as another user needs root (the server runs as uid ${uid})`);
      as = uid === 0 ? found : undefined;
    }
    const why = await unsafeCommandReason(argv[0], serverOwner());
    if (why) throw bad(`--authorized-command: ${why}`);
    log.event('authorized-command', { command: opts.command, user: opts.user ?? 'self', cache: opts.cacheSeconds });
    return new AuthorizedCommand(argv, as, opts, log);
  }

  /** The argument vector for one request: tokens expanded, or the user name appended when CMD has no argument. */
  argvFor(user: string, keyBlob: Buffer): string[] {
    const [program, ...args] = this.argv;
    if (args.length === 0) return [program, user];
    const values = new Map<string, string>([
      ['u', user],
      ['U', String(process.getuid?.() ?? 0)],
      ['h', homedir()],
    ]);
    if (args.some((a) => /%[ftk]/.test(a.replace(/%%/g, '')))) {
      values.set('t', keyFromBlob(keyBlob).type).set('f', fingerprint(keyBlob)).set('k', keyBlob.toString('base64'));
    }
    return [program, ...args.map((a) => percentExpand(a, values))];
  }

  /** The keys the command lists for this request (empty when it fails or may not be asked). Never rejects. */
  forKey(user: string, keyBlob: Buffer): Promise<KeyIndex> {
    if (!USER_NAME_FOR_COMMAND.test(user)) return Promise.resolve(EMPTY);
    let argv: string[];
    try {
      argv = this.argvFor(user, keyBlob);
    } catch {
      return Promise.resolve(EMPTY); // a malformed key blob: the checker refuses it anyway
    }
    const id = argv.join('\0');
    const hit = this.cache.get(id);
    if (hit) this.forget(id);
    if (hit && hit.until > Date.now()) {
      this.keep(id, hit); // most recently used last
      this.counters.hits++;
      return Promise.resolve(hit.index);
    }
    const running = this.inflight.get(id);
    if (running) return running;
    const p = this.slots
      .run(() => this.run(user, argv))
      .catch(() => EMPTY)
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  private async run(user: string, argv: string[]): Promise<KeyIndex> {
    this.counters.runs++;
    const started = Date.now();
    // re-checked on each run: a program swapped for a writable one after start is refused, as sshd does
    const unsafe = await unsafeCommandReason(argv[0], serverOwner());
    const r = unsafe
      ? { ok: false as const, reason: unsafe }
      : await runCapped(argv, this.as, { timeoutMs: this.opts.timeoutMs ?? COMMAND_TIMEOUT_MS, maxBytes: this.opts.maxOutputBytes ?? COMMAND_MAX_OUTPUT });
    if (!r.ok) {
      this.counters.failures++;
      this.log.event('authorized-command-failed', { user, command: argv[0], reason: r.reason, effect: 'no key from the command' });
      return EMPTY;
    }
    const index = parseAuthorizedKeys(r.stdout);
    logLineErrors(this.log, 'authorized-command-error', `command:${argv[0]}`, index.errors);
    this.log.event('authorized-command-ok', { user, keys: index.size, errors: index.errors.length, ms: Date.now() - started });
    if (this.opts.cacheSeconds > 0) {
      const id = argv.join('\0');
      this.forget(id);
      this.keep(id, { index, until: Date.now() + this.opts.cacheSeconds * 1000, bytes: r.stdout.length });
    }
    return index;
  }

  private forget(id: string): void {
    const old = this.cache.get(id);
    if (!old) return;
    this.cache.delete(id);
    this.bytes -= old.bytes;
  }

  private keep(id: string, a: Answer): void {
    this.cache.set(id, a);
    this.bytes += a.bytes;
    while (this.cache.size > MAX_CACHED_ANSWERS || (this.cache.size > 1 && this.bytes > MAX_CACHED_ANSWER_BYTES)) {
      this.forget(this.cache.keys().next().value as string);
    }
  }

  /** Answers cached now. */
  get cached(): number {
    return this.cache.size;
  }

  /** Forgets every cached answer (admin `reload`). */
  reload(): number {
    const n = this.cache.size;
    this.cache.clear();
    this.bytes = 0;
    return n;
  }
}

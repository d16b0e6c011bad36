/**
 * `ssh-keygen -s … -O OPTION` (ssh-keygen.c add_cert_option, finalise_cert_exts, cert_ext_cmp,
 * prepare_options_buf): the critical options and extensions of a new certificate. User certificates
 * start with ssh-keygen's five `permit-*` extensions, host certificates with none; options apply in
 * order (`clear` drops every flag given so far). Names are matched case-insensitively, as strcasecmp.
 * Both lists come out sorted as cert_ext_cmp sorts them (strcmp of the names, a flag before a value).
 *
 * Deliberate difference: ssh-keygen writes a name given twice (`-O extension:x -O extension:x`, or
 * `extension:permit-pty` beside the default flag) twice, a certificate PROTOCOL.certkeys forbids and
 * certificate.ts refuses; sshkit refuses the option instead.
 */
import { matchCidrList } from './addr.js';
import { ParseError } from './errors.js';

/** One option: its name and, unless it is a flag, its value (written as an inner string). */
export interface CertOption {
  readonly name: string;
  readonly value: string | null;
}

/** The critical options and extensions of a certificate, each in the order they are written. */
export interface CertOptions {
  readonly critical: readonly CertOption[];
  readonly extensions: readonly CertOption[];
}

// certflags bits, named by the extension each one writes (finalise_cert_exts' order)
const FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['x11-forwarding', 'permit-X11-forwarding'],
  ['agent-forwarding', 'permit-agent-forwarding'],
  ['port-forwarding', 'permit-port-forwarding'],
  ['pty', 'permit-pty'],
  ['user-rc', 'permit-user-rc'],
];
/** `-O NAME` → [flag, on]: permit-X/no-X, touch-required/no-touch-required, verify-required. */
const SWITCHES = new Map<string, readonly [string, boolean]>([
  ...FLAGS.flatMap(([n, ext]) => [
    [`permit-${n}`, [ext, true]] as const,
    [`no-${n}`, [ext, false]] as const,
  ]),
  ['no-touch-required', ['no-touch-required', true]],
  ['touch-required', ['no-touch-required', false]],
  ['verify-required', ['verify-required', true]],
  ['no-verify-required', ['verify-required', false]],
]);
const DEFAULT_USER_FLAGS = FLAGS.map(([, ext]) => ext);

/** strcmp order of UTF-8 bytes (JavaScript's < compares UTF-16 units, which differs above U+FFFF). */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** cert_ext_cmp within one list: by name, a flag before a value, then by value. */
function compare(a: CertOption, b: CertOption): number {
  const r = byteCompare(a.name, b.name);
  if (r !== 0) return r;
  if ((a.value === null) !== (b.value === null)) return a.value === null ? -1 : 1;
  return a.value !== null && b.value !== null ? byteCompare(a.value, b.value) : 0;
}

function noDuplicates(list: CertOption[], what: string): CertOption[] {
  list.sort(compare);
  for (let i = 1; i < list.length; i++) {
    if (list[i].name === list[i - 1].name) throw new ParseError(`-O: ${what} "${list[i].name}" given twice`);
  }
  return list;
}

/**
 * Builds the options of a `certType` certificate from `-O` arguments in the order given, with
 * ssh-keygen's messages for bad ones ("Unsupported certificate option …", "Invalid source-address
 * list", "force-command already specified", …).
 */
export function buildCertOptions(args: readonly string[], certType: 'user' | 'host'): CertOptions {
  const flags = new Set<string>(certType === 'user' ? DEFAULT_USER_FLAGS : []);
  let command: string | null = null;
  let source: string | null = null;
  const custom: Array<CertOption & { critical: boolean }> = [];
  for (const opt of args) {
    const lower = opt.toLowerCase();
    const sw = SWITCHES.get(lower);
    if (lower === 'clear') flags.clear();
    else if (sw) {
      if (sw[1]) flags.add(sw[0]);
      else flags.delete(sw[0]);
    } else if (lower.startsWith('force-command=')) {
      const v = opt.slice(14);
      if (v === '') throw new ParseError('-O: Empty force-command option');
      if (command !== null) throw new ParseError('-O: force-command already specified');
      command = v;
    } else if (lower.startsWith('source-address=')) {
      const v = opt.slice(15);
      if (v === '') throw new ParseError('-O: Empty source-address option');
      if (source !== null) throw new ParseError('-O: source-address already specified');
      try {
        matchCidrList(v, '127.0.0.1'); // addr_match_cidr_list(NULL, v): the list is only validated
      } catch {
        throw new ParseError(`-O: Invalid source-address list ${JSON.stringify(v)}`);
      }
      source = v;
    } else if (lower.startsWith('extension:') || lower.startsWith('critical:')) {
      const critical = lower.startsWith('critical:');
      const rest = opt.slice(opt.indexOf(':') + 1);
      const eq = rest.indexOf('=');
      const name = eq < 0 ? rest : rest.slice(0, eq);
      custom.push({ name, value: eq < 0 ? null : rest.slice(eq + 1), critical });
    } else {
      throw new ParseError(`-O: Unsupported certificate option "${opt}"`);
    }
  }
  const critical: CertOption[] = [];
  const extensions: CertOption[] = [];
  if (command !== null) critical.push({ name: 'force-command', value: command });
  if (source !== null) critical.push({ name: 'source-address', value: source });
  if (flags.has('verify-required')) critical.push({ name: 'verify-required', value: null });
  for (const ext of [...DEFAULT_USER_FLAGS, 'no-touch-required']) if (flags.has(ext)) extensions.push({ name: ext, value: null });
  for (const c of custom) (c.critical ? critical : extensions).push({ name: c.name, value: c.value });
  return { critical: noDuplicates(critical, 'critical option'), extensions: noDuplicates(extensions, 'extension') };
}

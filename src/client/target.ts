/**
 * Where exec connects: `[user@]host` (ssh(1) destination; also `ssh://[user@]host[:port]`), lines of a
 * `--hosts` file (`[user@]host[:port]`, `[v6addr]:port`, `#` comments), and the `-o` options exec
 * understands. Precedence follows ssh: `-l` beats `user@`, `-p` beats a port in the destination;
 * host names are lower-cased (ssh does, and known_hosts lookups depend on it) and never hold
 * known_hosts pattern characters (issue 9 item 10).
 */
import { execError, hostnameProblem, type StrictMode } from './host-keys.js';

/** One host to run on. */
export interface Target {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  /** The destination as written (labels output lines and the summary). */
  readonly label: string;
}

interface Parsed {
  user?: string;
  host: string;
  port?: number;
}

function parsePort(text: string, what: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw execError(`${what}: bad port ${JSON.stringify(text)}`);
  return Number(text);
}

/** The host part, after `user@` and brackets: never a known_hosts pattern (hostnameProblem), no `@` or `/`. */
function checkHost(host: string, what: string): string {
  if (host === '') throw execError(`${what}: empty host name`);
  const bad = hostnameProblem(host) ?? (/[@/]/.test(host) ? 'hostname contains invalid characters' : null);
  if (bad) throw execError(`${what}: ${bad}: ${JSON.stringify(host)}`);
  // ASCII only, as ssh's lowercase(): String#toLowerCase folds U+212A KELVIN SIGN to `k`
  // (fuzz finding diff-confirm--1c4b341f18), which would look up another name's known_hosts entry.
  return host.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

/** `[user@]host`, `[user@][v6]`, with `allowPort` also `host:port` and `[v6]:port`. */
function parseDestination(text: string, what: string, allowPort: boolean): Parsed {
  let rest = text;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw execError(`${what}: empty user name in ${JSON.stringify(text)}`);
  }
  let port: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw execError(`${what}: unbalanced [ in ${JSON.stringify(text)}`);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!allowPort || !after.startsWith(':')) throw execError(`${what}: unexpected ${JSON.stringify(after)} after ]`);
      port = parsePort(after.slice(1), what);
    }
    rest = rest.slice(1, close);
  } else if (allowPort && rest.split(':').length === 2) {
    const [h, p] = rest.split(':');
    rest = h;
    port = parsePort(p, what);
  }
  return { user, host: checkHost(rest, what), port };
}

/** The single destination argument: `[user@]host` or `ssh://[user@]host[:port]`. */
export function parseTarget(dest: string, flags: { user?: string; port?: number; defaultUser: string }): Target {
  const uri = dest.startsWith('ssh://');
  const p = parseDestination(uri ? dest.slice(6).replace(/\/$/, '') : dest, 'destination', uri);
  return {
    user: flags.user ?? p.user ?? flags.defaultUser,
    host: p.host,
    port: flags.port ?? p.port ?? 22,
    label: dest,
  };
}

/** A `--hosts` file: one destination per line, blank lines and `#` comments ignored. */
export function parseHostsFile(text: string, path: string, flags: { user?: string; port?: number; defaultUser: string }): Target[] {
  const out: Target[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    if (/\s/.test(line)) throw execError(`${path}:${i + 1}: one destination per line expected, got ${JSON.stringify(line)}`);
    const p = parseDestination(line, `${path}:${i + 1}`, true);
    out.push({ user: flags.user ?? p.user ?? flags.defaultUser, host: p.host, port: p.port ?? flags.port ?? 22, label: line });
  });
  if (out.length === 0) throw execError(`${path}: no hosts listed`);
  return out;
}

/** The `-o` options exec understands (ssh_config names, case-insensitive, `Key=Value` or `Key Value`). */
export interface SshOptions {
  strict?: StrictMode;
  knownHostsFile?: string;
  connectTimeout?: number;
  port?: number;
  user?: string;
}

/** Parses `-o` values; an option exec does not implement is an error, not silently ignored. */
export function parseSshOptions(values: string[]): SshOptions {
  const out: SshOptions = {};
  for (const v of values) {
    const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*?)\s*$/.exec(v);
    if (!m || m[2] === '') throw execError(`-o: expected Key=Value, got ${JSON.stringify(v)}`);
    const [, key, value] = m;
    switch (key.toLowerCase()) {
      case 'stricthostkeychecking': {
        const mode = value.toLowerCase();
        if (mode === 'yes' || mode === 'accept-new') out.strict = mode;
        else if (mode === 'no' || mode === 'off') out.strict = 'no';
        else throw execError(`-o StrictHostKeyChecking: ${JSON.stringify(value)} is not yes, accept-new or no`);
        break;
      }
      case 'userknownhostsfile':
        out.knownHostsFile = value;
        break;
      case 'connecttimeout': {
        const n = Number(value);
        if (!/^[0-9]+$/.test(value) || n <= 0) throw execError(`-o ConnectTimeout: bad number of seconds ${JSON.stringify(value)}`);
        out.connectTimeout = n;
        break;
      }
      case 'port':
        out.port = parsePort(value, '-o Port');
        break;
      case 'user':
        out.user = value;
        break;
      default:
        throw execError(`-o: unsupported option ${JSON.stringify(key)} (exec knows StrictHostKeyChecking, UserKnownHostsFile, ConnectTimeout, Port, User)`);
    }
  }
  return out;
}

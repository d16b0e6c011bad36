/**
 * Password files for `sshkit serve --passwords` (SPEC: "`user:hash` lines (scrypt), compared in
 * constant time"). A hash is a self-describing PHC-style string, `$scrypt$ln=15,r=8,p=1$SALT$HASH`
 * (salt and hash in unpadded base64), so its cost can be raised later without breaking old lines.
 * Checking runs Node's asynchronous scrypt (libuv thread pool), so a slow hash never stalls other
 * connections; unknown users are checked against a dummy hash so timing does not reveal who exists.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ParseError } from './errors.js';
import { eachLine, type LineError } from './lines.js';

/** scrypt cost: N = 2^ln (ln=15: 32 MiB, ≈ 80 ms on one core — OWASP's floor for interactive logins). */
export interface ScryptParams {
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** Cost of new hashes (`sshkit passwd`). */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 15, r: 8, p: 1 };
/**
 * Caps on a hash's cost, so one --passwords line cannot make each login (and the dummy check for
 * unknown users) cost seconds and a GiB: memory 128·N·r ≤ 64 MiB (N·r ≤ 2^19, e.g. ln=16,r=8) and
 * work N·r·p ≤ 2^20 (4× the default ln=15,r=8,p=1: ≈ 0.3 s on one core). Lines above are refused.
 */
export const MAX_SCRYPT_NR = 2 ** 19;
/** See MAX_SCRYPT_NR: the cap on N·r·p. */
export const MAX_SCRYPT_WORK = 2 ** 20;
const KEY_LEN = 32;

interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function b64(b: Buffer): string {
  return b.toString('base64').replace(/=+$/, '');
}

function derive(password: string | Buffer, salt: Buffer, prm: ScryptParams, len: number): Promise<Buffer> {
  const N = 2 ** prm.ln;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, len, { N, r: prm.r, p: prm.p, maxmem: 256 * N * prm.r + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Is this cost within MAX_SCRYPT_NR and MAX_SCRYPT_WORK? */
export function withinCap(prm: ScryptParams): boolean {
  const nr = 2 ** prm.ln * prm.r;
  return nr <= MAX_SCRYPT_NR && nr * prm.p <= MAX_SCRYPT_WORK;
}

/** Parses `$scrypt$ln=…,r=…,p=…$salt$hash` strictly (costs capped by MAX_SCRYPT_NR/MAX_SCRYPT_WORK). */
export function parsePasswordHash(text: string): ParsedHash {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{43,})$/.exec(text);
  if (!m) throw new ParseError('not an scrypt hash ($scrypt$ln=N,r=R,p=P$salt$hash)');
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || r < 1 || p < 1) throw new ParseError('scrypt parameters out of range');
  if (!withinCap({ ln, r, p })) {
    throw new ParseError(`scrypt cost ln=${ln},r=${r},p=${p} above the cap (N·r ≤ 2^19: 64 MiB; N·r·p ≤ 2^20)`);
  }
  return { ln, r, p, salt: Buffer.from(m[4], 'base64'), hash: Buffer.from(m[5], 'base64') };
}

/** Makes a hash line value for `password` with a fresh 16-byte salt. */
export async function hashPassword(password: string, prm: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, prm, KEY_LEN);
  return `$scrypt$ln=${prm.ln},r=${prm.r},p=${prm.p}$${b64(salt)}$${b64(hash)}`;
}

/** Does `password` match `stored`? The final comparison is constant-time (timingSafeEqual). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parsePasswordHash(stored);
  const got = await derive(password, h.salt, h, h.hash.length);
  return got.length === h.hash.length && timingSafeEqual(got, h.hash);
}

/** A parsed passwords file: user → hash, the lines that could not be used, the cost most lines use. */
export interface PasswordFile {
  readonly users: Map<string, string>;
  readonly errors: LineError[];
  /** scrypt cost of the dummy check for unknown users: the file's most common one. */
  readonly dummyCost?: ScryptParams;
}

/** Parses `user:hash` lines (blank lines and `#` comments skipped); a bad line is reported, not fatal. */
export function parsePasswordFile(text: string): PasswordFile {
  const users = new Map<string, string>();
  const costs = new Map<string, number>();
  const errors = eachLine(text, (raw) => {
    const line = raw.trim();
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ParseError('expected user:hash');
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const h = parsePasswordHash(hash);
    if (users.has(user)) throw new ParseError(`duplicate user ${JSON.stringify(user)}`);
    users.set(user, hash);
    const key = `${h.ln},${h.r},${h.p}`;
    costs.set(key, (costs.get(key) ?? 0) + 1);
  });
  const common = [...costs].sort((a, b) => b[1] - a[1])[0]?.[0];
  const dummyCost = common ? (([ln, r, p]) => ({ ln, r, p }))(common.split(',').map(Number)) : DEFAULT_SCRYPT;
  dummyFor(dummyCost).catch(() => undefined); // made now, so the first unknown user does not pay for it
  return { users, errors, dummyCost };
}

const dummies = new Map<string, Promise<string>>();

/** A hash of a random password at cost `prm`, made once per cost. */
function dummyFor(prm: ScryptParams): Promise<string> {
  const key = `${prm.ln},${prm.r},${prm.p}`;
  let d = dummies.get(key);
  if (!d) dummies.set(key, (d = hashPassword(randomBytes(12).toString('hex'), prm)));
  return d;
}

/**
 * Checks a login: the user's hash if listed, else a dummy hash at the file's most common cost (so an
 * unknown user takes as long as a typical wrong password; never above the cap, whatever `file` says).
 * Never true for an unlisted user.
 */
export async function checkLogin(file: PasswordFile, user: string, password: string): Promise<boolean> {
  const stored = file.users.get(user);
  if (stored === undefined) {
    const cost = file.dummyCost && withinCap(file.dummyCost) ? file.dummyCost : DEFAULT_SCRYPT;
    await verifyPassword(password, await dummyFor(cost));
    return false;
  }
  return verifyPassword(password, stored);
}

/**
 * Numeric addresses exactly as OpenSSH's addr_pton sees them: glibc 2.36 getaddrinfo(AI_NUMERICHOST),
 * i.e. __inet_aton_exact for IPv4 (`127.1`, `0x7f.1`, `0177.0.0.1`, `2130706433` are all 127.0.0.1)
 * and inet_pton6 plus a `%scope` for IPv6 (resolv/inet_addr.c, resolv/inet_pton.c, inet/inet6_scopeid_pton.c).
 * The text form is glibc inet_ntop's, which is what sshd matches wildcards against.
 */

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address and its IPv6 scope ('' for none). */
export interface IpAddress {
  readonly bytes: Buffer;
  readonly scope: string;
}

const DIGIT = /^[0-9]$/;
const MAX_LAST = [0xffffffff, 0xffffff, 0xffff, 0xff];

/** __inet_aton_exact: 1–4 parts, each C-style decimal, 0octal or 0xhex; the last fills the rest. */
function atonExact(s: string): Buffer | null {
  const parts: number[] = [];
  let i = 0;
  let val = 0;
  for (;;) {
    if (!DIGIT.test(s[i] ?? '')) return null;
    let base = 10;
    if (s[i] === '0') {
      base = 8;
      if ((s[i + 1] === 'x' || s[i + 1] === 'X') && /^[0-9a-fA-F]$/.test(s[i + 2] ?? '')) {
        base = 16;
        i += 2;
      }
    }
    val = 0;
    for (; i < s.length; i++) {
      const d = parseInt(s[i], 16);
      if (Number.isNaN(d) || d >= base) break;
      val = val * base + d;
      if (val > 0xffffffff) val = Infinity; // strtoul overflow or > 0xffffffff: refused below
    }
    if (s[i] !== '.') break;
    if (parts.length > 2 || val > 0xff) return null;
    parts.push(val);
    i++;
  }
  if (i !== s.length || val > MAX_LAST[parts.length]) return null;
  const out = Buffer.alloc(4);
  out.writeUInt32BE(val >>> 0);
  parts.forEach((p, k) => (out[k] = p));
  return out;
}

/** glibc inet_pton4 (inside IPv6): exactly four decimal octets, no leading zeros, each ≤ 255. */
function pton4(s: string): Buffer | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const o = m.slice(1).map((x) => (x.length > 1 && x[0] === '0' ? 256 : Number(x)));
  return o.every((x) => x <= 255) ? Buffer.from(o) : null;
}

/** glibc inet_pton6: hex groups of 1–4 digits, one `::`, an optional dotted IPv4 tail. */
function pton6(s: string): Buffer | null {
  const out = Buffer.alloc(16);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (s.length === 0) return null;
  if (s[0] === ':') {
    if (s[1] !== ':') return null;
    i = 1;
  }
  let curtok = i;
  let digits = 0;
  let val = 0;
  while (i < s.length) {
    const ch = s[i++];
    const d = /^[0-9a-fA-F]$/.test(ch) ? parseInt(ch, 16) : -1;
    if (d >= 0) {
      if (digits === 4) return null;
      val = (val << 4) | d;
      digits++;
      continue;
    }
    if (ch === ':') {
      curtok = i;
      if (digits === 0) {
        if (colonp >= 0) return null;
        colonp = tp;
        continue;
      } else if (i === s.length) return null;
      if (tp + 2 > 16) return null;
      out.writeUInt16BE(val, tp);
      tp += 2;
      digits = 0;
      val = 0;
      continue;
    }
    const v4 = ch === '.' && tp + 4 <= 16 ? pton4(s.slice(curtok)) : null;
    if (!v4) return null;
    v4.copy(out, tp);
    tp += 4;
    digits = 0;
    i = s.length;
  }
  if (digits > 0) {
    if (tp + 2 > 16) return null;
    out.writeUInt16BE(val, tp);
    tp += 2;
  }
  if (colonp >= 0) {
    if (tp === 16) return null;
    const n = tp - colonp;
    out.copy(out, 16 - n, colonp, tp);
    out.fill(0, colonp, 16 - n);
    tp = 16;
  }
  return tp === 16 ? out : null;
}

/** __inet6_scopeid_pton: an interface name (link-local and link/node-local multicast only) or a uint32. */
function scopeId(a: Buffer, scope: string): string | null {
  const linkLocal = (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) || (a[0] === 0xff && ((a[1] & 0x0f) === 1 || (a[1] & 0x0f) === 2));
  // if_nametoindex cannot be asked from pure code: any IFNAMSIZ-sized name is taken as an interface.
  if (linkLocal && /^[A-Za-z0-9_.:-]{1,15}$/.test(scope) && !/^[0-9]/.test(scope)) return scope;
  if (/^[0-9]+$/.test(scope) && BigInt(scope) <= 0xffffffffn) return String(Number(scope));
  return null;
}

/** getaddrinfo(text, AI_NUMERICHOST) → the address, or null where addr_pton fails. */
export function parseIpAddress(text: string): IpAddress | null {
  const v4 = atonExact(text);
  if (v4) return { bytes: v4, scope: '' };
  const pct = text.indexOf('%');
  const v6 = pton6(pct < 0 ? text : text.slice(0, pct));
  if (!v6) return null;
  if (pct < 0) return { bytes: v6, scope: '' };
  const scope = scopeId(v6, text.slice(pct + 1));
  return scope === null ? null : { bytes: v6, scope };
}

/** glibc inet_ntop (and getnameinfo's `%scope`): dotted IPv4, RFC 4291 compressed IPv6. */
export function formatIpAddress(a: IpAddress): string {
  const b = a.bytes;
  if (b.length === 4) return [...b].join('.');
  const w = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      cur = cur.base < 0 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
      if (cur.len > best.len) best = cur;
    } else cur = { base: -1, len: 0 };
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base >= 0 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += [...b.subarray(12)].join('.');
      break;
    }
    out += w[i].toString(16);
  }
  if (best.base >= 0 && best.base + best.len === 8) out += ':';
  return a.scope ? `${out}%${a.scope}` : out;
}

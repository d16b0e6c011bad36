/**
 * Escaping of untrusted text for log lines. A user name, client version, method or algorithm name,
 * command or certificate key id comes from the network and may hold ANSI/OSC escape sequences, CR/LF
 * (forged log lines) or bytes a terminal misreads; OpenSSH passes every log message through
 * `strnvis(…, VIS_SAFE|VIS_OCTAL)` (log.c `do_log`), so such bytes appear as `\ooo`.
 */

/**
 * strvis(3)-style escape as OpenSSH's log uses it (VIS_OCTAL): printable ASCII stays, `\` becomes `\\`,
 * every other byte of the UTF-8 encoding (controls, DEL, non-ASCII) becomes `\ooo` (three octal digits).
 * `extra` lists further printable characters to escape the same way (e.g. `"` inside a quoted value).
 * The output is printable ASCII only, so it can never end a line or drive a terminal.
 */
export function strvis(s: string, extra = ''): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f && !extra.includes(String.fromCharCode(b))) out += String.fromCharCode(b);
    else out += '\\' + b.toString(8).padStart(3, '0');
  }
  return out;
}

/**
 * JSON.stringify, plus `\u` escapes for the characters JSON leaves raw but that readers treat as line
 * ends or terminal controls: U+0085 (NEL), U+2028 and U+2029 (JavaScript and many log shippers split
 * lines on them), DEL and the other C1 controls (U+009B is a one-byte CSI for many terminals).
 * JSON.stringify already escapes C0 controls and lone surrogates.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

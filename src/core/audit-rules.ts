/**
 * The rules of `sshkit audit` (issue 16): each has a stable id (never renamed: CI suppressions and SARIF
 * baselines key on it), one severity and the rationale a reviewer needs, citing the OpenSSH 9.2 behaviour
 * it follows. The table is data (a Map, in report order), shared by the checks, the text, JSON and SARIF
 * reports and the README.
 */

/** SARIF's `level` names (SARIF 2.1.0 §3.27.10), ordered: `note` < `warning` < `error`. */
export type Severity = 'error' | 'warning' | 'note';

/** Rank of a severity, for `--fail-on` and sorting. */
export const SEVERITY_RANK: ReadonlyMap<Severity, number> = new Map([
  ['note', 1],
  ['warning', 2],
  ['error', 3],
]);

/** One rule: `id` is stable; `summary` is a short title; `rationale` why it matters, as OpenSSH judges it. */
export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly rationale: string;
}

/** One finding. `line` is 1-based, null for a finding about the whole file (its mode, its folders). */
export interface Finding {
  readonly rule: string;
  readonly severity: Severity;
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

const RULE_LIST: readonly Rule[] = [
  {
    id: 'unparsable',
    severity: 'error',
    summary: 'Line or file that cannot be read',
    rationale:
      'sshd (auth2-pubkeyfile.c) and ssh (hostfile.c) skip a line they cannot parse without a word to the user, so a typo silently removes an access or a pinned host key.',
  },
  {
    id: 'unreadable-file',
    severity: 'error',
    summary: 'File that cannot be opened',
    rationale: 'A key file the audit cannot read cannot be vouched for; sshd would deny every key of an unreadable authorized_keys.',
  },
  {
    id: 'dsa-key',
    severity: 'error',
    summary: 'DSA (ssh-dss) key',
    rationale:
      'DSA is fixed at 1024 bits and needs a perfect random number per signature; OpenSSH disabled ssh-dss by default in 7.0 and removed it in 9.8.',
  },
  {
    id: 'rsa-under-2048',
    severity: 'error',
    summary: 'RSA key under 2048 bits',
    rationale: 'Below 2048 bits RSA gives under 112 bits of security (NIST SP 800-57); OpenSSH 9.2 refuses RSA keys under 1024 bits outright.',
  },
  {
    id: 'rsa-under-3072',
    severity: 'warning',
    summary: 'RSA key under 3072 bits',
    rationale: 'NIST SP 800-57 ends 112-bit keys (RSA 2048) in 2030; ssh-keygen has made 3072-bit RSA keys by default since 8.0.',
  },
  {
    id: 'cert-sha1-signature',
    severity: 'error',
    summary: 'Certificate signed with SHA-1 ssh-rsa',
    rationale:
      'SHA-1 signatures are forgeable (chosen-prefix collisions, 2020); OpenSSH 8.2 dropped ssh-rsa from CASignatureAlgorithms, so sshd and ssh refuse such certificates.',
  },
  {
    id: 'cert-bad-signature',
    severity: 'error',
    summary: 'Certificate whose CA signature does not verify',
    rationale: 'cert_parse (sshkey.c) refuses a certificate whose signature fails: it authenticates nothing.',
  },
  {
    id: 'expired',
    severity: 'error',
    summary: 'expiry-time, valid-before or certificate validity in the past',
    rationale: 'The key or certificate no longer works (sshd, ssh-keygen -Y and ssh refuse it): dead entries hide the live ones and should be removed.',
  },
  {
    id: 'expiring',
    severity: 'warning',
    summary: 'Expires within --expiring-within days',
    rationale: 'A certificate or time-limited key about to expire will lock someone out; renew it before it does.',
  },
  {
    id: 'not-yet-valid',
    severity: 'note',
    summary: 'Validity starts in the future',
    rationale: 'A certificate or allowed_signers valid-after in the future is refused until then; usually a clock or a -V typo.',
  },
  {
    id: 'cert-unknown-critical-option',
    severity: 'error',
    summary: 'Certificate with a critical option OpenSSH does not know',
    rationale:
      'PROTOCOL.certkeys: an unrecognised critical option must make the certificate fail. sshd refuses user certificates with options other than force-command, source-address and verify-required; ssh refuses host certificates with any critical option.',
  },
  {
    id: 'cert-no-expiry',
    severity: 'warning',
    summary: 'Certificate valid forever',
    rationale: 'ssh-keygen -s signs "forever" unless -V is given; a stolen certificate then works until its key is put in a KRL.',
  },
  {
    id: 'cert-no-principals',
    severity: 'warning',
    summary: 'Certificate with no principals',
    rationale:
      'ssh (sshconnect.c) accepts a host certificate with no principals for any host name; for a user certificate it depends on where the CA is trusted (sshd refuses it through TrustedUserCAKeys without a principals file). Either way it names no one it is for.',
  },
  {
    id: 'revoked-key',
    severity: 'error',
    summary: 'Key revoked in --revoked but still trusted',
    rationale: 'A revoked key (or a certificate of a revoked key or CA) that is still listed is trusted wherever the revocation list is not deployed.',
  },
  {
    id: 'unsafe-authorized-file',
    severity: 'error',
    summary: 'authorized_keys writable by others, or in a folder that is',
    rationale:
      "sshd's StrictModes (misc.c safe_path) refuses such a file: anyone who can write it or rename it can add a key. Judged as sshd does, from the file up to /, trusting root and the file's owner.",
  },
  {
    id: 'writable-trust-file',
    severity: 'warning',
    summary: 'known_hosts or allowed_signers writable by group or others',
    rationale: 'ssh and ssh-keygen -Y do not check these modes, but whoever can write them can pin a host key or add a signer.',
  },
  {
    id: 'readable-private-key',
    severity: 'error',
    summary: 'Private key readable by group or others',
    rationale: 'ssh and ssh-keygen (sshkey_perm_ok) refuse a private key with any of the 077 mode bits: "UNPROTECTED PRIVATE KEY FILE!".',
  },
  {
    id: 'unencrypted-private-key',
    severity: 'warning',
    summary: 'Private key without a passphrase',
    rationale: 'A copy of the file (backup, image, stolen laptop) is the key itself. Host keys (ssh_host_*_key) are exempt: sshd cannot ask for a passphrase.',
  },
  {
    id: 'pub-mismatch',
    severity: 'warning',
    summary: "FILE.pub does not hold FILE's key",
    rationale: 'ssh offers the key of FILE.pub before it loads FILE, and ssh-keygen -l -f FILE reports FILE.pub: a stale FILE.pub misleads both.',
  },
  {
    id: 'duplicate-key',
    severity: 'warning',
    summary: 'The same key in several places',
    rationale:
      'One key on several authorized_keys lines, on several allowed_signers lines, or in several private key files is a shared or copied key: it cannot be revoked for one user or one host alone. Places of different kinds (a private key and the authorized_keys that lists it) and cert-authority lines are not counted.',
  },
  {
    id: 'shared-host-key',
    severity: 'note',
    summary: 'The same host key under several known_hosts entries',
    rationale: 'Often one host under several names (HashKnownHosts writes one line each), sometimes cloned machines sharing a host key.',
  },
  {
    id: 'unrestricted-root-key',
    severity: 'note',
    summary: "Key in root's authorized_keys without from=, command= or restrict",
    rationale: "A root key usable from anywhere for anything: pin it with from=, a forced command or restrict (files under a root/.ssh folder).",
  },
];

/** Rules by id, in report order. */
export const RULES: ReadonlyMap<string, Rule> = new Map(RULE_LIST.map((r) => [r.id, r]));

/**
 * Control characters as `\xNN`: messages quote bytes of hostile files (markers, key ids, options) and
 * file names may hold anything, but a report stays one line per finding and never drives a terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/** A finding of `rule` at `file:line`; the message is made one safe line ({@link escapeControls}). */
export function finding(rule: string, file: string, line: number | null, message: string): Finding {
  const r = RULES.get(rule);
  if (!r) throw new Error(`unknown audit rule ${rule}`);
  return { rule, severity: r.severity, file, line, message: escapeControls(message) };
}

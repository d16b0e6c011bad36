/** `sshkit-keygen -Y sign|verify|find-principals|check-novalidate|match-principals` (issue 12). Scaffold: filled in by its owner. */
import type { KgArgs, KgIO } from './types.js';

/** ssh-keygen's `-Y` modes (ssh-keygen.c sig_sign/sig_verify/sig_find_principals/sig_match_principals). */
export async function runY(_args: KgArgs, io: KgIO): Promise<number> {
  io.stderr('sshkit-keygen: -Y is not built yet\n');
  return 255;
}

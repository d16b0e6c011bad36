/** sshkit-keygen mode file (issue 12): being built. */
import type { KgArgs, KgIO } from './types.js';
import { unsupported } from './usage.js';
/** stub */
export async function runFingerprint(_a: KgArgs, _io: KgIO): Promise<number> { throw unsupported('runFingerprint'); }
/** stub */
export async function runPrintPublic(_a: KgArgs, _io: KgIO): Promise<number> { throw unsupported('runPrintPublic'); }

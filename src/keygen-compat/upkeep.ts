/** sshkit-keygen mode file (issue 12): being built. */
import type { KgArgs, KgIO } from './types.js';
import { unsupported } from './usage.js';
/** stub */
export async function runPassphrase(_a: KgArgs, _io: KgIO): Promise<number> { throw unsupported('runPassphrase'); }
/** stub */
export async function runComment(_a: KgArgs, _io: KgIO): Promise<number> { throw unsupported('runComment'); }

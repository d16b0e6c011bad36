/** sshkit-keygen mode file (issue 12): being built. */
import type { KgArgs, KgIO } from './types.js';
import { unsupported } from './usage.js';
/** stub */
export async function runGenerate(_a: KgArgs, _io: KgIO): Promise<number> { throw unsupported('runGenerate'); }

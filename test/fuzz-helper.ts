/**
 * Shared knobs for the property/fuzz suites (test/fuzz-*.test.ts, fast-check). `npm test` runs each
 * property a bounded number of times so the whole fuzz budget stays near a minute on 2 cores;
 * `npm run fuzz` sets SSHKIT_FUZZ_SCALE (default 1) to run every property that many times more.
 * A failure prints fast-check's seed and path; rerun it with SSHKIT_FUZZ_SEED=<seed>.
 */
import type { Parameters } from 'fast-check';

const scale = Math.max(1, Number(process.env.SSHKIT_FUZZ_SCALE ?? '1') || 1);
const seed = process.env.SSHKIT_FUZZ_SEED === undefined ? undefined : Number(process.env.SSHKIT_FUZZ_SEED);

/** fast-check parameters for a property that runs `runs` times under `npm test` (× the scale under `npm run fuzz`). */
export function fuzzParams<T>(runs: number, extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns: Math.round(runs * scale), ...(seed === undefined ? {} : { seed }), ...extra };
}

// Deterministic randomness: the same seed gives the same sequence on every machine, so a simulated
// latency profile, failure pattern or jitter sequence can be replayed exactly in a test.
import { createHash } from 'node:crypto';
import type { RandomSource } from './clock.js';

/**
 * mulberry32: a tiny 32-bit generator with a full 2^32 period, plenty for jitter and simulation
 * (never for secrets: tokens and keys come from node:crypto).
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A generator seeded from a seed and any number of labels (connector, operation, idempotency key,
 * call number): each call gets its own stream, so the outcome of one call does not depend on how
 * many other calls ran before it or in which order concurrent calls interleaved.
 */
export function derivedRandom(seed: number, ...labels: readonly string[]): RandomSource {
  const digest = createHash('sha256').update(`${seed}\u0000${labels.join('\u0000')}`).digest();
  return seededRandom(digest.readUInt32BE(0));
}

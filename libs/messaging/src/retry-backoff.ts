/** Exponential backoff between handler attempts. */
export interface Backoff {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** Ceiling of any one delay. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

/** The ceiling of `maxMs`: a consumer must keep heartbeating and stopping within reach. */
export const BACKOFF_MAX_MS_LIMIT = 60_000;

export function assertValidBackoff(backoff: Backoff): void {
  if (!Number.isFinite(backoff.initialMs) || backoff.initialMs < 0) {
    throw new RangeError(`backoff.initialMs must be a non-negative number, got ${backoff.initialMs}`);
  }
  if (!Number.isFinite(backoff.maxMs) || backoff.maxMs < backoff.initialMs || backoff.maxMs > BACKOFF_MAX_MS_LIMIT) {
    throw new RangeError(`backoff.maxMs must be in initialMs..${BACKOFF_MAX_MS_LIMIT}, got ${backoff.maxMs}`);
  }
}

/**
 * The delay before retry number `retry` (1 = the first retry): the ceiling doubles each time
 * (initialMs, 2 x initialMs, ... capped at maxMs) and the delay is drawn uniformly from its upper
 * half ("equal jitter"), so consumers that failed together do not retry in lockstep, yet no delay
 * is shorter than half its ceiling.
 */
export function retryDelayMs(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  // 2 ** 30 already exceeds any allowed ceiling; capping the exponent keeps the number finite.
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(retry - 1, 30));
  const half = ceiling / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}

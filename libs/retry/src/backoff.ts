/**
 * Bounded exponential backoff with jitter: the one formula every retry loop of the platform uses
 * (consumer handler retries, catch-up subscriptions, the outbox relay, connector calls). Each caller
 * bounds its own numbers; this only computes delays.
 */
export interface Backoff {
  /** The ceiling of the first delay, before jitter. */
  initialMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

/** Throws a RangeError naming `name` unless 0 <= initialMs <= maxMs <= maxMsLimit, all finite. */
export function assertValidBackoff(backoff: Backoff, maxMsLimit: number, name = 'backoff'): void {
  if (!Number.isFinite(backoff.initialMs) || backoff.initialMs < 0) {
    throw new RangeError(`${name}.initialMs must be a non-negative number, got ${backoff.initialMs}`);
  }
  if (!Number.isFinite(backoff.maxMs) || backoff.maxMs < backoff.initialMs || backoff.maxMs > maxMsLimit) {
    throw new RangeError(`${name}.maxMs must be in initialMs..${maxMsLimit}, got ${backoff.maxMs}`);
  }
}

/**
 * The delay before retry number `retry` (1 = the first retry, i.e. after one failure): the ceiling
 * doubles each time (initialMs, 2 x initialMs, ... capped at maxMs) and the delay is drawn uniformly
 * from its upper half ("equal jitter"), so callers that failed together do not retry in lockstep,
 * yet no delay is shorter than half its ceiling.
 */
export function retryDelayMs(retry: number, backoff: Backoff, random: () => number = Math.random): number {
  if (!Number.isInteger(retry) || retry < 1) throw new RangeError(`retry must be a positive integer, got ${retry}`);
  // 2 ** 30 already exceeds any sensible ceiling; capping the exponent keeps the number finite.
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(retry - 1, 30));
  const half = ceiling / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}

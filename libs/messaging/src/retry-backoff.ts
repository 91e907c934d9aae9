import { assertValidBackoff as assertBackoffWithin, type Backoff } from '@clearline/retry';

/** Handler retries: the delay before the first retry (before jitter), doubling up to 5 s. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

/** The ceiling of `maxMs`: a consumer must keep heartbeating and stopping within reach. */
export const BACKOFF_MAX_MS_LIMIT = 60_000;

export function assertValidBackoff(backoff: Backoff): void {
  assertBackoffWithin(backoff, BACKOFF_MAX_MS_LIMIT);
}

// When a failed delivery is tried again: the platform's backoff (libs/retry) on the attempt count,
// until the delivery's retry window ends. Pure: time and randomness come in as arguments.
import { assertValidBackoff, retryDelayMs, type Backoff } from '@clearline/retry';

export interface RetrySchedule {
  /** The ceiling of the first retry's delay doubles per attempt, up to backoff.maxMs. */
  backoff: Backoff;
  /** A delivery is retried for this long after its event arrived (or after a manual redelivery). */
  windowMs: number;
}

/** 30 s, 1 min, 2 min ... up to 1 hour between attempts (half to all of each, jittered), for 24 hours: about 30 attempts. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { backoff: { initialMs: 30_000, maxMs: 3_600_000 }, windowMs: 24 * 3_600_000 };
const MAX_RETRY_DELAY_MS = 24 * 3_600_000;

export function assertValidRetrySchedule(schedule: RetrySchedule): void {
  assertValidBackoff(schedule.backoff, MAX_RETRY_DELAY_MS, 'webhook retry backoff');
  if (!Number.isInteger(schedule.windowMs) || schedule.windowMs < 1) throw new RangeError(`webhook retry window must be a positive integer of ms, got ${schedule.windowMs}`);
}

export type AfterFailure = { outcome: 'retry'; nextAttemptAt: Date } | { outcome: 'give_up' };

/**
 * After failed attempt number `attempt` (1 = the first) ending at `now`: the time of the next
 * attempt, or give up when that would fall after `giveUpAt`.
 */
export function afterFailedAttempt(attempt: number, now: Date, giveUpAt: Date, schedule: RetrySchedule, random: () => number = Math.random): AfterFailure {
  const nextAttemptAt = new Date(now.getTime() + retryDelayMs(attempt, schedule.backoff, random));
  return nextAttemptAt.getTime() > giveUpAt.getTime() ? { outcome: 'give_up' } : { outcome: 'retry', nextAttemptAt };
}

/** The last moment a delivery that starts (or is redelivered) at `start` is retried. */
export function giveUpAtFor(start: Date, schedule: RetrySchedule): Date {
  return new Date(start.getTime() + schedule.windowMs);
}

/** A 2xx answer is a delivery; anything else (3xx included: redirects are not followed) is a failure. */
export function isSuccessfulStatus(statusCode: number): boolean {
  return statusCode >= 200 && statusCode < 300;
}

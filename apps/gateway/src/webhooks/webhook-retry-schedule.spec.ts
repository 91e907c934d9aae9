// Proves the retry schedule: libs/retry's doubling backoff per failed attempt, capped, and a give-up
// once the next attempt would fall after the retry window; only 2xx answers count as delivered.
import { afterFailedAttempt, assertValidRetrySchedule, DEFAULT_RETRY_SCHEDULE, giveUpAtFor, isSuccessfulStatus } from './webhook-retry-schedule.js';

const start = new Date('2026-11-27T10:00:00.000Z');
const giveUpAt = giveUpAtFor(start, DEFAULT_RETRY_SCHEDULE);
const at = (ms: number) => new Date(start.getTime() + ms);
/** The top of each jitter range: the delay equals its ceiling. */
const highest = () => 1;

describe('the webhook retry schedule', () => {
  it('gives up 24 hours after the start by default', () => {
    expect(giveUpAt.toISOString()).toBe('2026-11-28T10:00:00.000Z');
  });

  it('doubles the delay per failed attempt from 30 s, up to one hour', () => {
    const delays = [1, 2, 3, 4, 8, 20].map((attempt) => {
      const next = afterFailedAttempt(attempt, start, giveUpAt, DEFAULT_RETRY_SCHEDULE, highest);
      if (next.outcome !== 'retry') throw new Error('expected a retry');
      return next.nextAttemptAt.getTime() - start.getTime();
    });
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000]);
  });

  it('jitters each delay within the upper half of its ceiling', () => {
    const next = afterFailedAttempt(3, start, giveUpAt, DEFAULT_RETRY_SCHEDULE, () => 0);
    expect(next).toEqual({ outcome: 'retry', nextAttemptAt: at(60_000) });
  });

  it('gives up when the next attempt would come after the window', () => {
    expect(afterFailedAttempt(25, at(24 * 3_600_000 - 1_000), giveUpAt, DEFAULT_RETRY_SCHEDULE, highest)).toEqual({ outcome: 'give_up' });
    expect(afterFailedAttempt(25, at(23 * 3_600_000), giveUpAt, DEFAULT_RETRY_SCHEDULE, highest)).toEqual({ outcome: 'retry', nextAttemptAt: at(24 * 3_600_000) });
  });

  it('makes about 30 attempts in 24 hours of failures', () => {
    let now = start;
    let attempts = 1;
    for (;;) {
      const next = afterFailedAttempt(attempts, now, giveUpAt, DEFAULT_RETRY_SCHEDULE, highest);
      if (next.outcome === 'give_up') break;
      now = next.nextAttemptAt;
      attempts += 1;
    }
    expect(attempts).toBeGreaterThanOrEqual(28);
    expect(attempts).toBeLessThanOrEqual(32);
  });

  it('counts 2xx answers only as delivered', () => {
    expect([200, 201, 204, 299].every(isSuccessfulStatus)).toBe(true);
    expect([199, 301, 302, 400, 410, 500, 503].some(isSuccessfulStatus)).toBe(false);
  });

  it('refuses a schedule whose ceiling is below its base', () => {
    expect(() => assertValidRetrySchedule({ backoff: { initialMs: 1_000, maxMs: 10 }, windowMs: 1_000 })).toThrow(RangeError);
    expect(() => assertValidRetrySchedule({ backoff: { initialMs: 1_000, maxMs: 1_000 }, windowMs: 0 })).toThrow(RangeError);
  });
});

// Proves the retry delays stay within their bounds: half to all of a ceiling that doubles from
// initialMs and never exceeds maxMs, whatever the random source says, for any retry number.
import fc from 'fast-check';
import { assertValidBackoff, retryDelayMs } from './backoff.js';

const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 5_000 };
const MAX_MS_LIMIT = 60_000;

describe('retryDelayMs', () => {
  it('doubles the ceiling per retry from initialMs up to maxMs', () => {
    const highest = () => 1;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((retry) => retryDelayMs(retry, DEFAULT_BACKOFF, highest))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000,
    ]);
  });

  it('never goes below half the ceiling', () => {
    const lowest = () => 0;
    expect([1, 2, 3, 7].map((retry) => retryDelayMs(retry, DEFAULT_BACKOFF, lowest))).toEqual([50, 100, 200, 2_500]);
  });

  it('stays within [ceiling / 2, ceiling] and under maxMs for any retry and random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: -1, max: 2, noNaN: true }),
        (retry, initialMs, extraMs, random) => {
          const backoff = { initialMs, maxMs: Math.min(60_000, initialMs + extraMs) };
          const delay = retryDelayMs(retry, backoff, () => random);
          const ceiling = Math.min(backoff.maxMs, initialMs * 2 ** Math.min(retry - 1, 30));
          expect(Number.isFinite(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(delay).toBeLessThanOrEqual(backoff.maxMs);
        },
      ),
    );
  });

  it('rejects a retry number below 1', () => {
    expect(() => retryDelayMs(0, DEFAULT_BACKOFF)).toThrow(RangeError);
  });
});

describe('assertValidBackoff', () => {
  it('accepts the default and rejects negative, inverted or unbounded settings', () => {
    expect(() => assertValidBackoff(DEFAULT_BACKOFF, MAX_MS_LIMIT)).not.toThrow();
    expect(() => assertValidBackoff({ initialMs: -1, maxMs: 10 }, MAX_MS_LIMIT)).toThrow(RangeError);
    expect(() => assertValidBackoff({ initialMs: 100, maxMs: 50 }, MAX_MS_LIMIT)).toThrow(RangeError);
    expect(() => assertValidBackoff({ initialMs: 100, maxMs: 3_600_000 }, MAX_MS_LIMIT)).toThrow(RangeError);
  });
});

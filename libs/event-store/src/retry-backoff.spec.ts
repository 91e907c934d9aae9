// Proves the retry backoff is exponential, jittered between half and all of its step, and bounded.
import { backoffDelayMs } from './retry-backoff.js';

const options = { initialDelayMs: 100, maxDelayMs: 5_000 };

describe('backoffDelayMs', () => {
  it('doubles per consecutive failure', () => {
    const highest = (failures: number) => backoffDelayMs(failures, options, () => 1);
    expect([1, 2, 3, 4].map(highest)).toEqual([100, 200, 400, 800]);
  });

  it('jitters between half and all of the step', () => {
    expect(backoffDelayMs(3, options, () => 0)).toBe(200);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(300);
  });

  it('never exceeds the maximum, however many failures', () => {
    for (const failures of [10, 100, 10_000]) expect(backoffDelayMs(failures, options, () => 1)).toBe(5_000);
  });
});

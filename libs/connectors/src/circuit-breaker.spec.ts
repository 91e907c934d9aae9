// Proves the breaker's transitions: closed -> open on consecutive failures or on a failure rate,
// open refuses until the cool-down, half-open lets a bounded number of probes through and closes on
// their success or reopens on a failure, and a late answer from an older state moves nothing.
import { CircuitBreaker, resolveBreakerOptions, type BreakerTransition, type CircuitBreakerOptions } from './circuit-breaker.js';
import { ManualClock } from './manual-clock.js';

function breaker(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = new ManualClock();
  const transitions: BreakerTransition[] = [];
  const subject = new CircuitBreaker('card-a', { failureRate: null, ...options }, clock, (transition) => transitions.push(transition));
  const fail = (times = 1) => {
    for (let index = 0; index < times; index++) subject.tryAcquire()!.fail();
  };
  const succeed = (times = 1) => {
    for (let index = 0; index < times; index++) subject.tryAcquire()!.succeed();
  };
  return { clock, subject, transitions, fail, succeed };
}

describe('CircuitBreaker', () => {
  describe('when closed', () => {
    it('stays closed below the consecutive-failure threshold, and a success resets the count', () => {
      const { subject, fail, succeed } = breaker({ consecutiveFailuresToOpen: 3 });
      fail(2);
      succeed();
      fail(2);
      expect(subject.state).toBe('closed');
      expect(subject.snapshot().consecutiveFailures).toBe(2);
    });

    it('opens at the consecutive-failure threshold and says why', () => {
      const { subject, fail, transitions, clock } = breaker({ consecutiveFailuresToOpen: 3 });
      fail(3);
      expect(subject.state).toBe('open');
      expect(transitions).toEqual([{ connectorId: 'card-a', from: 'closed', to: 'open', reason: 'consecutive_failures', atMs: clock.now() }]);
    });

    it('opens on the failure rate over its window once the window has enough calls', () => {
      const { subject, fail, succeed, transitions } = breaker({
        consecutiveFailuresToOpen: 100,
        failureRate: { thresholdPercent: 50, windowSize: 10, minimumCalls: 6 },
      });
      // Alternating failures never trip the consecutive threshold; the rate catches them.
      fail();
      succeed();
      fail();
      succeed();
      fail();
      expect(subject.state).toBe('closed'); // 3 of 5: below minimumCalls
      succeed();
      expect(subject.state).toBe('closed'); // 3 of 6 but the last call succeeded: rates are checked on failures
      fail();
      expect(subject.state).toBe('open'); // 4 of 7 >= 50 %
      expect(transitions.at(-1)?.reason).toBe('failure_rate');
    });

    it('forgets outcomes that slid out of the window', () => {
      const { subject, fail, succeed } = breaker({
        consecutiveFailuresToOpen: 100,
        failureRate: { thresholdPercent: 50, windowSize: 4, minimumCalls: 4 },
      });
      fail();
      succeed(3);
      fail(); // window: S S S F -> 25 %
      expect(subject.snapshot()).toMatchObject({ windowCalls: 4, windowFailures: 1, state: 'closed' });
    });
  });

  describe('when open', () => {
    it('refuses every call until the cool-down has elapsed, then reads half-open', async () => {
      const { subject, fail, clock, transitions } = breaker({ consecutiveFailuresToOpen: 1, openDurationMs: 30_000 });
      fail();
      expect(subject.tryAcquire()).toBeNull();
      expect(subject.snapshot().halfOpenAtMs).toBe(clock.now() + 30_000);
      await clock.advanceBy(29_999);
      expect(subject.tryAcquire()).toBeNull();
      await clock.advanceBy(1);
      expect(subject.state).toBe('half_open');
      expect(transitions.map((transition) => transition.reason)).toEqual(['consecutive_failures', 'cool_down_elapsed']);
    });
  });

  describe('when half-open', () => {
    async function halfOpen(options: Partial<CircuitBreakerOptions> = {}) {
      const context = breaker({ consecutiveFailuresToOpen: 1, openDurationMs: 1_000, ...options });
      context.fail();
      await context.clock.advanceBy(1_000);
      return context;
    }

    it('lets only halfOpenMaxProbes calls through at once', async () => {
      const { subject } = await halfOpen({ halfOpenMaxProbes: 2 });
      const first = subject.tryAcquire();
      const second = subject.tryAcquire();
      expect(first).not.toBeNull();
      expect(second).not.toBeNull();
      expect(subject.tryAcquire()).toBeNull();
      second!.release(); // an aborted probe frees its slot without counting
      expect(subject.tryAcquire()).not.toBeNull();
      expect(subject.state).toBe('half_open');
    });

    it('closes after halfOpenSuccessesToClose successful probes, with a clean slate', async () => {
      const { subject, succeed, transitions } = await halfOpen({ halfOpenSuccessesToClose: 2 });
      succeed();
      expect(subject.state).toBe('half_open');
      succeed();
      expect(subject.state).toBe('closed');
      expect(subject.snapshot()).toMatchObject({ consecutiveFailures: 0, windowCalls: 0, timesOpened: 1 });
      expect(transitions.at(-1)).toMatchObject({ from: 'half_open', to: 'closed', reason: 'probes_succeeded' });
    });

    it('reopens on a failed probe and starts a new cool-down', async () => {
      const { subject, fail, clock } = await halfOpen();
      fail();
      expect(subject.state).toBe('open');
      expect(subject.snapshot()).toMatchObject({ openedAtMs: clock.now(), timesOpened: 2 });
    });
  });

  it('ignores the answer of a call that started in an earlier state', async () => {
    const { subject, fail, clock } = breaker({ consecutiveFailuresToOpen: 2, openDurationMs: 1_000 });
    const slowCall = subject.tryAcquire()!; // started while closed
    fail(2);
    await clock.advanceBy(1_000);
    expect(subject.state).toBe('half_open');
    slowCall.succeed(); // must not close the breaker: it says nothing about the provider now
    expect(subject.state).toBe('half_open');
  });

  it('counts a permit once, whatever the caller reports afterwards', () => {
    const { subject } = breaker({ consecutiveFailuresToOpen: 2 });
    const permit = subject.tryAcquire()!;
    permit.fail();
    permit.fail();
    permit.succeed();
    expect(subject.snapshot().consecutiveFailures).toBe(1);
  });

  it('survives an observer that throws', () => {
    const clock = new ManualClock();
    const subject = new CircuitBreaker('card-a', { consecutiveFailuresToOpen: 1 }, clock, () => {
      throw new Error('metrics exporter broke');
    });
    expect(() => subject.tryAcquire()!.fail()).not.toThrow();
    expect(subject.state).toBe('open');
  });

  it('exposes a numeric state for gauges', () => {
    const { subject, fail } = breaker({ consecutiveFailuresToOpen: 1 });
    expect(subject.snapshot().stateValue).toBe(0);
    fail();
    expect(subject.snapshot()).toMatchObject({ state: 'open', stateValue: 2 });
  });

  it('refuses unbounded or nonsensical options', () => {
    expect(() => resolveBreakerOptions({ consecutiveFailuresToOpen: 0 })).toThrow(RangeError);
    expect(() => resolveBreakerOptions({ openDurationMs: 3_600_000 })).toThrow(/openDurationMs/);
    expect(() => resolveBreakerOptions({ failureRate: { thresholdPercent: 50, windowSize: 5, minimumCalls: 6 } })).toThrow(/minimumCalls/);
    expect(() => resolveBreakerOptions({ halfOpenMaxProbes: 1.5 })).toThrow(RangeError);
  });
});

// Proves the bounds around one connector: retries only retryable failures, at most maxAttempts
// times, with backoff between them (same idempotency key each time); a hung call ends at the
// attempt timeout; a thrown adapter error is a retryable unknown outcome; the deadline, the breaker
// and the in-flight cap stop calls; every attempt is reported with its latency.
import { ConnectorFailureCodes, approved, declined, failed } from './connector.js';
import { cardAuthorization, scriptedConnector, type ScriptedAnswer } from './connectors.test-kit.js';
import { ManualClock } from './manual-clock.js';
import { ResilientConnector, type ConnectorAttempt, type ResilienceOptions } from './resilient-connector.js';
import { backoffDelayMs, resolveRetryPolicy } from './retry-policy.js';

const lowestJitter = () => 0;

function subject(script: readonly ScriptedAnswer[], options: Partial<ResilienceOptions> = {}) {
  const clock = new ManualClock();
  const provider = scriptedConnector('card-a', 'card', clock, script);
  const resilient = new ResilientConnector(provider, { retry: { maxAttempts: 3, backoff: { initialMs: 100, maxMs: 1_000 } }, ...options }, { clock, random: lowestJitter });
  const observed: ConnectorAttempt[] = [];
  const run = (deadlineMs = clock.now() + 60_000) =>
    clock.run(resilient.execute('authorize', cardAuthorization(1000n), { deadlineMs, onAttempt: (attempt) => observed.push(attempt) }));
  return { clock, provider, resilient, observed, run };
}

describe('ResilientConnector', () => {
  it('returns an approval at once, with one attempt and its latency', async () => {
    const { run, observed } = subject([approved('auth-1')]);
    const { result, attempts } = await run();
    expect(result).toEqual(approved('auth-1'));
    expect(attempts).toEqual([
      expect.objectContaining({ connectorId: 'card-a', rail: 'card', operation: 'authorize', attempt: 1, latencyMs: 10, outcome: 'approved', code: null, reference: 'auth-1' }),
    ]);
    expect(observed).toEqual(attempts);
  });

  it('retries a retryable failure with the same idempotency key and backoff in between', async () => {
    const { run, provider } = subject([failed('issuer_unavailable', true), failed('issuer_unavailable', true), approved('auth-1')]);
    const { result, attempts } = await run();
    expect(result).toEqual(approved('auth-1'));
    expect(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.code])).toEqual([
      [1, 'failed', 'issuer_unavailable'],
      [2, 'failed', 'issuer_unavailable'],
      [3, 'approved', null],
    ]);
    expect(new Set(provider.calls.map((call) => call.idempotencyKey))).toEqual(new Set(['pay-1:authorize']));
    // Lowest jitter: half of 100 ms, then half of 200 ms, after each 10 ms call.
    expect(attempts[1]!.startedAtMs - attempts[0]!.startedAtMs).toBe(10 + 50);
    expect(attempts[2]!.startedAtMs - attempts[1]!.startedAtMs).toBe(10 + 100);
  });

  it('stops after maxAttempts and answers the last failure', async () => {
    const { run, provider } = subject([failed('system_malfunction', true)]);
    const { result, attempts } = await run();
    expect(result).toEqual(failed('system_malfunction', true));
    expect(attempts).toHaveLength(3);
    expect(provider.calls).toHaveLength(3);
  });

  it.each([
    ['a decline', declined('insufficient_funds')],
    ['a non-retryable failure', failed('invalid_request', false)],
  ])('never retries %s', async (_name, answer) => {
    const { run, provider } = subject([answer, approved('never')]);
    const { result } = await run();
    expect(result).toEqual(answer);
    expect(provider.calls).toHaveLength(1);
  });

  it('ends a hung call at the attempt timeout as a retryable connector_timeout', async () => {
    const { run, clock } = subject([{ hang: true }, approved('auth-1')], { attemptTimeoutMs: 2_000 });
    const started = clock.now();
    const { result, attempts } = await run();
    expect(attempts[0]).toMatchObject({ outcome: 'failed', code: ConnectorFailureCodes.timeout, retryable: true, latencyMs: 2_000 });
    expect(result).toEqual(approved('auth-1'));
    expect(clock.now() - started).toBe(2_000 + 50 + 10);
    expect(clock.pendingTimers).toBe(0); // the hung call's sleep was aborted, not left behind
  });

  it('turns a thrown adapter error into a retryable connector_error without its message', async () => {
    const { run } = subject([{ throws: new Error('socket hang up for card 4242424242424242') }, approved('auth-1')]);
    const { result, attempts } = await run();
    expect(attempts[0]).toMatchObject({ outcome: 'failed', code: ConnectorFailureCodes.adapterError, retryable: true });
    expect(JSON.stringify(attempts)).not.toContain('4242');
    expect(result).toEqual(approved('auth-1'));
  });

  it('does not start an attempt or a backoff past the deadline, and caps the timeout to what is left', async () => {
    const { run, clock, provider } = subject([{ hang: true }], { attemptTimeoutMs: 2_000 });
    const { result, attempts } = await run(clock.now() + 1_500);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.latencyMs).toBe(1_500);
    expect(result).toEqual(failed(ConnectorFailureCodes.timeout, true));
    expect(provider.calls).toHaveLength(1);
  });

  it('skips the call when the breaker is open and records the skip', async () => {
    const { run, provider, resilient } = subject([failed('down', true)], { breaker: { consecutiveFailuresToOpen: 2, failureRate: null } });
    const first = await run();
    expect(first.attempts.map((attempt) => attempt.outcome)).toEqual(['failed', 'failed', 'skipped']);
    expect(first.result).toEqual(failed(ConnectorFailureCodes.circuitOpen, true));
    expect(resilient.breaker.state).toBe('open');
    const second = await run();
    expect(second.attempts).toEqual([expect.objectContaining({ outcome: 'skipped', code: 'circuit_open', attempt: 1, latencyMs: 0 })]);
    expect(provider.calls).toHaveLength(2);
  });

  it('counts a decline as a healthy answer for the breaker', async () => {
    const { run, resilient } = subject([declined('do_not_honor')], { breaker: { consecutiveFailuresToOpen: 1, failureRate: null } });
    await run();
    await run();
    expect(resilient.breaker.state).toBe('closed');
  });

  it('caps the calls in flight and skips the rest as connector_busy', async () => {
    const clock = new ManualClock();
    const provider = scriptedConnector('card-a', 'card', clock, [approved('auth-1')], 100);
    const resilient = new ResilientConnector(provider, { maxInFlight: 1 }, { clock, random: lowestJitter });
    const context = { deadlineMs: clock.now() + 10_000 };
    const first = resilient.execute('authorize', cardAuthorization(1000n, 'key-1'), context);
    const second = resilient.execute('authorize', cardAuthorization(1000n, 'key-2'), context);
    const [one, two] = await clock.run(Promise.all([first, second]));
    expect(one.result).toEqual(approved('auth-1'));
    expect(two.result).toEqual(failed(ConnectorFailureCodes.saturated, true));
    expect(resilient.inFlight).toBe(0);
  });

  it('stops when the caller aborts', async () => {
    const clock = new ManualClock();
    const provider = scriptedConnector('card-a', 'card', clock, [{ hang: true }]);
    const resilient = new ResilientConnector(provider, {}, { clock, random: lowestJitter });
    const controller = new AbortController();
    const pending = resilient.execute('authorize', cardAuthorization(1000n), { deadlineMs: clock.now() + 10_000, signal: controller.signal });
    await clock.advanceBy(500);
    controller.abort(new Error('shutting down'));
    const { result, attempts } = await clock.run(pending);
    expect(result).toEqual(failed(ConnectorFailureCodes.aborted, true));
    expect(attempts).toHaveLength(1);
    expect(resilient.breaker.snapshot().consecutiveFailures).toBe(0); // an abort says nothing about the provider
  });
});

describe('retry policy', () => {
  it('bounds attempts and backoff', () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ maxAttempts: 11 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ backoff: { initialMs: 100, maxMs: 60_000 } })).toThrow(/backoff/);
    expect(() => resolveRetryPolicy({ backoff: { initialMs: 500, maxMs: 100 } })).toThrow(/backoff/);
  });

  it('delays double from initialMs up to maxMs, jittered within the upper half', () => {
    const policy = resolveRetryPolicy({ backoff: { initialMs: 100, maxMs: 1_000 } });
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, policy, () => 0.999_999))).toEqual([100, 200, 400, 800, 1_000]);
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, policy, () => 0))).toEqual([50, 100, 200, 400, 500]);
  });
});

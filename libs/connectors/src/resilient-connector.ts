// One connector wrapped in its resilience: a circuit breaker, a cap on calls in flight, a timeout
// per attempt, and bounded retries with backoff for retryable failures only. Every attempt (and
// every call the breaker refused) becomes a ConnectorAttempt the payments service records as an event.
import { assertValidAttemptTimeout, callWithTimeout, type TimedResult } from './attempt-timeout.js';
import { CircuitBreaker, type BreakerPermit, type BreakerTransition, type CircuitBreakerOptions } from './circuit-breaker.js';
import type { Clock, RandomSource } from './clock.js';
import {
  ConnectorFailureCodes,
  failed,
  type Connector,
  type ConnectorOperation,
  type ConnectorRail,
  type ConnectorRequests,
  type ConnectorResult,
} from './connector.js';
import { backoffDelayMs, resolveRetryPolicy, type RetryPolicy } from './retry-policy.js';

/**
 * One call of a connector, or one call that was not made (`skipped`: breaker open or too many in
 * flight). `attempt` counts calls of this connector for this request, from 1.
 */
export interface ConnectorAttempt {
  readonly connectorId: string;
  readonly rail: ConnectorRail;
  readonly operation: ConnectorOperation;
  readonly attempt: number;
  readonly startedAtMs: number;
  readonly latencyMs: number;
  readonly outcome: 'approved' | 'declined' | 'failed' | 'skipped';
  /** The provider's decline code or a failure code; null when approved. */
  readonly code: string | null;
  /** For `failed` and `skipped`: whether trying again may help; null otherwise. */
  readonly retryable: boolean | null;
  /** The provider's reference when approved; null otherwise. */
  readonly reference: string | null;
}

export interface ResilienceOptions {
  /** Per-attempt timeout; the payments design says 2 s. */
  readonly attemptTimeoutMs: number;
  readonly retry: Partial<RetryPolicy>;
  readonly breaker: Partial<CircuitBreakerOptions>;
  /** Calls of this connector in flight at once, over all requests; more are skipped like an open breaker. */
  readonly maxInFlight: number;
}

export const DEFAULT_RESILIENCE_OPTIONS: ResilienceOptions = { attemptTimeoutMs: 2_000, retry: {}, breaker: {}, maxInFlight: 100 };

const MAX_IN_FLIGHT_LIMIT = 10_000;

export interface ResilientConnectorDependencies {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly onBreakerTransition?: (transition: BreakerTransition) => void;
}

export interface ExecuteContext {
  /** Epoch ms after which no new attempt starts and no attempt runs past. */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
  /** Told about every attempt as soon as it ends; the returned list is the authoritative record. */
  readonly onAttempt?: (attempt: ConnectorAttempt) => void;
}

export interface ExecuteResult {
  readonly result: ConnectorResult;
  readonly attempts: readonly ConnectorAttempt[];
}

export class ResilientConnector {
  readonly breaker: CircuitBreaker;
  readonly retry: RetryPolicy;
  readonly attemptTimeoutMs: number;
  readonly maxInFlight: number;
  #inFlight = 0;

  constructor(
    readonly connector: Connector,
    options: Partial<ResilienceOptions>,
    private readonly dependencies: ResilientConnectorDependencies,
  ) {
    const resolved = { ...DEFAULT_RESILIENCE_OPTIONS, ...options };
    assertValidAttemptTimeout(resolved.attemptTimeoutMs);
    if (!Number.isInteger(resolved.maxInFlight) || resolved.maxInFlight < 1 || resolved.maxInFlight > MAX_IN_FLIGHT_LIMIT) {
      throw new RangeError(`maxInFlight must be an integer in 1..${MAX_IN_FLIGHT_LIMIT}, got ${resolved.maxInFlight}`);
    }
    this.attemptTimeoutMs = resolved.attemptTimeoutMs;
    this.maxInFlight = resolved.maxInFlight;
    this.retry = resolveRetryPolicy(resolved.retry);
    this.breaker = new CircuitBreaker(connector.id, resolved.breaker, dependencies.clock, dependencies.onBreakerTransition);
  }

  get id(): string {
    return this.connector.id;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls the connector until it answers finally, fails non-retryably, or the attempts, breaker or deadline say stop. */
  async execute<O extends ConnectorOperation>(operation: O, request: ConnectorRequests[O], context: ExecuteContext): Promise<ExecuteResult> {
    const { clock } = this.dependencies;
    const attempts: ConnectorAttempt[] = [];
    const report = (attempt: ConnectorAttempt): void => {
      attempts.push(attempt);
      notify(context.onAttempt, attempt);
    };
    let last: ConnectorResult = failed(ConnectorFailureCodes.unavailable, true);
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      if (context.signal?.aborted) return { result: failed(ConnectorFailureCodes.aborted, true), attempts };
      const remainingMs = context.deadlineMs - clock.now();
      if (remainingMs <= 0) return { result: last, attempts };

      const saturated = this.#inFlight >= this.maxInFlight;
      const permit = saturated ? null : this.breaker.tryAcquire();
      if (permit === null) {
        const result = failed(saturated ? ConnectorFailureCodes.saturated : ConnectorFailureCodes.circuitOpen, true);
        report(this.#record(operation, attempt, clock.now(), 0, result, 'skipped'));
        return { result, attempts };
      }
      const startedAtMs = clock.now();
      const timed = await this.#attempt(operation, request, Math.min(this.attemptTimeoutMs, remainingMs), permit, context.signal);
      last = timed.result;
      report(this.#record(operation, attempt, startedAtMs, timed.latencyMs, last));
      if (!(last.outcome === 'failed' && last.retryable) || attempt === this.retry.maxAttempts) return { result: last, attempts };

      const delayMs = backoffDelayMs(attempt, this.retry, this.dependencies.random);
      if (clock.now() + delayMs >= context.deadlineMs) return { result: last, attempts };
      try {
        await clock.sleep(delayMs, context.signal);
      } catch {
        return { result: failed(ConnectorFailureCodes.aborted, true), attempts };
      }
    }
    return { result: last, attempts };
  }

  async #attempt<O extends ConnectorOperation>(
    operation: O,
    request: ConnectorRequests[O],
    timeoutMs: number,
    permit: BreakerPermit,
    signal: AbortSignal | undefined,
  ): Promise<TimedResult> {
    this.#inFlight += 1;
    try {
      const timed = await callWithTimeout(this.connector, operation, request, timeoutMs, this.dependencies.clock, signal);
      settlePermit(permit, timed.result);
      return timed;
    } finally {
      this.#inFlight -= 1;
      // Whatever happened above, the permit must not stay open or a half-open probe slot leaks.
      permit.release();
    }
  }

  #record(
    operation: ConnectorOperation,
    attempt: number,
    startedAtMs: number,
    latencyMs: number,
    result: ConnectorResult,
    skipped?: 'skipped',
  ): ConnectorAttempt {
    return {
      connectorId: this.connector.id,
      rail: this.connector.rail,
      operation,
      attempt,
      startedAtMs,
      latencyMs,
      outcome: skipped ?? result.outcome,
      code: result.outcome === 'approved' ? null : result.code,
      retryable: result.outcome === 'failed' ? result.retryable : null,
      reference: result.outcome === 'approved' ? result.reference : null,
    };
  }
}

/**
 * What an answer says about the provider's health: a retryable failure (timeout, outage, adapter
 * error) counts against it; an approval, a decline or a non-retryable failure (the provider
 * answered, the request was at fault) counts for it; a caller's abort says nothing.
 */
function settlePermit(permit: BreakerPermit, result: ConnectorResult): void {
  if (result.outcome === 'failed' && result.code === ConnectorFailureCodes.aborted) permit.release();
  else if (result.outcome === 'failed' && result.retryable) permit.fail();
  else permit.succeed();
}

/** Observers must not turn an answer into an error: a throwing callback is ignored. */
export function notify<T>(observer: ((value: T) => void) | undefined, value: T): void {
  if (observer === undefined) return;
  try {
    observer(value);
  } catch {
    // Deliberately ignored: the returned attempt list still carries the record.
  }
}

// How often and how patiently one connector is retried for a retryable failure. The delay formula
// is @clearline/retry's (exponential, capped, equal jitter), shared by every retry loop.
import { retryDelayMs, type Backoff } from '@clearline/retry';
import type { RandomSource } from './clock.js';

export interface RetryPolicy {
  /** Calls of one connector for one request, the first included (1 = no retry). */
  readonly maxAttempts: number;
  /** Delay before retry n: drawn from [c/2, c] with c = min(maxMs, initialMs * 2^(n-1)). */
  readonly backoff: Backoff;
}

/** Three attempts within about a second of backoff: within the payment's per-step timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 3, backoff: { initialMs: 100, maxMs: 2_000 } };

/** Beyond these a retry loop stops being resilience and starts being a queue. */
const MAX_ATTEMPTS_LIMIT = 10;
const MAX_BACKOFF_MS_LIMIT = 30_000;

export function resolveRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new RangeError(`retry maxAttempts must be an integer in 1..${MAX_ATTEMPTS_LIMIT}, got ${policy.maxAttempts}`);
  }
  const { initialMs, maxMs } = policy.backoff;
  if (!Number.isInteger(initialMs) || initialMs < 0 || !Number.isInteger(maxMs) || maxMs < initialMs || maxMs > MAX_BACKOFF_MS_LIMIT) {
    throw new RangeError(`retry backoff must have integers 0 <= initialMs <= maxMs <= ${MAX_BACKOFF_MS_LIMIT}, got ${initialMs} and ${maxMs}`);
  }
  return policy;
}

/** The wait before retry number `retry` (1 = the first retry). */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: RandomSource): number {
  return retryDelayMs(retry, policy.backoff, random);
}

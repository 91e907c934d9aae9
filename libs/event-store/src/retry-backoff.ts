export interface BackoffOptions {
  /** Delay after the first failure. */
  initialDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
}

/**
 * Bounded exponential backoff with jitter: after the n-th consecutive failure, wait between half
 * and all of min(maxDelayMs, initialDelayMs * 2^(n-1)). The jitter keeps replicas that failed
 * together from retrying together.
 */
export function backoffDelayMs(consecutiveFailures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(consecutiveFailures, 1) - 1, 30);
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

// Time as a dependency. Breakers, retries, timeouts and simulators read the time and wait only
// through a Clock, so tests run them on virtual time (ManualClock) without real sleeps.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `delayMs`; rejects with the signal's reason as soon as `signal` aborts. */
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (delayMs, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, delayMs));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A source of uniform numbers in [0, 1): Math.random in production, a seeded generator in tests. */
export type RandomSource = () => number;

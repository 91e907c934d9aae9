// Virtual time for tests (here and in the services that use this library): sleeps wait until the
// test moves the clock, so a scenario with 2-second timeouts and 30-second cool-downs runs in
// milliseconds and always interleaves the same way.
import type { Clock } from './clock.js';

interface Timer {
  readonly dueMs: number;
  readonly sequence: number;
  readonly resolve: () => void;
}

/** Bound on clock jumps in `run`, so a scenario that keeps scheduling timers fails instead of spinning. */
const DEFAULT_MAX_STEPS = 100_000;

const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  #nowMs: number;
  #sequence = 0;
  // Kept sorted by (dueMs, sequence): timers due at the same time fire in the order they were set.
  #timers: Timer[] = [];

  constructor(startMs: number = Date.UTC(2026, 10, 27, 12, 0, 0)) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  /** Number of sleeps still waiting. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        dueMs: this.#nowMs + Math.max(0, delayMs),
        sequence: this.#sequence++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#timers = this.#timers.filter((candidate) => candidate !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#insert(timer);
    });
  }

  /** Moves time forward by `deltaMs`, firing every timer due on the way, in order. */
  async advanceBy(deltaMs: number): Promise<void> {
    const targetMs = this.#nowMs + deltaMs;
    await flushMicrotasks();
    for (let next = this.#timers[0]; next !== undefined && next.dueMs <= targetMs; next = this.#timers[0]) {
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      this.#fireDue();
      await flushMicrotasks();
    }
    this.#nowMs = Math.max(this.#nowMs, targetMs);
  }

  /**
   * Lets `promise` run to completion on virtual time: whenever it is waiting, jumps to the next
   * timer. Fails if it waits on anything but this clock (nothing would ever wake it up).
   */
  async run<T>(promise: Promise<T>, maxSteps: number = DEFAULT_MAX_STEPS): Promise<T> {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let step = 0; step < maxSteps; step++) {
      await flushMicrotasks();
      if (settled) return promise;
      const next = this.#timers[0];
      if (next === undefined) {
        throw new Error('ManualClock.run: the promise is pending but no timer is set, so it waits on something other than this clock');
      }
      this.#nowMs = Math.max(this.#nowMs, next.dueMs);
      this.#fireDue();
    }
    throw new Error(`ManualClock.run: still pending after ${maxSteps} clock jumps`);
  }

  #insert(timer: Timer): void {
    const index = this.#timers.findIndex(
      (other) => other.dueMs > timer.dueMs || (other.dueMs === timer.dueMs && other.sequence > timer.sequence),
    );
    if (index === -1) this.#timers.push(timer);
    else this.#timers.splice(index, 0, timer);
  }

  #fireDue(): void {
    while (this.#timers[0] !== undefined && this.#timers[0].dueMs <= this.#nowMs) {
      this.#timers.shift()!.resolve();
    }
  }
}

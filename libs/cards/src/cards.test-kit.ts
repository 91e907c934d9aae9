// Test helpers for this library's specs: a clock the test moves by hand, and an in-memory stand-in
// for the few Redis commands the vault uses.
import type { CardClock } from './card-vault.js';
export { inMemoryVaultRedis as inMemoryRedis } from './in-memory-vault-redis.js';

/** Time that moves only when the test says so (the vault reads it for expiry checks and TTLs). */
export class TestClock implements CardClock {
  #nowMs: number;

  constructor(startMs: number = Date.UTC(2026, 10, 27, 12, 0, 0)) {
    this.#nowMs = startMs;
  }

  now(): number {
    return this.#nowMs;
  }

  async advanceBy(deltaMs: number): Promise<void> {
    this.#nowMs += deltaMs;
  }
}

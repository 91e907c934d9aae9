// Test helpers for this library's specs: a clock the test moves by hand, and an in-memory stand-in
// for the few Redis commands the vault uses.
import type { CardClock, CardVaultRedis } from './card-vault.js';

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

/** GET / SET (PX, NX, XX) / DEL / PTTL over a Map, with expiry on a clock: enough for the vault's unit tests. */
export function inMemoryRedis(clock: CardClock): CardVaultRedis & { entries: Map<string, { value: string; expiresAtMs: number }> } {
  const entries = new Map<string, { value: string; expiresAtMs: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expiresAtMs <= clock.now()) entries.delete(key);
    return entries.get(key);
  };
  const fake = {
    entries,
    get: async (key: string) => live(key)?.value ?? null,
    set: async (key: string, value: string, _px: 'PX', ttlMs: number, condition: 'NX' | 'XX') => {
      const exists = live(key) !== undefined;
      if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) return null;
      entries.set(key, { value, expiresAtMs: clock.now() + Number(ttlMs) });
      return 'OK';
    },
    del: async (key: string) => (entries.delete(key) ? 1 : 0),
    pttl: async (key: string) => {
      const entry = live(key);
      return entry === undefined ? -2 : entry.expiresAtMs - clock.now();
    },
  };
  // The cast narrows ioredis's overloaded signatures to the ones the vault calls.
  return fake as unknown as CardVaultRedis & { entries: typeof entries };
}

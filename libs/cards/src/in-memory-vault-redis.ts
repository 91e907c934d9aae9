import type { CardClock, CardVaultRedis } from './card-vault.js';

/**
 * GET / SET (PX, NX, XX) / DEL / PTTL over a Map, with expiry on a clock: the part of Redis the card
 * vault uses, for the unit tests of the vault and of what uses it (connectors, the gateway). Never
 * for production: nothing is shared between processes.
 */
export function inMemoryVaultRedis(clock: CardClock): CardVaultRedis & { entries: Map<string, { value: string; expiresAtMs: number }> } {
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

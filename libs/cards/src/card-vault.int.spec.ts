// Proves the card vault on a real Redis (REDIS_URL, default redis://127.0.0.1:6379, as the
// services use; `bash deploy/local/infra up` starts it): what Redis holds is ciphertext under the
// token with the configured TTL and never the PAN or CVV; tokens detokenize until Redis expires
// them; rotation re-encrypts in place keeping the TTL; and concurrent tokenisations stay apart.
// (libs/connectors' connector-simulator.int.spec.ts has a card simulator detokenize through it.)
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CardTokenNotFoundError } from './card-errors.js';
import { CardVault, type CardVaultOptions } from './card-vault.js';
import { luhnValid } from './card-tokenization.js';

const PAN = '4000056655665556';
const CVV = '731';
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2, lazyConnect: true });
// A prefix per run, so parallel runs and leftovers never meet, and cleanup deletes only ours.
const keyPrefix = `clearline-test:card-vault:${randomUUID()}:`;

function vault(options: Partial<CardVaultOptions> = {}): CardVault {
  return new CardVault(redis, { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }, fingerprintKey: Buffer.alloc(32, 2), ttlMs: 60_000, keyPrefix, ...options });
}

beforeAll(async () => {
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('CardVault on Redis', () => {
  it('stores only ciphertext under the token, with the TTL, and detokenizes it', async () => {
    const subject = vault();
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030, cvv: CVV });
    const raw = await redis.get(`${keyPrefix}${card.token}`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(PAN);
    expect(raw).not.toContain(PAN.slice(-4));
    expect(JSON.parse(raw!)).toEqual({ v: 1, kid: 'k1', iv: expect.any(String), tag: expect.any(String), ct: expect.any(String) });
    const ttlMs = await redis.pttl(`${keyPrefix}${card.token}`);
    expect(ttlMs).toBeGreaterThan(55_000);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
    const detokenized = await subject.detokenize(card.token);
    expect(detokenized.pan.reveal()).toBe(PAN);
    expect(detokenized).toMatchObject({ last4: '5556', brand: 'visa', expMonth: 12, expYear: 2030 });
  });

  it('lets Redis expire the token', async () => {
    const subject = vault({ ttlMs: 1_000 });
    const card = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    await expect(subject.detokenize(card.token)).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await expect(subject.detokenize(card.token)).rejects.toThrow(CardTokenNotFoundError);
  });

  it('rotates a record to the active key in place, keeping its TTL', async () => {
    const card = await vault().tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    const before = await redis.pttl(`${keyPrefix}${card.token}`);
    const rotated = vault({ keyring: { activeKeyId: 'k2', keys: { k1: Buffer.alloc(32, 1), k2: Buffer.alloc(32, 3) } } });
    expect(await rotated.rotate(card.token)).toBe('rotated');
    const after = await redis.pttl(`${keyPrefix}${card.token}`);
    expect(after).toBeLessThanOrEqual(before);
    expect(after).toBeGreaterThan(before - 5_000);
    expect(JSON.parse((await redis.get(`${keyPrefix}${card.token}`))!).kid).toBe('k2');
    const onlyNewKey = vault({ keyring: { activeKeyId: 'k2', keys: { k2: Buffer.alloc(32, 3) } } });
    expect((await onlyNewKey.detokenize(card.token)).pan.reveal()).toBe(PAN);
  });

  it('keeps concurrent tokenisations apart', async () => {
    const subject = vault();
    // 50 distinct valid Visa numbers: 15 digits of body, then the Luhn check digit.
    const pans = Array.from({ length: 50 }, (_, index) => {
      const body = `4000000000${String(index).padStart(5, '0')}`;
      for (let digit = 0; digit <= 9; digit++) if (luhnValid(body + digit)) return body + digit;
      throw new Error('unreachable');
    });
    const cards = await Promise.all(pans.map((pan) => subject.tokenize({ pan, expMonth: 1, expYear: 2031 })));
    expect(new Set(cards.map((card) => card.token)).size).toBe(50);
    const detokenized = await Promise.all(cards.map((card) => subject.detokenize(card.token)));
    expect(detokenized.map((card) => card.pan.reveal())).toEqual(pans);
  });
});

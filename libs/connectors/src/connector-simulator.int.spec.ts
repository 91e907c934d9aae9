// Proves a card simulator detokenizes through the real card vault on Redis (REDIS_URL, default
// redis://127.0.0.1:6379; `bash deploy/local/infra up` starts it), like a real card adapter: a test
// card approves or declines by its number, and a deleted token is declined as not found.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { CardVault, type CardVaultOptions } from '@clearline/cards';
import { ConnectorSimulator } from './connector-simulator.js';
import { cardAuthorization } from './connectors.test-kit.js';

const PAN = '4000056655665556';
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

describe('ConnectorSimulator on the Redis card vault', () => {
  it('serves a card simulator that detokenizes like a real card adapter', async () => {
    const subject = vault();
    const simulator = new ConnectorSimulator({ id: 'card-sim', rail: 'card', seed: 1, detokenizer: subject, latency: { kind: 'fixed', ms: 1 } });
    const signal = new AbortController().signal;
    const good = await subject.tokenize({ pan: PAN, expMonth: 12, expYear: 2030 });
    const declining = await subject.tokenize({ pan: '4000000000000002', expMonth: 12, expYear: 2030 });
    expect((await simulator.authorize(cardAuthorization(1_000n, 'k1', good.token), { signal })).outcome).toBe('approved');
    expect(await simulator.authorize(cardAuthorization(1_000n, 'k2', declining.token), { signal })).toEqual({ outcome: 'declined', code: 'card_declined' });
    await subject.delete(good.token);
    expect(await simulator.authorize(cardAuthorization(1_000n, 'k3', good.token), { signal })).toEqual({ outcome: 'declined', code: 'card_token_not_found' });
  });
});

// Proves apps/risk on real Redis and PostgreSQL: the Redis feature store computes exactly what the
// reference in-memory store computes over a stretch of simulated traffic (velocity, distinct cards,
// history, account age, first use of a device), in order and with late arrivals (the running totals),
// on the edges of each window, and when a batch goes to Redis in one pipeline; a redelivered payment
// gets its first answer back and counts nothing twice; and the assessor records one contract-valid
// RiskAssessed per payment, a whole chunk in one append statement, skipping payments already
// assessed, with each merchant's fail policy on it when Redis does not answer.
import { assertValidEnvelope, type ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import { createPool, type Pool } from '@clearline/postgres';
import { DEFAULT_SIMULATION, InMemoryFeatureStore, parseRuleSet, SeededRandom, simulateTraffic, type RiskPayment } from '@clearline/risk-domain';
import { readFileSync } from 'node:fs';
import type { PoolClient } from 'pg';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisFeatureStore } from './redis-feature-store.js';
import { RiskAssessor } from './risk-assessor.js';
import { DEFAULT_RULE_SET_PATH, loadRiskConfiguration } from './risk-configuration.js';
import { RiskControls } from './risk-controls.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;
let redis: Redis;
let pool: Pool;
const prefix = `risk-int-${randomUUID().slice(0, 8)}`;

beforeAll(() => {
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  pool = createPool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test' });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await pool.end();
});

const simulatedPayment = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 5, payers: 5, warmupDays: 1, labelledDays: 0 })[0]!.payment;

/** A payment naming a payer and a merchant only (its velocity keys: the payer's and the merchant's), 10.00 EUR. */
function onePayerPayment(name: string): RiskPayment {
  return {
    ...simulatedPayment, paymentId: randomUUID(), payerAccountId: `${name}-payer`, merchantId: `${name}-merchant`, deviceId: null, ipAddress: null,
    cardFingerprint: null, currency: 'EUR', amountMinor: 1_000n,
  };
}

describe('RedisFeatureStore', () => {
  it('given simulated traffic, then every payment gets the features the reference store computes', async () => {
    const traffic = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 3, payers: 150, warmupDays: 1, labelledDays: 1 });
    expect(traffic.length).toBeGreaterThan(200);
    const store = new RedisFeatureStore(redis, `${prefix}:sim`);
    const reference = new InMemoryFeatureStore();
    for (const { payment } of traffic) expect(await store.observe(payment)).toEqual(reference.observe(payment));
  });

  it('given payments arriving out of order and after quiet gaps, then the running totals still match the reference store', async () => {
    const traffic = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 4, payers: 60, warmupDays: 1, labelledDays: 1 }).map((entry) => entry.payment);
    // Swap neighbours now and then: the later payment arrives first, as a redelivery or a slow channel would have it.
    for (let index = 1; index < traffic.length; index += 7) [traffic[index - 1], traffic[index]] = [traffic[index]!, traffic[index - 1]!];
    const store = new RedisFeatureStore(redis, `${prefix}:late`);
    const reference = new InMemoryFeatureStore();
    for (const payment of traffic) expect(await store.observe(payment)).toEqual(reference.observe(payment));
  });

  it('given a redelivered payment, then the answer is the first one and nothing is counted twice', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:redelivery`);
    const [first, second] = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 5, payers: 20, warmupDays: 1, labelledDays: 0 })
      .filter((entry) => entry.payment.payerAccountId === 'sim-payer-0').map((entry) => entry.payment);
    const answer = await store.observe(first!);
    expect(await store.observe(first!)).toEqual(answer);
    const next = await store.observe({ ...second!, requestedAtMs: first!.requestedAtMs + 1_000 });
    expect(next.velocity.payer?.['1m'].count).toBe(2);
    expect(next.payerHistory.previousCount).toBe(1);
  });

  it('given payments on the edges of each window, then a payment counts while its bucket is one of the window\'s buckets, and no longer', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:edges`);
    const reference = new InMemoryFeatureStore();
    const hourMs = 3_600_000;
    const startMs = Math.ceil(Date.now() / hourMs) * hourMs; // on a bucket edge of every window
    const base = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 5, payers: 5, warmupDays: 1, labelledDays: 0 })[0]!.payment;
    const at = (offsetMs: number, amountMinor: bigint): RiskPayment => ({
      ...base, paymentId: randomUUID(), payerAccountId: `${prefix}-edges-payer`, merchantId: `${prefix}-edges-merchant`, deviceId: null, ipAddress: null,
      cardFingerprint: null, currency: 'EUR', amountMinor, requestedAtMs: startMs + offsetMs,
    });
    const observe = async (payment: RiskPayment) => {
      const features = await store.observe(payment);
      expect(features).toEqual(reference.observe(payment));
      const payer = features.velocity.payer!;
      return [payer['1m'].count, payer['1m'].amountMinor, payer['1h'].count, payer['1h'].amountMinor, payer['24h'].count, payer['24h'].amountMinor];
    };
    expect(await observe(at(0, 100n))).toEqual([1, 100n, 1, 100n, 1, 100n]);
    // The 1m window's last second (bucket 59 of 0..59): the first payment still counts.
    expect(await observe(at(59_999, 200n))).toEqual([2, 300n, 2, 300n, 2, 300n]);
    // Second 60: the first payment's bucket has left the 1m window; the 1h window is minutes 0..1.
    expect(await observe(at(60_000, 400n))).toEqual([2, 600n, 3, 700n, 3, 700n]);
    expect(await observe(at(119_999, 800n))).toEqual([2, 1_200n, 4, 1_500n, 4, 1_500n]);
    // Late (second 30, after second 119): its own windows, seconds -29..30 and minutes -59..0.
    expect(await observe(at(30_000, 1_600n))).toEqual([2, 1_700n, 3, 1_900n, 5, 3_100n]);
    // The 1h window's last minute (59 of 0..59); then minute 61, whose window 2..61 keeps minute 59 only.
    expect(await observe(at(hourMs - 1, 3_200n))).toEqual([1, 3_200n, 6, 6_300n, 6, 6_300n]);
    expect(await observe(at(hourMs + 60_000, 6_400n))).toEqual([1, 6_400n, 2, 9_600n, 7, 12_700n]);
    // Hour 24: hour 0 has left the 24h window, hour 1 is still in it.
    expect(await observe(at(24 * hourMs, 12_800n))).toEqual([1, 12_800n, 1, 12_800n, 2, 19_200n]);
  });

  it('given payments observed as one pipelined batch, then each gets what it would get one after the other, a repeat in the batch its first answer', async () => {
    const traffic = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 8, payers: 30, warmupDays: 1, labelledDays: 0 }).map((entry) => entry.payment);
    const batched = new RedisFeatureStore(redis, `${prefix}:pipelined`);
    const reference = new InMemoryFeatureStore();
    for (let index = 0; index < traffic.length; index += 50) {
      const batch = traffic.slice(index, index + 50);
      batch.push(batch[0]!);
      const answers = await Promise.all(batched.observeAll(batch));
      expect(answers).toEqual(batch.map((payment) => reference.observe(payment)));
      expect(answers.at(-1)).toEqual(answers[0]);
    }
  });

  it('sums amounts beyond 2^53 minor units exactly (an odd total a double cannot hold)', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:big`);
    const payment = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 5, payers: 5, warmupDays: 1, labelledDays: 0 })[0]!.payment;
    const amountMinor = 10n ** 15n - 1n;
    let features;
    for (let index = 0; index < 11; index += 1) features = await store.observe({ ...payment, paymentId: randomUUID(), amountMinor });
    expect(features?.velocity.payer?.['24h'].amountMinor).toBe(11n * amountMinor);
    expect(11n * amountMinor > 2n ** 53n).toBe(true);
  });

  it('keeps an entity\'s three windows in one hash with a TTL, and deletes a bucket when it falls two windows behind the latest', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:layout`);
    const reference = new InMemoryFeatureStore();
    const startMs = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    const at = (offsetMs: number): RiskPayment => ({ ...onePayerPayment(`${prefix}-layout`), requestedAtMs: startMs + offsetMs });
    const key = `${prefix}:layout:velocity:payer:${prefix}-layout-payer`;
    const second = startMs / 1_000;
    const minute = startMs / 60_000;
    const hour = startMs / 3_600_000;
    expect(await store.observe(at(0))).toEqual(reference.observe(at(0)));
    const fields = await redis.hgetall(key);
    for (const [name, bucket] of [['1m', second], ['1h', minute], ['24h', hour]] as const) {
      expect(fields).toMatchObject({ [`${name}:L`]: String(bucket), [`${name}:T:c`]: '1', [`${name}:T:a:EUR`]: '1000', [`${name}:c:${bucket}`]: '1', [`${name}:a:EUR:${bucket}`]: '1000' });
      // The map of the window's buckets (this one last), and of the window before it (empty).
      expect(fields[`${name}:M`]).toMatch(/^0+1$/);
      expect(fields[`${name}:P`]).toMatch(/^0+$/);
    }
    // One key per entity, not one per entity and window.
    expect((await redis.keys(`${prefix}:layout:velocity:*`)).sort()).toEqual([`${prefix}:layout:velocity:merchant:${prefix}-layout-merchant`, key]);
    expect(await redis.pttl(key)).toBeGreaterThan(47 * 3_600_000);
    // Seconds 1 and 119: the map of the 1 m window (seconds 0..119) still holds second 0.
    for (const offsetMs of [1_000, 119_000]) expect(await store.observe(at(offsetMs))).toEqual(reference.observe(at(offsetMs)));
    expect(await redis.hexists(key, `1m:c:${second}`)).toBe(1);
    // Second 120: second 0 falls off the map, its fields go; second 1 stays for late payments.
    expect(await store.observe(at(120_000))).toEqual(reference.observe(at(120_000)));
    expect(await redis.hmget(key, `1m:c:${second}`, `1m:a:EUR:${second}`, `1m:c:${second + 1}`)).toEqual([null, null, '1']);
    // Second 600 moves the 1 m window past everything: only its own bucket is left; the 1 h window keeps minutes 0..10.
    expect(await store.observe(at(600_000))).toEqual(reference.observe(at(600_000)));
    const buckets = Object.keys(await redis.hgetall(key)).filter((field) => /:c:\d+$/.test(field)).sort();
    expect(buckets).toEqual([`1h:c:${minute}`, `1h:c:${minute + 1}`, `1h:c:${minute + 2}`, `1h:c:${minute + 10}`, `1m:c:${second + 600}`, `24h:c:${hour}`].sort());
  });

  it('given payments more than two windows late, then they count with one another until a later payment drops them, as in the reference store', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:orphans`);
    const reference = new InMemoryFeatureStore();
    const startMs = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    const key = `${prefix}:orphans:velocity:payer:${prefix}-orphans-payer`;
    const observe = async (offsetMs: number, amountMinor: bigint) => {
      const payment = { ...onePayerPayment(`${prefix}-orphans`), amountMinor, requestedAtMs: startMs + offsetMs };
      const features = await store.observe(payment);
      expect(features).toEqual(reference.observe(payment));
      return [features.velocity.payer!['1m'].count, features.velocity.payer!['1m'].amountMinor];
    };
    expect(await observe(300_000, 1n)).toEqual([1, 1n]);
    // Seconds 100 and 110: more than 120 s before second 300, before the 1 m map; kept aside, they see each other.
    expect(await observe(100_000, 2n)).toEqual([1, 2n]);
    expect(await observe(110_000, 4n)).toEqual([2, 6n]);
    expect(await redis.hget(key, 'O')).toBe(`1m:${startMs / 1_000 + 100},1m:${startMs / 1_000 + 110}`);
    // Second 301: both are two windows behind it and dropped, so a later late payment counts alone.
    expect(await observe(301_000, 8n)).toEqual([2, 9n]);
    expect(await redis.hmget(key, 'O', `1m:c:${startMs / 1_000 + 100}`, `1m:c:${startMs / 1_000 + 110}`)).toEqual([null, null, null]);
    expect(await observe(105_000, 16n)).toEqual([1, 16n]);
    // Late within the map, and within half a window (counted from the totals).
    expect(await observe(250_000, 32n)).toEqual([1, 32n]);
    expect(await observe(299_000, 64n)).toEqual([2, 96n]);
  });

  it('given payments in three currencies, in and out of order, after gaps and at the amount cap, then every payment gets the reference features', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:currencies`);
    const reference = new InMemoryFeatureStore();
    const random = new SeededRandom(17);
    const startMs = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
    let clockMs = startMs;
    for (let index = 0; index < 600; index += 1) {
      clockMs += Math.floor(random.next() * [400, 5_000, 90_000, 2_000_000][index % 4]!);
      const late = random.next() < 0.15 ? Math.floor(random.next() * 200_000) : 0;
      const payment: RiskPayment = {
        ...onePayerPayment(`${prefix}-currencies`), paymentId: randomUUID(), payerAccountId: `${prefix}-payer-${index % 3}`,
        currency: ['EUR', 'USD', 'GBP'][Math.floor(random.next() * 3)]!, requestedAtMs: clockMs - late,
        amountMinor: random.next() < 0.1 ? 10n ** 15n + 7n : BigInt(1 + Math.floor(random.next() * 2_000_000_000)),
      };
      expect(await store.observe(payment)).toEqual(reference.observe(payment));
    }
  });

  it('given a payment answered before the per-entity layout (its first answer stored as JSON), then a redelivery gets that answer', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:legacy`);
    const payment = { ...onePayerPayment(`${prefix}-legacy`), cardFingerprint: 'card-1', deviceId: 'device-1', ipAddress: null };
    // Payer, card, device, no IP, merchant (per window: count, amount as halves); cards per device, none per IP; first seen; device known; history.
    const windows = ['2', '1', '000000005', '2', '1', '000000005', '2', '1', '000000005'];
    const stored = ['new', '1', ...windows, '1', ...windows, '1', ...windows, '0', '1', ...windows,
      '1', '1', '3', '0', '0', '0', String(payment.requestedAtMs - 60_000), '0', '700', '900'];
    await redis.set(`${prefix}:legacy:seen:${payment.paymentId}`, JSON.stringify(stored));
    const features = await store.observe(payment);
    expect(features.velocity.payer?.['1h']).toEqual({ count: 2, amountMinor: 1_000_000_005n });
    expect(features.velocity.ip).toBeNull();
    expect(features.distinctCardsPerDevice).toEqual({ last1h: 1, last24h: 3 });
    expect(features).toMatchObject({ accountAgeMs: 60_000, firstUseOfDevice: false, payerHistory: { previousCount: 2, meanMinor: 800n } });
  });
});

describe('RiskAssessor', () => {
  const requested = (paymentId: string): ContractEnvelope => assertValidEnvelope({
    id: randomUUID(), type: 'PaymentRequested', schemaVersion: 1,
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'risk-int-test' },
    data: {
      paymentId, channel: 'e_wallet', merchantId: `${prefix}-merchant`, merchantAccountId: `${prefix}-merchant-account`, payerAccountId: `${prefix}-payer`,
      amount: { amountMinor: '1250', currency: 'EUR' }, method: 'wallet', riskContext: { ipAddress: '198.51.100.9', deviceId: `${prefix}-device` },
      requestedAt: new Date().toISOString(),
    },
  });

  async function assess(assessor: RiskAssessor, envelope: ContractEnvelope) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await assessor.handle(envelope, client);
      await client.query('commit');
    } finally {
      client.release();
    }
    const store = new PostgresEventStore(pool);
    return store.readStream(`risk-${(envelope.data as { paymentId: string }).paymentId}`);
  }

  it('given a requested payment, then one contract-valid RiskAssessed is recorded, once, with the model and reasons', async () => {
    const assessor = new RiskAssessor(new PostgresEventStore(pool), new RedisFeatureStore(redis, `${prefix}:assessor`), new RiskControls(loadRiskConfiguration(silent), null, silent), silent);
    const envelope = requested(randomUUID());
    await assess(assessor, envelope);
    const events = await assess(assessor, envelope);
    expect(events.map((event) => event.type)).toEqual(['RiskAssessed', 'RiskDecisionInputsRecorded']);
    const data = events[0]!.data as Record<string, unknown>;
    expect(data).toMatchObject({ decision: 'approve', ruleSetVersion: 'rules-2025-01', modelVersion: 'risk-lr-seed7' });
    expect(data['failPolicy']).toBeUndefined();
    expect(() => assertValidEnvelope({ ...envelope, id: randomUUID(), type: 'RiskAssessed', data })).not.toThrow();
  });

  it('given Redis does not answer, then the merchant fail policy decides and is recorded', async () => {
    const broken = { observe: () => Promise.reject(new Error('connection refused')) } as unknown as RedisFeatureStore;
    const assessor = new RiskAssessor(new PostgresEventStore(pool), broken, new RiskControls(loadRiskConfiguration(silent), null, silent), silent);
    const [event] = await assess(assessor, requested(randomUUID()));
    expect(event?.data).toMatchObject({
      decision: 'approve', score: 0, reasons: ['risk_unavailable_fail_open'], failPolicy: { policy: 'open', unavailable: ['features'], applied: true },
    });
  });

  /** Hands every envelope over in one tick on one connection, as the consumer does with a chunk; counts the statements sent on it. */
  async function assessChunk(assessor: RiskAssessor, envelopes: readonly ContractEnvelope[]): Promise<{ statements: string[] }> {
    const client = await pool.connect();
    const statements: string[] = [];
    const counting = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'query') return Reflect.get(target, property, receiver);
        return (text: unknown, ...rest: unknown[]) => {
          statements.push(typeof text === 'string' ? text : String((text as { text?: string }).text));
          return (target.query as (...args: unknown[]) => unknown)(text, ...rest);
        };
      },
    }) as PoolClient;
    try {
      await client.query('begin');
      await Promise.all(envelopes.map((envelope) => assessor.handle(envelope, counting)));
      await client.query('commit');
    } catch (error) {
      await client.query('rollback');
      throw error;
    } finally {
      client.release();
    }
    return { statements };
  }

  it('given a chunk of payments handed over at once, then all are appended in one statement, one assessment each', async () => {
    const assessor = new RiskAssessor(new PostgresEventStore(pool), new RedisFeatureStore(redis, `${prefix}:chunk`), new RiskControls(loadRiskConfiguration(silent), null, silent), silent);
    const envelopes = Array.from({ length: 20 }, () => requested(randomUUID()));
    const { statements } = await assessChunk(assessor, envelopes);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/append_events/);
    const store = new PostgresEventStore(pool);
    for (const envelope of envelopes) {
      const events = await store.readStream(`risk-${(envelope.data as { paymentId: string }).paymentId}`);
      expect(events.map((event) => event.type)).toEqual(['RiskAssessed', 'RiskDecisionInputsRecorded']);
      expect(events[0]!.metadata.causationId).toBe(envelope.id);
    }
  });

  it('given a chunk with payments already assessed and a payment requested twice, then the others are appended and each payment keeps its one assessment', async () => {
    const assessor = new RiskAssessor(new PostgresEventStore(pool), new RedisFeatureStore(redis, `${prefix}:repeats`), new RiskControls(loadRiskConfiguration(silent), null, silent), silent);
    const assessedBefore = [requested(randomUUID()), requested(randomUUID())];
    await assessChunk(assessor, assessedBefore);
    const fresh = [requested(randomUUID()), requested(randomUUID()), requested(randomUUID())];
    const twice = requested(randomUUID());
    // New request messages (new envelope ids, so the inbox lets them through) for assessed payments.
    const again = assessedBefore.map((envelope) => ({ ...envelope, id: randomUUID() }));
    const { statements } = await assessChunk(assessor, [fresh[0]!, again[0]!, fresh[1]!, twice, { ...twice, id: randomUUID() }, again[1]!, fresh[2]!]);
    // The refused append, one read of every stream's version, the append of the rest: not one append per repeat.
    expect(statements).toHaveLength(3);
    const store = new PostgresEventStore(pool);
    for (const envelope of [...assessedBefore, ...fresh, twice]) {
      const events = await store.readStream(`risk-${(envelope.data as { paymentId: string }).paymentId}`);
      expect(events.map((event) => event.type)).toEqual(['RiskAssessed', 'RiskDecisionInputsRecorded']);
      expect(events[0]!.metadata.causationId).toBe(envelope.id);
    }
  });

  it('given one payment whose script fails inside a pipelined chunk, then only that payment is decided by the fail policy', async () => {
    const features = new RedisFeatureStore(redis, `${prefix}:one-fails`);
    const assessor = new RiskAssessor(new PostgresEventStore(pool), features, new RiskControls(loadRiskConfiguration(silent), null, silent), silent);
    const envelopes = Array.from({ length: 3 }, () => requested(randomUUID()));
    const brokenPayer = `${prefix}-broken-payer`;
    envelopes[1] = { ...envelopes[1]!, data: { ...(envelopes[1]!.data as unknown as Record<string, unknown>), payerAccountId: brokenPayer } } as ContractEnvelope;
    // The payer's amount history is a list; a string in its place makes that payment's script fail (WRONGTYPE).
    await redis.set(`${prefix}:one-fails:history:${brokenPayer}:EUR`, 'not a list');
    await assessChunk(assessor, envelopes);
    const store = new PostgresEventStore(pool);
    const decided = await Promise.all(envelopes.map(async (envelope) => (await store.readStream(`risk-${(envelope.data as { paymentId: string }).paymentId}`))[0]?.data as Record<string, unknown>));
    expect(decided[1]).toMatchObject({ reasons: ['risk_unavailable_fail_open'], failPolicy: { policy: 'open', unavailable: ['features'], applied: true } });
    for (const data of [decided[0]!, decided[2]!]) {
      expect(data['failPolicy']).toBeUndefined();
      expect(data).toMatchObject({ decision: 'approve', modelVersion: 'risk-lr-seed7' });
    }
  });

  it('given Redis unreachable for a whole pipelined chunk, then every payment is decided by its own merchant\'s fail policy', async () => {
    const closedMerchant = `${prefix}-fail-closed-merchant`;
    const configuration = loadRiskConfiguration(silent);
    const shipped = JSON.parse(readFileSync(DEFAULT_RULE_SET_PATH, 'utf8')) as Record<string, unknown>;
    const ruleSet = parseRuleSet({ ...shipped, merchants: { [closedMerchant]: { failPolicy: 'closed' } } });
    // A real client whose connection is closed: every command of the pipeline fails at once.
    const unreachable = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 0 });
    await unreachable.quit();
    const assessor = new RiskAssessor(new PostgresEventStore(pool), new RedisFeatureStore(unreachable, `${prefix}:unreachable`), new RiskControls({ ...configuration, ruleSet }, null, silent), silent);
    const envelopes = Array.from({ length: 6 }, (_, index) => {
      const envelope = requested(randomUUID());
      return index % 2 === 0 ? envelope : { ...envelope, data: { ...(envelope.data as unknown as Record<string, unknown>), merchantId: closedMerchant } } as ContractEnvelope;
    });
    await assessChunk(assessor, envelopes);
    const store = new PostgresEventStore(pool);
    for (const [index, envelope] of envelopes.entries()) {
      const [event] = await store.readStream(`risk-${(envelope.data as { paymentId: string }).paymentId}`);
      const policy = index % 2 === 0 ? 'open' : 'closed';
      expect(event?.data).toMatchObject({
        decision: policy === 'open' ? 'approve' : 'decline', reasons: [`risk_unavailable_fail_${policy}`], failPolicy: { policy, unavailable: ['features'], applied: true },
      });
    }
  });
});

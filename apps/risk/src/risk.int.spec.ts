// Proves apps/risk on real Redis and PostgreSQL: the Redis feature store computes exactly what the
// reference in-memory store computes over a stretch of simulated traffic (velocity, distinct cards,
// history, account age, first use of a device), in order and with late arrivals (the running totals); a redelivered payment gets its first answer back and
// counts nothing twice; and the assessor records one contract-valid RiskAssessed per payment, with
// the fail policy on it when Redis does not answer.
import { assertValidEnvelope, type ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import { createPool, type Pool } from '@clearline/postgres';
import { DEFAULT_SIMULATION, InMemoryFeatureStore, simulateTraffic } from '@clearline/risk-domain';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisFeatureStore } from './redis-feature-store.js';
import { RiskAssessor } from './risk-assessor.js';
import { loadRiskConfiguration } from './risk-configuration.js';
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

  it('sums amounts beyond 2^53 minor units exactly (an odd total a double cannot hold)', async () => {
    const store = new RedisFeatureStore(redis, `${prefix}:big`);
    const payment = simulateTraffic({ ...DEFAULT_SIMULATION, seed: 5, payers: 5, warmupDays: 1, labelledDays: 0 })[0]!.payment;
    const amountMinor = 10n ** 15n - 1n;
    let features;
    for (let index = 0; index < 11; index += 1) features = await store.observe({ ...payment, paymentId: randomUUID(), amountMinor });
    expect(features?.velocity.payer?.['24h'].amountMinor).toBe(11n * amountMinor);
    expect(11n * amountMinor > 2n ** 53n).toBe(true);
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
});

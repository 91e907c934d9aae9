// Proves, through the five real services, real Kafka, PostgreSQL and Redis, that a card payment goes
// the whole way on the card rail (tokenised into the card vault, authorized and captured by the card
// connector, booked clearing -> merchant in the ledger, projected by analytics) and that its card
// number and CVV reach none of the places a payment leaves traces: every event-store row of the
// payment's correlation id, every analytics read-model row, and every Kafka message of that
// correlation id on every topic. The channel publishes RequestPayment straight to payments.commands
// (a channel's Kafka path) with a token it put in the vault, as the gateway does at its edge.
import { jest } from '@jest/globals';
// The e2e tier may import only contracts and test helpers; the card vault and the leak scanner are
// the test's instruments here (tokenising the way the gateway does, and the one scanner every PAN-leak test shares).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { assertNoCardData, CardVault, cardVaultSecretsForService, panRenderings, textHoldsCardData, type CardDataProbe } from '@clearline/cards';
import { ALL_TOPICS, contractFor, type ContractType } from '@clearline/contracts';
import { root, startPlatform, type RunningPlatform } from '@clearline/testing';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

jest.setTimeout(180_000);

const BASE_PORT = 4360;
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
// An Amex test card: its four-digit CVV cannot turn up by chance in a timestamp's milliseconds, which
// read-model rows hold (a three-digit one would, in about one timestamp in a thousand).
const PAN = '378282246310005';
const CVV = '7373';
const probe: CardDataProbe = { forbidden: panRenderings(PAN), cvv: CVV };
// Over every row of a shared database, only the whole card number in its renderings: a CVV or the
// number's middle digits (five here) are short enough to occur in some row's positions or amounts by chance.
const wholeNumber: CardDataProbe = { forbidden: panRenderings(PAN).slice(0, 3) };
const merchantAccountId = `e2e-card-merchant-${run}`;
const correlationId = `e2e-card-${randomUUID()}`;

interface SeenMessage {
  topic: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

let platform: RunningPlatform;
let producer: Producer;
let consumer: Consumer;
let pool: pg.Pool;
let redis: Redis;
const seen: SeenMessage[] = [];

async function publish(type: ContractType, key: string, data: Record<string, unknown>): Promise<void> {
  const id = randomUUID();
  const contract = contractFor(type);
  const envelope = { id, type, schemaVersion: contract.schemaVersion, data, metadata: { correlationId, causationId: id, occurredAt: new Date().toISOString(), producer: 'e2e-card-channel' } };
  await producer.send({
    topic: contract.topic,
    messages: [{
      key, value: JSON.stringify(envelope),
      headers: { 'message-id': id, 'message-type': type, 'schema-version': String(contract.schemaVersion), 'correlation-id': correlationId, 'causation-id': id, producer: 'e2e-card-channel' },
    }],
  });
}

async function eventually<T>(description: string, find: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
}

beforeAll(async () => {
  const kafka = new Kafka({ clientId: 'e2e-card', brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  // The services' consumer groups are fixed names shared by everything on this broker: a platform left
  // running on another database would take some partitions and write this payment there. Say so at once.
  const admin = kafka.admin();
  await admin.connect();
  const { groups } = await admin.describeGroups(['ledger', 'payments-commands', 'payments-process']).finally(() => admin.disconnect());
  const busy = groups.filter((group) => group.members.length > 0).map((group) => group.groupId);
  if (busy.length > 0) throw new Error(`another platform consumes the shared consumer groups ${busy.join(', ')} on this broker; stop it and run again`);
  platform = await startPlatform({
    basePort: BASE_PORT,
    env: { DATABASE_URL, LOG_LEVEL: 'info', PAYMENTS_CONNECTORS: JSON.stringify({ 'card-primary': { latencyMs: 5 }, 'card-backup': { latencyMs: 5 } }) },
    logDirectory: join(root, '.cache/logs/e2e-card'),
  });
  pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  producer = kafka.producer();
  await producer.connect();
  // Every topic the platform uses (the services created them at boot), from now on.
  consumer = kafka.consumer({ groupId: `e2e-card-${run}`, maxWaitTimeInMs: 100 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [...ALL_TOPICS], fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
      seen.push({ topic, key: message.key === null ? null : String(message.key), value: String(message.value), headers });
    },
  });
  await joined;
  await publish('OpenAccount', merchantAccountId, { accountId: merchantAccountId, ownerId: `merchant-${run}`, kind: 'merchant', currency: 'EUR', allowNegativeBalance: true });
  await eventually('the merchant account', async () => ((await pool.query('select 1 from event_store.messages where stream_id = $1', [`account-${merchantAccountId}`])).rowCount ? true : undefined));
});

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  redis?.disconnect();
  await pool?.end();
  await platform?.stop();
});

describe('a card payment through the whole platform', () => {
  it('is captured on the card rail and leaves its PAN and CVV nowhere', async () => {
    // Tokenised as the gateway does at its edge, with the secrets every service reads.
    const vault = new CardVault(redis, cardVaultSecretsForService(process.env));
    const card = await vault.tokenize({ pan: PAN, expMonth: 12, expYear: 2031, cvv: CVV });
    const paymentId = randomUUID();
    await publish('RequestPayment', paymentId, {
      paymentId, channel: 'card_acquiring', merchantId: `merchant-${run}`, merchantAccountId, payerAccountId: `card-holder-${run}`,
      amount: { amountMinor: '1200', currency: 'EUR' }, method: 'card',
      card: { token: card.token, fingerprint: card.fingerprint, last4: card.last4, brand: card.brand, expMonth: card.expMonth, expYear: card.expYear },
      riskContext: { ipAddress: '203.0.113.9', deviceId: `device-${run}` },
    });

    const stream = `payment-${paymentId}`;
    const outcome = await eventually('the payment to be captured or declined', async () => {
      const { rows } = await pool.query<{ message_type: string }>(
        "select message_type from event_store.messages where stream_id = $1 and message_type in ('PaymentCaptured', 'PaymentDeclined', 'PaymentFailed')", [stream]);
      return rows[0]?.message_type;
    });
    expect(outcome).toBe('PaymentCaptured');
    const types = (await pool.query<{ message_type: string }>('select message_type from event_store.messages where stream_id = $1 order by stream_version', [stream])).rows.map((row) => row.message_type);
    expect(types).toEqual(expect.arrayContaining(['CallConnector', 'ConnectorAttemptSucceeded', 'PaymentAuthorized', 'PostTransfer', 'PaymentCaptured']));
    await eventually('analytics to project the capture', async () => {
      const { rows } = await pool.query<{ status: string }>('select status from analytics.payments where payment_id = $1', [paymentId]);
      return rows[0] && rows[0].status !== 'requested' && rows[0].status !== 'authorized' ? rows[0].status : undefined;
    });
    // The ledger's answer to the capture booking comes last: by then every hop of this payment has published.
    await eventually('the capture booking on ledger.events', async () =>
      (seen.some((message) => message.topic === 'ledger.events' && message.headers['message-type'] === 'TransferPosted' && message.value.includes(merchantAccountId)) ? true : undefined));

    // 1. The event store: every row of the correlation id, in every stream (payment, ledger, settlement ...).
    const events = (await pool.query('select stream_id, message_type, data, metadata from event_store.messages where metadata->>\'correlationId\' = $1', [correlationId])).rows;
    expect(events.length).toBeGreaterThan(types.length);
    assertNoCardData('event store rows', events, probe);

    // 2. Every analytics read-model row, of every table: none may hold the card number; the rows of this
    // payment (naming it, its correlation id or its merchant account) neither its CVV nor its middle digits.
    const tables = (await pool.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = 'analytics' and table_type = 'BASE TABLE'")).rows;
    expect(tables.length).toBeGreaterThan(0);
    let ownRows = 0;
    for (const { table_name: table } of tables) {
      const { rows } = await pool.query<{ row: string }>(`select to_jsonb(t)::text as row from analytics."${table}" t`);
      for (const { row } of rows) {
        const own = row.includes(paymentId) || row.includes(correlationId) || row.includes(merchantAccountId);
        if (own) ownRows += 1;
        expect({ table, own, leaks: textHoldsCardData(row, own ? probe : wholeNumber) }).toEqual({ table, own, leaks: false });
      }
    }
    expect(ownRows).toBeGreaterThan(1);
    const projected = (await pool.query('select to_jsonb(p) as row from analytics.payments p where payment_id = $1', [paymentId])).rows;
    expect(projected).toHaveLength(1);

    // 3. Every Kafka message of the correlation id, on every topic: value and headers.
    const messages = seen.filter((message) => message.headers['correlation-id'] === correlationId);
    expect(new Set(messages.map((message) => message.topic))).toEqual(expect.objectContaining({ size: expect.any(Number) }));
    expect(messages.map((message) => message.topic)).toEqual(expect.arrayContaining(['payments.commands', 'payments.events', 'ledger.commands', 'ledger.events', 'risk.events']));
    for (const message of messages) {
      expect({ topic: message.topic, type: message.headers['message-type'], leaks: textHoldsCardData(`${message.key} ${message.value} ${JSON.stringify(message.headers)}`, probe) })
        .toEqual({ topic: message.topic, type: message.headers['message-type'], leaks: false });
    }
  });
});

// Proves signed webhooks end to end on real Kafka, PostgreSQL and Redis, with the gateway in process
// and a local HTTP receiver this test controls (the payments service is not running: the test
// publishes payment events onto payments.events itself, for payments whose owner it records the way
// the gateway does when a channel creates one):
// - a channel subscribes (201, a signing secret shown once; a replay answers the same) and receives
//   its payment's event, POSTed with a valid Clearline-Signature, delivery id and event id;
// - a receiver that fails twice gets a third attempt, and the log shows the 3 attempts and codes;
// - another channel's events, events of other types, and events after a delete are not delivered
//   (proven by the consumer's inbox row for the event and no delivery for it);
// - a manual redelivery sends the event again and logs the attempt; the delivery log pages by cursor;
// - bad input is a 400 problem+json; another channel's subscription or delivery is a 404; an analyst
//   reads every subscription and changes none (403);
// - no signing secret is in the gateway's log (trace level), its Redis records or its tables.
// Isolated per run: its own clients (GATEWAY_CHANNELS), schema, and consumer group.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { type ChannelCredentials, type ContractEnvelope } from '@clearline/contracts';
import { kafkaSettingsFromEnv, MessagePublisher } from '@clearline/messaging';
import { createPool, migrate } from '@clearline/postgres';
import { createServiceApp } from '@clearline/service-runtime';
import { eventually, testEnvelope } from '@clearline/testing';
import { Redis } from 'ioredis';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { signedCall, type Answer } from '../signed-fetch.test-kit.js';
import { gatewayMigrations } from './webhook-migrations.js';
import { verifyWebhookSignature } from './webhook-signature.js';

jest.setTimeout(90_000);

const run = randomBytes(5).toString('hex');
const schema = `gateway_webhooks_test_${run}`;
const consumerGroup = `gateway-webhooks-int-test-${run}`;
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const logFile = join(tmpdir(), `clearline-gateway-webhooks-${run}.log`);

const credentials = (name: string): ChannelCredentials => ({ keyId: `key-${name}-${run}`, secret: randomBytes(32).toString('base64url') });
const clients = { a: `wh_a_${run}`, b: `wh_b_${run}`, analyst: `wh_analyst_${run}` } as const;
const keys = { a: credentials('a'), b: credentials('b'), analyst: credentials('analyst') };

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let gateway: INestApplication;
let baseUrl: string;
let receiver: Server;
let receiverUrl: string;
let redis: Redis;
let pool: Pool;
let publisher: MessagePublisher;
const received: Received[] = [];
/** Every signing secret the gateway answered, searched for at the end. */
const issuedSecrets: string[] = [];
/** Status codes a receiver path answers in turn before it answers 200. */
const failuresFor = new Map<string, number[]>();

const call = (as: keyof typeof keys, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
  signedCall(baseUrl, method, path, { credentials: keys[as], ...(body === undefined ? {} : { body }), headers });

async function subscribe(as: keyof typeof keys, body: unknown, idempotencyKey: string = randomUUID()): Promise<Answer> {
  const answer = await call(as, 'POST', '/v1/webhooks', body, { 'idempotency-key': idempotencyKey });
  if (typeof answer.body?.secret === 'string') issuedSecrets.push(answer.body.secret);
  return answer;
}

/** A payment created by `client`, as the gateway records it (object-ownership.ts). */
async function paymentOwnedBy(client: string | undefined): Promise<string> {
  const paymentId = randomUUID();
  if (client !== undefined) await redis.set(`gateway:owner:payment:${paymentId}`, client);
  return paymentId;
}

const money = { amountMinor: '1250', currency: 'EUR' };
const captured = (paymentId: string) => testEnvelope('PaymentCaptured', { paymentId, holdId: randomUUID(), amount: money }, 'payments');
const voided = (paymentId: string) => testEnvelope('PaymentVoided', { paymentId, holdId: randomUUID(), releasedAmount: money }, 'payments');

async function publish(...envelopes: ContractEnvelope[]): Promise<void> {
  await publisher.publish(envelopes);
}

const receivedFor = (path: string, eventId: string) => received.filter((request) => request.path === path && request.headers['clearline-event-id'] === eventId);

/** The consumer has handled the event (its inbox row commits with the deliveries it made). */
async function handled(eventId: string): Promise<void> {
  await eventually(`event ${eventId} in the inbox of ${consumerGroup}`, async () => {
    const { rowCount } = await pool.query('select 1 from messaging.inbox where consumer_group = $1 and message_id = $2', [consumerGroup, eventId]);
    return rowCount === 1 ? true : undefined;
  }, 60_000);
}

async function deliveriesOf(eventId: string): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(`select count(*) from "${schema}".webhook_deliveries where event_id = $1`, [eventId]);
  return Number(rows[0]!.count);
}

async function deliveryLog(as: keyof typeof keys, subscriptionId: string, query = ''): Promise<Answer> {
  return call(as, 'GET', `/v1/webhooks/${subscriptionId}/deliveries${query}`);
}

beforeAll(async () => {
  pool = createPool({ connectionString: DATABASE_URL, max: 4, applicationName: 'webhooks-int-spec' });
  await migrate(pool, [gatewayMigrations(schema)]);
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });

  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = failuresFor.get(path)?.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const { encryptChannelSecret } = await import('../channel-keys.js');
  const encryptionKey = randomBytes(32);
  const entry = (key: ChannelCredentials, role: 'channel' | 'analyst') => ({ role, keys: [{ keyId: key.keyId, secret: encryptChannelSecret(key.secret, key.keyId, encryptionKey) }] });
  Object.assign(process.env, {
    ANALYTICS_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'trace',
    LOG_FILE: logFile,
    GATEWAY_CHANNELS: JSON.stringify({ clients: { [clients.a]: entry(keys.a, 'channel'), [clients.b]: entry(keys.b, 'channel'), [clients.analyst]: entry(keys.analyst, 'analyst') } }),
    GATEWAY_CHANNEL_SECRETS_KEY: encryptionKey.toString('base64'),
    GATEWAY_WEBHOOKS_SCHEMA: schema,
    GATEWAY_WEBHOOKS_CONSUMER_GROUP: consumerGroup,
    // A short schedule so that retries happen within the test: 200 ms, 400 ms ... capped at 1 s.
    GATEWAY_WEBHOOK_RETRY_BASE_MS: '200',
    GATEWAY_WEBHOOK_RETRY_MAX_MS: '1000',
    GATEWAY_WEBHOOK_POLL_INTERVAL_MS: '50',
    GATEWAY_WEBHOOK_TIMEOUT_MS: '2000',
    // The receiver listens on this machine, which the default policy refuses (security-api.int.spec.ts).
    GATEWAY_WEBHOOK_PRIVATE_TARGETS: 'allow',
  });
  const { AppModule } = await import('../app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('../gateway-app.js');
  gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  baseUrl = await gateway.getUrl();

  publisher = new MessagePublisher({ settings: kafkaSettingsFromEnv('webhooks-int-test'), producerName: 'webhooks-int-test' });
  await publisher.connect();
});

afterAll(async () => {
  await gateway?.close();
  await publisher?.disconnect();
  await new Promise((resolve) => receiver?.close(resolve));
  redis?.disconnect();
  if (existsSync(logFile) && process.env['KEEP_GATEWAY_TEST_LOG'] === undefined) rmSync(logFile);
  if (pool) {
    await pool.query(`drop schema if exists "${schema}" cascade`);
    await pool.query('delete from public.schema_migrations where owner = $1', [gatewayMigrations(schema).owner]);
    await pool.query('delete from messaging.inbox where consumer_group = $1', [consumerGroup]);
    await pool.end();
  }
});

describe('subscribing', () => {
  it('answers 201 with the subscription and its secret, once; a replay answers the same, another body under the key is a 422', async () => {
    const key = randomUUID();
    const body = { url: `${receiverUrl}/replayed`, eventTypes: ['PaymentCaptured'] };
    const first = await subscribe('a', body, key);
    expect(first).toMatchObject({ status: 201, body: { subscriptionId: expect.any(String), client: clients.a, url: body.url, eventTypes: ['PaymentCaptured'], secret: expect.stringMatching(/^whsec_/) } });
    const replay = await subscribe('a', body, key);
    expect(replay).toMatchObject({ status: 201, body: first.body });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await subscribe('a', { ...body, eventTypes: ['PaymentVoided'] }, key)).status).toBe(422);

    // Only ciphertext rests in the database; reads never show the secret.
    const { rows } = await pool.query<{ secret_ciphertext: string }>(`select secret_ciphertext from "${schema}".webhook_subscriptions where subscription_id = $1`, [first.body.subscriptionId]);
    expect(rows[0]!.secret_ciphertext).toMatch(/^v1\./);
    expect(rows[0]!.secret_ciphertext).not.toContain(first.body.secret.slice(6));
    const read = await call('a', 'GET', `/v1/webhooks/${first.body.subscriptionId}`);
    expect(read).toMatchObject({ status: 200, body: { subscriptionId: first.body.subscriptionId } });
    expect(read.text).not.toContain(first.body.secret);
    expect((await call('a', 'DELETE', `/v1/webhooks/${first.body.subscriptionId}`)).status).toBe(204);
  });

  it.each<[string, unknown, Record<string, string>?]>([
    ['no url', { eventTypes: ['PaymentCaptured'] }],
    ['an ftp url', { url: 'ftp://example.com/hook', eventTypes: ['PaymentCaptured'] }],
    ['a url with credentials', { url: 'https://user:pass@example.com/hook', eventTypes: ['PaymentCaptured'] }],
    ['a relative url', { url: '/hook', eventTypes: ['PaymentCaptured'] }],
    ['a url too long', { url: `https://example.com/${'a'.repeat(2050)}`, eventTypes: ['PaymentCaptured'] }],
    ['no event types', { url: 'https://example.com/hook', eventTypes: [] }],
    ['an unknown event type', { url: 'https://example.com/hook', eventTypes: ['PaymentTeleported'] }],
    ["a merchant's batch event", { url: 'https://example.com/hook', eventTypes: ['SettlementBatchClosed'] }],
    ['a repeated event type', { url: 'https://example.com/hook', eventTypes: ['PaymentCaptured', 'PaymentCaptured'] }],
    ['an unknown field', { url: 'https://example.com/hook', eventTypes: ['PaymentCaptured'], secret: 'mine' }],
  ])('refuses %s with a 400 problem', async (_case, body) => {
    const answer = await subscribe('a', body);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: 'urn:clearline:problem:invalid-request', status: 400 });
  });

  it('refuses a POST without an Idempotency-Key (400), and an analyst (403)', async () => {
    const body = { url: 'https://example.com/hook', eventTypes: ['PaymentCaptured'] };
    const missing = await call('a', 'POST', '/v1/webhooks', body);
    expect(missing).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:idempotency-key-missing' } });
    expect(missing.contentType).toContain('application/problem+json');
    expect(await subscribe('analyst', body)).toMatchObject({ status: 403, body: { type: 'urn:clearline:problem:read-only-client' } });
  });

  it('is described in the OpenAPI document', async () => {
    const document = await (await fetch(new URL('/docs/openapi.json', baseUrl))).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/v1/webhooks'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/v1/webhooks/{subscriptionId}'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(document.paths['/v1/webhooks/{subscriptionId}/deliveries'] ?? {})).toEqual(['get']);
    expect(Object.keys(document.paths['/v1/webhooks/deliveries/{deliveryId}/redeliver'] ?? {})).toEqual(['post']);
  });
});

describe('delivering', () => {
  let subscriptionId: string;
  let secret: string;
  let deliveryId: string;
  let firstEventId: string;

  beforeAll(async () => {
    const answer = await subscribe('a', { url: `${receiverUrl}/a`, eventTypes: ['PaymentCaptured', 'PaymentFailed'] });
    expect(answer.status).toBe(201);
    ({ subscriptionId, secret } = answer.body);
  });

  it("POSTs an owned payment's event with a valid signature, a delivery id and the event id", async () => {
    const event = captured(await paymentOwnedBy(clients.a));
    firstEventId = event.id;
    await publish(event);
    const [request] = await eventually('the delivery at the receiver', () => receivedFor('/a', event.id)[0] && receivedFor('/a', event.id), 60_000);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(verifyWebhookSignature(secret, request!.headers['clearline-signature'] as string, request!.body, Math.floor(Date.now() / 1000))).toMatchObject({ valid: true });
    expect(verifyWebhookSignature('whsec_another', request!.headers['clearline-signature'] as string, request!.body, Math.floor(Date.now() / 1000))).toMatchObject({ valid: false });
    expect(JSON.parse(request!.body)).toEqual({
      id: event.id, type: 'PaymentCaptured', schemaVersion: 1, occurredAt: event.metadata.occurredAt, correlationId: event.metadata.correlationId, data: event.data,
    });

    const log = await eventually('the delivery logged as succeeded', async () => {
      const answer = await deliveryLog('a', subscriptionId);
      const delivery = answer.body.items?.find((item: { eventId: string }) => item.eventId === event.id);
      return delivery?.status === 'succeeded' ? delivery : undefined;
    });
    deliveryId = log.deliveryId;
    expect(request!.headers['clearline-delivery-id']).toBe(deliveryId);
    expect(log).toMatchObject({ eventType: 'PaymentCaptured', attemptCount: 1, nextAttemptAt: null, lastStatusCode: 200, attempts: [{ attempt: 1, statusCode: 200, succeeded: true, error: null }] });
  });

  it('tries again after failures: a receiver failing twice gets a third attempt, and the log holds all three', async () => {
    const flaky = await subscribe('a', { url: `${receiverUrl}/flaky`, eventTypes: ['PaymentFailed'] });
    failuresFor.set('/flaky', [500, 503]);
    const event = testEnvelope('PaymentFailed', { paymentId: await paymentOwnedBy(clients.a), reasonCode: 'ledger_timeout' }, 'payments');
    await publish(event);
    const delivery = await eventually('three attempts, the last one delivered', async () => {
      const answer = await deliveryLog('a', flaky.body.subscriptionId);
      const found = answer.body.items?.find((item: { eventId: string }) => item.eventId === event.id);
      return found?.status === 'succeeded' ? found : undefined;
    });
    expect(delivery).toMatchObject({ attemptCount: 3, lastStatusCode: 200, nextAttemptAt: null });
    expect(delivery.attempts.map((attempt: { attempt: number; statusCode: number; error: string | null }) => [attempt.attempt, attempt.statusCode, attempt.error]))
      .toEqual([[3, 200, null], [2, 503, 'http_503'], [1, 500, 'http_500']]);
    expect(receivedFor('/flaky', event.id)).toHaveLength(3);
    // Each retry waited at least half its ceiling (100 ms, then 200 ms).
    const [third, second, first] = delivery.attempts.map((attempt: { startedAt: string }) => Date.parse(attempt.startedAt));
    expect(second - first).toBeGreaterThanOrEqual(100);
    expect(third - second).toBeGreaterThanOrEqual(200);
    // The same event also went to the first subscription of the channel, which takes PaymentFailed too.
    await eventually('the event at /a too', () => receivedFor('/a', event.id)[0]);
  });

  it("does not deliver another channel's events, nor those of a payment no client created", async () => {
    const others = await subscribe('b', { url: `${receiverUrl}/b`, eventTypes: ['PaymentCaptured'] });
    expect(others.status).toBe(201);
    const ofB = captured(await paymentOwnedBy(clients.b));
    const ofNobody = captured(await paymentOwnedBy(undefined));
    await publish(ofB, ofNobody);
    await eventually("B's event at B's receiver", () => receivedFor('/b', ofB.id)[0]);
    await handled(ofNobody.id);
    expect(await deliveriesOf(ofB.id)).toBe(1);
    expect(await deliveriesOf(ofNobody.id)).toBe(0);
    expect(received.filter((request) => request.path !== '/b' && request.headers['clearline-event-id'] === ofB.id)).toEqual([]);
  });

  it('delivers only the event types subscribed to', async () => {
    const paymentId = await paymentOwnedBy(clients.a);
    const unsubscribed = voided(paymentId);
    await publish(unsubscribed);
    await handled(unsubscribed.id);
    expect(await deliveriesOf(unsubscribed.id)).toBe(0);
    expect(received.filter((request) => request.headers['clearline-event-id'] === unsubscribed.id)).toEqual([]);
  });

  it('redelivers on request: the same event again, one more attempt in the log', async () => {
    const before = receivedFor('/a', firstEventId).length;
    expect(await call('b', 'POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, undefined, { 'idempotency-key': randomUUID() })).toMatchObject({ status: 404 });
    expect(await call('analyst', 'POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, undefined, { 'idempotency-key': randomUUID() })).toMatchObject({ status: 403 });
    expect(await call('a', 'POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`)).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:idempotency-key-missing' } });

    const accepted = await call('a', 'POST', `/v1/webhooks/deliveries/${deliveryId}/redeliver`, undefined, { 'idempotency-key': randomUUID() });
    expect(accepted).toMatchObject({ status: 202, body: { deliveryId, status: 'pending' } });
    const again = await eventually('the redelivery at the receiver', () => receivedFor('/a', firstEventId)[before]);
    expect(again.headers['clearline-delivery-id']).toBe(deliveryId);
    expect(verifyWebhookSignature(secret, again.headers['clearline-signature'] as string, again.body, Math.floor(Date.now() / 1000)).valid).toBe(true);
    const logged = await eventually('two attempts logged', async () => {
      const answer = await deliveryLog('a', subscriptionId);
      const delivery = answer.body.items.find((item: { deliveryId: string }) => item.deliveryId === deliveryId);
      return delivery?.attemptCount === 2 && delivery.status === 'succeeded' ? delivery : undefined;
    });
    expect(logged.attempts.map((attempt: { attempt: number }) => attempt.attempt)).toEqual([2, 1]);
  });

  it('pages the delivery log by cursor, newest first', async () => {
    const firstPage = await deliveryLog('a', subscriptionId, '?limit=1');
    expect(firstPage).toMatchObject({ status: 200, body: { items: [expect.any(Object)], nextCursor: expect.any(String) } });
    const secondPage = await deliveryLog('a', subscriptionId, `?limit=1&cursor=${firstPage.body.nextCursor}`);
    expect(secondPage.status).toBe(200);
    expect(secondPage.body.items).toHaveLength(1);
    expect(secondPage.body.items[0].deliveryId).not.toBe(firstPage.body.items[0].deliveryId);
    expect(Date.parse(secondPage.body.items[0].createdAt)).toBeLessThanOrEqual(Date.parse(firstPage.body.items[0].createdAt));
    const all = await deliveryLog('a', subscriptionId, '?limit=100');
    expect(all.body.nextCursor).toBeNull();
    expect((await deliveryLog('a', subscriptionId, '?cursor=bm90LWEtY3Vyc29y')).body).toMatchObject({ status: 400, type: 'urn:clearline:problem:invalid-cursor' });
    expect((await deliveryLog('a', subscriptionId, '?limit=0')).status).toBe(400);
  });

  it('keeps subscriptions apart: another channel gets 404, an analyst reads everything and changes nothing', async () => {
    for (const [method, path] of [['GET', `/v1/webhooks/${subscriptionId}`], ['GET', `/v1/webhooks/${subscriptionId}/deliveries`], ['DELETE', `/v1/webhooks/${subscriptionId}`]] as const) {
      const answer = await call('b', method, path);
      expect(answer).toMatchObject({ status: 404, body: { type: 'urn:clearline:problem:webhook-subscription-not-found' } });
      expect(answer.contentType).toContain('application/problem+json');
    }
    const ofB = await call('b', 'GET', '/v1/webhooks');
    expect(ofB.body.items.length).toBeGreaterThan(0);
    expect(ofB.body.items.every((item: { client: string }) => item.client === clients.b)).toBe(true);
    const ofA = await call('a', 'GET', '/v1/webhooks');
    expect(ofA.body.items.map((item: { subscriptionId: string }) => item.subscriptionId)).toContain(subscriptionId);
    expect(ofA.body.items.every((item: { client: string }) => item.client === clients.a)).toBe(true);

    const everyone = await call('analyst', 'GET', '/v1/webhooks');
    expect(new Set(everyone.body.items.map((item: { client: string }) => item.client))).toEqual(new Set([clients.a, clients.b]));
    expect((await call('analyst', 'GET', `/v1/webhooks/${subscriptionId}/deliveries`)).status).toBe(200);
    expect((await call('analyst', 'DELETE', `/v1/webhooks/${subscriptionId}`)).status).toBe(403);
    expect((await call('a', 'GET', '/v1/webhooks/not-a-uuid')).body).toMatchObject({ status: 400, type: 'urn:clearline:problem:invalid-webhook-id' });
  });

  it('stops delivering once the subscription is deleted', async () => {
    expect((await call('a', 'DELETE', `/v1/webhooks/${subscriptionId}`)).status).toBe(204);
    expect((await call('a', 'DELETE', `/v1/webhooks/${subscriptionId}`)).status).toBe(404);
    const event = captured(await paymentOwnedBy(clients.a));
    await publish(event);
    await handled(event.id);
    expect(await deliveriesOf(event.id)).toBe(0);
  });
});

describe('the signing secrets', () => {
  it('are in no log line, no Redis record of these clients, and no table (only their ciphertext)', async () => {
    expect(issuedSecrets.length).toBeGreaterThanOrEqual(4);
    const logText = readFileSync(logFile, 'utf8');
    expect(logText).toContain('webhook attempt');
    const redisTexts: string[] = [];
    for (const client of Object.values(clients)) {
      for (const key of await redis.keys(`gateway:idempotency:${client}:*`)) redisTexts.push(`${key} ${await redis.get(key)}`);
    }
    expect(redisTexts.length).toBeGreaterThan(0);
    const { rows } = await pool.query<{ dump: string }>(
      `select coalesce(string_agg(to_jsonb(subscription)::text, ' '), '') || coalesce((select string_agg(to_jsonb(delivery)::text, ' ') from "${schema}".webhook_deliveries delivery), '') as dump
       from "${schema}".webhook_subscriptions subscription`,
    );
    for (const secret of issuedSecrets) {
      const body = secret.slice('whsec_'.length);
      expect(logText).not.toContain(body);
      expect(redisTexts.join('\n')).not.toContain(body);
      expect(rows[0]!.dump).not.toContain(body);
    }
  });
});

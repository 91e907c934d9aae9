// Proves that a channel hears its payments' results without polling blindly, on real Kafka and Redis
// (docs/api.md, "Results back to the channel"). The payments service does not run here: the test
// publishes payment events onto payments.events itself, for a payment the e_wallet channel owns and
// one the card_acquiring channel owns, and proves that
// - GET /v1/payments/:id?wait= answers as soon as an update of the payment arrives (the update, with
//   Payment-Wait: changed), else after the wait with the read model's answer (Payment-Wait: timeout);
//   `after` answers at once with a newer update already held; a bad wait or after is a 400 problem;
// - GET /v1/payments/events streams the channel's own updates only (an analyst's all), with `id:`
//   lines, heartbeats and Last-Event-ID resume (or a resync event when the id is unknown);
// - /v1/payments/ws does the same over a WebSocket whose upgrade is signed; an unsigned or badly
//   signed upgrade is a 401 problem and no socket;
// - the push metrics count clients and deliveries; a client that goes away is forgotten; at shutdown
//   every stream is closed and the app closes promptly.
// Analytics is a stand-in HTTP server (apps do not import each other).
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS, signatureHeaders, type ChannelCredentials, type ContractType, type DataOf } from '@clearline/contracts';
import { ensureTopics, kafkaSettingsFromEnv, MessagePublisher, silentLogger } from '@clearline/messaging';
import { createServiceApp } from '@clearline/service-runtime';
import { eventually, testEnvelope } from '@clearline/testing';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { WebSocket } from 'ws';
import { OwnershipRegistry } from './object-ownership.js';
import type { PaymentUpdate } from './payment-updates.js';
import { freshNonce, signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const { e_wallet: wallet, card_acquiring: acquirer, analyst } = DEVELOPMENT_CHANNEL_CREDENTIALS;
const HEARTBEAT_MS = 200;

/** The stand-in analytics: 200 for the paths in `known`, a 404 problem otherwise. */
const known = new Map<string, unknown>();
let analytics: Server;
let gateway: INestApplication | undefined;
let baseUrl: string;
let publisher: MessagePublisher;

const call = (method: string, path: string, options: CallOptions = {}): Promise<Answer> => signedCall(baseUrl, method, path, options);
const problemOf = (answer: Answer) => ({ status: answer.status, type: String(answer.body?.type ?? '').replace('urn:clearline:problem:', '') });
const money = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

async function startGateway(): Promise<INestApplication> {
  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  const app = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await app.listen(0, '127.0.0.1');
  return app;
}

/** A payment id owned by `owner`, recorded as the gateway does when the channel requests it. */
async function ownedPayment(owner: 'e_wallet' | 'card_acquiring'): Promise<string> {
  const paymentId = randomUUID();
  expect(await gateway!.get(OwnershipRegistry).claim('payment', paymentId, owner)).toBe('mine');
  return paymentId;
}

async function publish<Type extends ContractType>(type: Type, data: DataOf<Type>): Promise<string> {
  const envelope = testEnvelope(type, data, 'push-api-int-test');
  await publisher.publish([envelope]);
  return envelope.id;
}

const authorized = (paymentId: string, amountMinor = '1250') => publish('PaymentAuthorized', { paymentId, holdId: randomUUID(), amount: money(amountMinor) });
const captured = (paymentId: string, amountMinor = '1250') => publish('PaymentCaptured', { paymentId, holdId: randomUUID(), amount: money(amountMinor) });

async function metricValue(name: string, labels: string): Promise<number> {
  const text = (await call('GET', '/metrics', { credentials: null })).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(labels));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

interface ServerSentEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** A signed GET /v1/payments/events read as it arrives: its events, and how many heartbeats came. */
class EventStreamClient {
  readonly events: ServerSentEvent[] = [];
  heartbeats = 0;
  ended = false;
  status = 0;
  contentType = '';
  private readonly abort = new AbortController();

  static async open(credentials: ChannelCredentials, headers: Record<string, string> = {}): Promise<EventStreamClient> {
    const client = new EventStreamClient();
    const signature = signatureHeaders(credentials, { method: 'GET', pathWithQuery: '/v1/payments/events', timestampSeconds: Math.floor(Date.now() / 1000), nonce: freshNonce() });
    const response = await fetch(new URL('/v1/payments/events', baseUrl), { headers: { ...signature, ...headers }, signal: client.abort.signal });
    client.status = response.status;
    client.contentType = response.headers.get('content-type') ?? '';
    void client.read(response);
    return client;
  }

  updates(): { id: string; update: PaymentUpdate }[] {
    return this.events.filter((event) => event.event === 'payment').map((event) => ({ id: event.id!, update: JSON.parse(event.data!) as PaymentUpdate }));
  }

  updateOf(paymentId: string, event: string): Promise<{ id: string; update: PaymentUpdate }> {
    return eventually(`${event} of ${paymentId} on the event stream`, () => this.updates().find(({ update }) => update.paymentId === paymentId && update.event === event), 15_000);
  }

  close(): void {
    this.abort.abort();
  }

  private async read(response: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffered.indexOf('\n\n')) >= 0) {
          this.parse(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
        }
      }
    } catch {
      // Aborted by close(): the end of this client's stream.
    }
    this.ended = true;
  }

  private parse(block: string): void {
    const event: ServerSentEvent = {};
    for (const line of block.split('\n')) {
      if (line === ': heartbeat') this.heartbeats += 1;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const field = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id' || field === 'event' || field === 'data') event[field] = value;
    }
    if (event.event !== undefined) this.events.push(event);
  }
}

/** A WebSocket on /v1/payments/ws signed as `credentials` (null: unsigned), with what it received or why it was refused. */
class FeedClient {
  readonly messages: { type: string; id?: string; update?: PaymentUpdate; reason?: string }[] = [];
  closeCode: number | undefined;
  private readonly socket: WebSocket;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data))));
    socket.on('close', (code) => { this.closeCode = code; });
  }

  /** Resolves once open, or with the refusal's status and body. */
  static connect(credentials: ChannelCredentials | null, pathWithQuery = '/v1/payments/ws', signedPath = pathWithQuery): Promise<FeedClient | { status: number; body: { type?: string } }> {
    const headers = credentials === null ? {} : signatureHeaders(credentials, { method: 'GET', pathWithQuery: signedPath, timestampSeconds: Math.floor(Date.now() / 1000), nonce: freshNonce() });
    const socket = new WebSocket(new URL(pathWithQuery, baseUrl.replace(/^http/, 'ws')), { headers });
    return new Promise((resolve, reject) => {
      socket.on('open', () => resolve(new FeedClient(socket)));
      socket.on('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      });
      socket.on('error', reject);
    });
  }

  updates(): PaymentUpdate[] {
    return this.messages.filter((message) => message.type === 'payment').map((message) => message.update!);
  }

  updateOf(paymentId: string, event: string): Promise<PaymentUpdate> {
    return eventually(`${event} of ${paymentId} on the WebSocket`, () => this.updates().find((update) => update.paymentId === paymentId && update.event === event), 15_000);
  }

  close(): void {
    this.socket.close();
  }
}

function isFeed(client: FeedClient | { status: number }): client is FeedClient {
  return client instanceof FeedClient;
}

beforeAll(async () => {
  analytics = createServer((request, response) => {
    const body = known.get(new URL(request.url ?? '/', 'http://analytics').pathname);
    if (body !== undefined) return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    response.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'urn:clearline:problem:payment-not-found', title: 'Payment not found', status: 404 }));
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`,
    LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent',
    GATEWAY_PUSH_HEARTBEAT_MS: String(HEARTBEAT_MS),
  });
  delete process.env['GATEWAY_CHANNELS'];
  delete process.env['GATEWAY_CHANNELS_FILE'];
  const settings = kafkaSettingsFromEnv('gateway-push-int-test');
  await ensureTopics({ ...settings, logLevel: 'nothing' as const }, ALL_TOPICS);
  publisher = new MessagePublisher({ settings, producerName: 'gateway-push-int-test', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
  const started = await startGateway();
  gateway = started;
  baseUrl = await started.getUrl();
});

afterAll(async () => {
  await gateway?.close();
  await publisher?.disconnect();
  await new Promise((resolve) => analytics?.close(resolve));
});

describe('long-poll: GET /v1/payments/:paymentId?wait=', () => {
  it('answers as soon as the payment changes, with the update and Payment-Wait: changed', async () => {
    const paymentId = await ownedPayment('e_wallet');
    const startedAt = Date.now();
    const answering = call('GET', `/v1/payments/${paymentId}?wait=20s`);
    await eventually('the long-poll waiting', async () => ((await metricValue('clearline_gateway_push_clients', 'transport="long_poll"')) >= 1 ? true : undefined), 10_000);
    const eventId = await authorized(paymentId, '1250');
    const answer = await answering;
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('payment-wait')).toBe('changed');
    expect(answer.body).toEqual({
      eventId, paymentId, event: 'PaymentAuthorized', status: 'authorized', amount: { amountMinor: '1250', currency: 'EUR' },
      occurredAt: expect.any(String), version: expect.stringMatching(/^[0-9]+$/),
    });
  });

  it("answers after the wait with the read model's answer when nothing changes (Payment-Wait: timeout)", async () => {
    const paymentId = await ownedPayment('e_wallet');
    known.set(`/payments/${paymentId}`, { paymentId, status: 'requested', amount: money('300') });
    const startedAt = Date.now();
    const answer = await call('GET', `/v1/payments/${paymentId}?wait=1500ms`);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_400);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('payment-wait')).toBe('timeout');
    expect(answer.body).toEqual({ paymentId, status: 'requested', amount: money('300') });
  });

  it("passes on the read model's 404 when it has not projected the payment yet (nothing is invented)", async () => {
    const paymentId = await ownedPayment('e_wallet');
    const answer = await call('GET', `/v1/payments/${paymentId}?wait=1`);
    expect(problemOf(answer)).toEqual({ status: 404, type: 'payment-not-found' });
    expect(answer.headers.get('payment-wait')).toBe('timeout');
  });

  it('with after, answers at once with a newer update already heard, and waits when there is none', async () => {
    const paymentId = await ownedPayment('e_wallet');
    const stream = await EventStreamClient.open(wallet);
    await authorized(paymentId);
    const { update } = await stream.updateOf(paymentId, 'PaymentAuthorized');
    stream.close();
    const version = BigInt(update.version);

    const startedAt = Date.now();
    const newer = await call('GET', `/v1/payments/${paymentId}?wait=20s&after=${version - 1n}`);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(newer.headers.get('payment-wait')).toBe('changed');
    expect(newer.body).toMatchObject({ paymentId, event: 'PaymentAuthorized', version: update.version });

    known.set(`/payments/${paymentId}`, { paymentId, status: 'authorized', amount: money('1250') });
    const none = await call('GET', `/v1/payments/${paymentId}?wait=500ms&after=${version}`);
    expect(none.headers.get('payment-wait')).toBe('timeout');
    expect(none.body).toMatchObject({ status: 'authorized' });
  });

  it('forgets a long-poll whose client went away', async () => {
    const paymentId = await ownedPayment('e_wallet');
    const waitingBefore = await metricValue('clearline_gateway_push_clients', 'transport="long_poll"');
    const abort = new AbortController();
    const pathWithQuery = `/v1/payments/${paymentId}?wait=30s`;
    const headers = signatureHeaders(wallet, { method: 'GET', pathWithQuery, timestampSeconds: Math.floor(Date.now() / 1000), nonce: freshNonce() });
    const answering = fetch(new URL(pathWithQuery, baseUrl), { headers, signal: abort.signal }).catch((error: unknown) => error);
    await eventually('the long-poll waiting', async () => ((await metricValue('clearline_gateway_push_clients', 'transport="long_poll"')) > waitingBefore ? true : undefined), 10_000);
    abort.abort();
    expect(await answering).toMatchObject({ name: 'AbortError' });
    await eventually('the long-poll forgotten', async () => ((await metricValue('clearline_gateway_push_clients', 'transport="long_poll"')) === waitingBefore ? true : undefined), 5_000);
  });

  it('refuses a bad wait or after with a 400 problem, and another channel\'s payment with a 404', async () => {
    const paymentId = await ownedPayment('e_wallet');
    for (const wait of ['31s', '30001ms', 'abc', '-1', '5m', '1.5s', '']) {
      const answer = await call('GET', `/v1/payments/${paymentId}?wait=${encodeURIComponent(wait)}`);
      expect({ wait, ...problemOf(answer) }).toEqual({ wait, status: 400, type: 'invalid-wait' });
      expect(answer.contentType).toContain('application/problem+json');
    }
    for (const after of ['x', '-1', '12345678901234567890']) {
      expect({ after, ...problemOf(await call('GET', `/v1/payments/${paymentId}?wait=1s&after=${after}`)) }).toEqual({ after, status: 400, type: 'invalid-after' });
    }
    const startedAt = Date.now();
    expect(problemOf(await call('GET', `/v1/payments/${paymentId}?wait=10s`, { credentials: acquirer }))).toEqual({ status: 404, type: 'payment-not-found' });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });
});

describe('server-sent events: GET /v1/payments/events', () => {
  it("streams the channel's own updates with ids, not another channel's; an analyst hears both", async () => {
    const mine = await ownedPayment('e_wallet');
    const theirs = await ownedPayment('card_acquiring');
    const walletStream = await EventStreamClient.open(wallet);
    const analystStream = await EventStreamClient.open(analyst);
    expect(walletStream.status).toBe(200);
    expect(walletStream.contentType).toContain('text/event-stream');

    await authorized(theirs, '999');
    await captured(mine, '700');
    const own = await walletStream.updateOf(mine, 'PaymentCaptured');
    expect(own.id).toMatch(/^[0-9]+-[0-9]+$/);
    expect(own.update).toMatchObject({ paymentId: mine, status: 'captured', amount: money('700') });
    await analystStream.updateOf(theirs, 'PaymentAuthorized');
    await analystStream.updateOf(mine, 'PaymentCaptured');
    // The analyst's stream has the other channel's update: the hub has fanned it out to every stream.
    expect(walletStream.updates().filter(({ update }) => update.paymentId === theirs)).toEqual([]);
    walletStream.close();
    analystStream.close();
  });

  it('sends heartbeats while nothing happens', async () => {
    const stream = await EventStreamClient.open(wallet);
    await eventually('two heartbeats', () => (stream.heartbeats >= 2 ? true : undefined), 5_000);
    stream.close();
  });

  it('resumes after Last-Event-ID with what was missed, and says resync when the id is unknown', async () => {
    const paymentId = await ownedPayment('e_wallet');
    const first = await EventStreamClient.open(wallet);
    await authorized(paymentId);
    const seen = await first.updateOf(paymentId, 'PaymentAuthorized');
    first.close();

    // Heard by the gateway while this client was away (an analyst's stream shows it arrived).
    const watcher = await EventStreamClient.open(analyst);
    await captured(paymentId);
    await watcher.updateOf(paymentId, 'PaymentCaptured');
    watcher.close();

    // The capture was heard before this stream opened: it can only come as a replay.
    const resumed = await EventStreamClient.open(wallet, { 'last-event-id': seen.id });
    const missed = await resumed.updateOf(paymentId, 'PaymentCaptured');
    expect(BigInt(missed.update.version)).toBeGreaterThan(BigInt(seen.update.version));
    expect(resumed.updates().some(({ id }) => id === seen.id)).toBe(false);
    resumed.close();

    const unknown = await EventStreamClient.open(wallet, { 'last-event-id': '99999-0' });
    await eventually('the resync event', () => unknown.events.find((event) => event.event === 'resync'), 5_000);
    unknown.close();

    const invalid = await call('GET', '/v1/payments/events', { headers: { 'last-event-id': 'abc' } });
    expect(problemOf(invalid)).toEqual({ status: 400, type: 'invalid-last-event-id' });
  });

  it('refuses an unsigned stream with a 401 problem', async () => {
    expect(problemOf(await call('GET', '/v1/payments/events', { credentials: null }))).toEqual({ status: 401, type: 'missing-signature' });
  });

  it('counts clients and deliveries in the metrics, and forgets a client that went away', async () => {
    const before = await metricValue('clearline_gateway_push_updates_delivered_total', 'transport="sse"');
    const stream = await EventStreamClient.open(wallet);
    await eventually('one stream counted', async () => ((await metricValue('clearline_gateway_push_clients', 'transport="sse"')) === 1 ? true : undefined), 5_000);
    const paymentId = await ownedPayment('e_wallet');
    await authorized(paymentId);
    await stream.updateOf(paymentId, 'PaymentAuthorized');
    expect(await metricValue('clearline_gateway_push_updates_delivered_total', 'transport="sse"')).toBeGreaterThan(before);
    stream.close();
    await eventually('the stream forgotten', async () => ((await metricValue('clearline_gateway_push_clients', 'transport="sse"')) === 0 ? true : undefined), 5_000);
  });
});

describe('WebSocket feed: /v1/payments/ws', () => {
  it("delivers the channel's own updates, not another channel's", async () => {
    const mine = await ownedPayment('e_wallet');
    const theirs = await ownedPayment('card_acquiring');
    const feed = await FeedClient.connect(wallet);
    const analystFeed = await FeedClient.connect(analyst);
    if (!isFeed(feed) || !isFeed(analystFeed)) throw new Error(`the signed upgrade was refused: ${JSON.stringify(isFeed(feed) ? analystFeed : feed)}`);

    await authorized(theirs);
    await publish('PaymentRefunded', { paymentId: mine, refundId: randomUUID(), amount: money('200'), refundedTotal: money('200'), transferId: randomUUID() });
    const own = await feed.updateOf(mine, 'PaymentRefunded');
    expect(own).toMatchObject({ paymentId: mine, status: null, amount: money('200'), refundedTotal: money('200') });
    await analystFeed.updateOf(theirs, 'PaymentAuthorized');
    await analystFeed.updateOf(mine, 'PaymentRefunded');
    expect(feed.updates().filter((update) => update.paymentId === theirs)).toEqual([]);
    expect(await metricValue('clearline_gateway_push_clients', 'transport="websocket"')).toBe(2);
    feed.close();
    analystFeed.close();
  });

  it('refuses an unsigned or badly signed upgrade with a 401 problem and no socket', async () => {
    const unsigned = await FeedClient.connect(null);
    expect(isFeed(unsigned)).toBe(false);
    expect(unsigned).toMatchObject({ status: 401, body: { type: 'urn:clearline:problem:missing-signature' } });
    const signedForAnotherPath = await FeedClient.connect(wallet, '/v1/payments/ws', '/v1/payments/ws?lastEventId=0-1');
    expect(signedForAnotherPath).toMatchObject({ status: 401, body: { type: 'urn:clearline:problem:bad-signature' } });
  });
});

// Last: it closes the gateway every test above used.
describe('shutdown', () => {
  it('closes every stream and socket, and the app closes promptly', async () => {
    const stream = await EventStreamClient.open(wallet);
    const feed = await FeedClient.connect(wallet);
    if (!isFeed(feed)) throw new Error('the signed upgrade was refused');
    const startedAt = Date.now();
    const closing = gateway;
    gateway = undefined;
    await closing?.close();
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    await eventually('the event stream ended', () => (stream.ended ? true : undefined), 5_000);
    await eventually('the socket closed', () => feed.closeCode, 5_000);
    expect(feed.closeCode).toBe(1001);
  });
});

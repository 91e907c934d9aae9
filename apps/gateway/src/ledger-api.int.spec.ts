// Proves the gateway's ledger routes on real Kafka and Redis: freeze, unfreeze, close and modify reach
// `ledger.commands` as their contracts with the request's correlation id, behind Idempotency-Key; the
// balance, history and transfers reads are validated at the edge (bad input is a problem+json 400 and
// never reaches analytics) and analytics' answers, errors included, pass through as they are, with
// links under /v1; and GET /docs/openapi.json describes every /v1 route with its problem+json errors
// (the payment routes themselves are proven in payments-api.int.spec.ts).
// Analytics is a stand-in HTTP server here (apps do not import each other); its own test proves its answers.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS, Topics } from '@clearline/contracts';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, parseMessage, silentLogger } from '@clearline/messaging';
import { createServiceApp } from '@clearline/service-runtime';
import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const accountId = `gw-${run}-wallet`;

interface Forwarded {
  url: string;
  headers: IncomingHttpHeaders;
}

/** The stand-in analytics: records what it is asked and answers from `answers` by path, 404 problem otherwise. */
const forwarded: Forwarded[] = [];
const answers = new Map<string, { status: number; contentType: string; body: unknown }>();
let analytics: Server;
let gateway: INestApplication;
let baseUrl: string;
let listener: Consumer;
const commands: { type: string; data: Record<string, unknown>; correlationId: string }[] = [];

/** Signed as the e_wallet channel, which opens (and so owns) `accountId` first; `analyst` reads anything. */
const call = (method: string, path: string, options: CallOptions = {}): Promise<Answer> => signedCall(baseUrl, method, path, options);
const analyst = { credentials: DEVELOPMENT_CHANNEL_CREDENTIALS.analyst };

const command = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(method, path, { body, headers: { 'idempotency-key': randomUUID(), ...headers } });

async function commandOn(type: string, correlationId: string): Promise<(typeof commands)[number]> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found = commands.find((message) => message.type === type && message.correlationId === correlationId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${type} with correlation id ${correlationId} on ${Topics.ledgerCommands}`);
}

beforeAll(async () => {
  analytics = createServer((request, response) => {
    forwarded.push({ url: request.url ?? '', headers: request.headers });
    const answer = answers.get(new URL(request.url ?? '/', 'http://analytics').pathname);
    if (answer) {
      response.writeHead(answer.status, { 'content-type': answer.contentType }).end(JSON.stringify(answer.body));
      return;
    }
    response.writeHead(404, { 'content-type': 'application/problem+json' })
      .end(JSON.stringify({ type: 'urn:clearline:problem:account-not-found', title: 'Account not found', status: 404 }));
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`,
    LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent',
  });

  const settings = { ...kafkaSettingsFromEnv('gateway-int-test'), logLevel: 'nothing' as const };
  // On a fresh broker the topics do not exist until a service starts; the listener subscribes first.
  await ensureTopics(settings, ALL_TOPICS);
  listener = createKafka(settings, silentLogger).consumer({ groupId: `gateway-int-test-${run}`, maxWaitTimeInMs: 100 });
  await listener.connect();
  await listener.subscribe({ topic: Topics.ledgerCommands, fromBeginning: true });
  await listener.run({
    eachMessage: async ({ message }) => {
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (!parsed.accepted) return;
      const envelope = parsed.envelope as unknown as { type: string; data: Record<string, unknown>; metadata: { correlationId: string } };
      if (envelope.data['accountId'] === accountId) commands.push({ type: envelope.type, data: envelope.data, correlationId: envelope.metadata.correlationId });
    },
  });

  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  baseUrl = await gateway.getUrl();
  // Object-level authorization: only the channel that opened the account may command or read it.
  const opened = await command('POST', '/v1/accounts', { accountId, ownerId: 'merchant-7', kind: 'merchant', currency: 'EUR' });
  expect(opened.status).toBe(202);
});

afterAll(async () => {
  await gateway?.close();
  await listener?.disconnect();
  await new Promise((resolve) => analytics?.close(resolve));
});

describe('account commands', () => {
  it.each([
    ['freeze', 'FreezeAccount'],
    ['unfreeze', 'UnfreezeAccount'],
    ['close', 'CloseAccount'],
  ])('POST /v1/accounts/:id/%s is accepted and sends %s with the correlation id', async (action, type) => {
    const correlationId = `gw-${randomUUID()}`;
    const answer = await command('POST', `/v1/accounts/${accountId}/${action}`, undefined, { 'x-correlation-id': correlationId });
    expect(answer).toMatchObject({ status: 202, body: { accountId, command: type, status: 'accepted', correlationId, links: { self: `/v1/accounts/${accountId}` } } });
    expect(await commandOn(type, correlationId)).toMatchObject({ data: { accountId } });
  });

  it('PATCH /v1/accounts/:id sends ModifyAccount with the new limits and metadata', async () => {
    const correlationId = `gw-${randomUUID()}`;
    const body = { overdraftLimitMinor: '5000', metadata: { segment: 'retail' } };
    const answer = await command('PATCH', `/v1/accounts/${accountId}`, body, { 'x-correlation-id': correlationId });
    expect(answer).toMatchObject({ status: 202, body: { command: 'ModifyAccount', correlationId } });
    expect((await commandOn('ModifyAccount', correlationId)).data).toEqual({ accountId, ...body });
  });

  it('POST /v1/accounts sends OpenAccount with the balance flags, limits and metadata as given', async () => {
    const correlationId = `gw-${randomUUID()}`;
    const body = { accountId, ownerId: 'merchant-7', kind: 'merchant', currency: 'EUR', creditsMustNotExceedDebits: true, creditLimitMinor: '500000', metadata: { mcc: '5411' } };
    const answer = await command('POST', '/v1/accounts', body, { 'x-correlation-id': correlationId });
    expect(answer).toMatchObject({ status: 202, body: { accountId, command: 'OpenAccount', status: 'opening', correlationId } });
    expect((await commandOn('OpenAccount', correlationId)).data).toEqual(body);
  });

  it.each([
    [{ debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true }, 'exclude each other'],
    [{ allowNegativeBalance: false, creditsMustNotExceedDebits: true }, 'not both'],
    [{ allowNegativeBalance: true, overdraftLimitMinor: '100' }, 'an overdraft limit needs debitsMustNotExceedCredits'],
    [{ creditLimitMinor: '100' }, 'a credit limit needs creditsMustNotExceedDebits'],
  ])('POST /v1/accounts with terms the ledger would refuse (%j) is a 400 problem invalid-account-terms', async (terms, detail) => {
    const answer = await command('POST', '/v1/accounts', { accountId, ownerId: 'o', kind: 'customer_wallet', currency: 'EUR', ...terms });
    expect(answer).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:invalid-account-terms' } });
    expect(answer.contentType).toContain('application/problem+json');
    expect(String((answer.body as { detail: string }).detail)).toContain(detail);
  });

  it('replays the first answer to a retry with the same Idempotency-Key', async () => {
    const key = randomUUID();
    const first = await call('POST', `/v1/accounts/${accountId}/freeze`, { headers: { 'idempotency-key': key } });
    const retry = await call('POST', `/v1/accounts/${accountId}/freeze`, { headers: { 'idempotency-key': key } });
    expect(retry).toMatchObject({ status: 202, body: first.body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it.each([
    ['PATCH', `/v1/accounts/${accountId}`, { overdraftLimitMinor: '5000', owner: 'me' }, 'invalid-request'],
    ['PATCH', `/v1/accounts/${accountId}`, {}, 'empty-modification'],
    ['PATCH', `/v1/accounts/${accountId}`, { overdraftLimitMinor: '-5' }, 'invalid-request'],
    ['PATCH', `/v1/accounts/${accountId}`, { overdraftLimitMinor: 5000 }, 'invalid-request'],
    ['PATCH', `/v1/accounts/${accountId}`, { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, 'v'])) }, 'invalid-request'],
    ['PATCH', `/v1/accounts/${accountId}`, { metadata: { 'bad key': 'v' } }, 'invalid-request'],
    ['POST', `/v1/accounts/${accountId}/freeze`, { reason: 'fraud' }, 'invalid-request'],
    ['POST', '/v1/accounts/bad%20id/close', undefined, 'invalid-account-id'],
  ])('%s %s with %j is a 400 problem %s', async (method, path, body, slug) => {
    const answer = await command(method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: `urn:clearline:problem:${slug}`, status: 400 });
  });

  it('refuses a command without an Idempotency-Key', async () => {
    const answer = await call('POST', `/v1/accounts/${accountId}/freeze`);
    expect(answer).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:idempotency-key-missing' } });
  });
});

describe('ledger reads', () => {
  const balance = { accountId, currency: 'EUR', asOf: { position: '42' }, balances: { postedMinor: '7400', pendingMinor: '0', availableMinor: '7400' }, lastEntry: null };

  beforeAll(() => {
    answers.set(`/accounts/${accountId}/balance`, { status: 200, contentType: 'application/json; charset=utf-8', body: balance });
    answers.set(`/accounts/${accountId}/history`, { status: 200, contentType: 'application/json; charset=utf-8', body: { entries: [], links: { next: '/v1/accounts/x/history?limit=2&cursor=cDo0' } } });
    answers.set('/transfers', { status: 200, contentType: 'application/json; charset=utf-8', body: { transfers: [] } });
  });

  it('passes the balance query and the /v1 prefix to analytics and its answer back', async () => {
    const before = forwarded.length;
    const correlationId = `gw-${randomUUID()}`;
    const answer = await call('GET', `/v1/accounts/${accountId}/balance?position=42`, { headers: { 'x-correlation-id': correlationId } });
    expect(answer).toMatchObject({ status: 200, body: balance });
    expect(forwarded.slice(before)).toEqual([expect.objectContaining({ url: `/accounts/${accountId}/balance?position=42` })]);
    expect(forwarded[before]!.headers).toMatchObject({ 'x-forwarded-prefix': '/v1', 'x-correlation-id': correlationId });

    await call('GET', `/v1/accounts/${accountId}/balance?asOf=${encodeURIComponent('2026-11-27T09:30:00.123456+02:00')}`);
    expect(forwarded[forwarded.length - 1]!.url).toBe(`/accounts/${accountId}/balance?asOf=${encodeURIComponent('2026-11-27T09:30:00.123456+02:00')}`);
  });

  it('passes history and transfer queries through', async () => {
    const history = await call('GET', `/v1/accounts/${accountId}/history?limit=2&cursor=cDo0`);
    expect(history).toMatchObject({ status: 200, body: { links: { next: '/v1/accounts/x/history?limit=2&cursor=cDo0' } } });
    expect(forwarded[forwarded.length - 1]!.url).toBe(`/accounts/${accountId}/history?limit=2&cursor=cDo0`);
    // Analysts read every correlation id (a channel only those of its own commands).
    const transfers = await call('GET', `/v1/transfers?correlationId=corr-${run}&limit=10`, analyst);
    expect(transfers).toMatchObject({ status: 200, body: { transfers: [] } });
    expect(forwarded[forwarded.length - 1]!.url).toBe(`/transfers?correlationId=corr-${run}&limit=10`);
  });

  it("passes analytics' problems through as they are", async () => {
    // An analyst, since a channel asking for an account it does not own gets the gateway's own 404.
    const answer = await call('GET', `/v1/accounts/gw-${run}-nobody/history`, analyst);
    expect(answer).toMatchObject({ status: 404, contentType: expect.stringContaining('application/problem+json'), body: { type: 'urn:clearline:problem:account-not-found' } });
  });

  it.each([
    `/v1/accounts/${accountId}/balance?asOf=yesterday`,
    `/v1/accounts/${accountId}/balance?position=-1`,
    `/v1/accounts/${accountId}/balance?position=1&asOf=2026-11-27T09:30:00Z`,
    `/v1/accounts/${accountId}/balance?at=now`,
    `/v1/accounts/${accountId}/history?limit=0`,
    `/v1/accounts/${accountId}/history?limit=501`,
    `/v1/accounts/${accountId}/history?limit=ten`,
    `/v1/accounts/${accountId}/history?cursor=${encodeURIComponent('a/b')}`,
    '/v1/accounts/bad%20id/history',
    '/v1/transfers',
    '/v1/transfers?correlationId=x',
  ])('%s is a 400 problem at the edge, never asked of analytics', async (path) => {
    const before = forwarded.length;
    const answer = await call('GET', path);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ status: 400, type: expect.stringMatching(/^urn:clearline:problem:/) });
    expect(forwarded.length).toBe(before);
  });
});

describe('the OpenAPI document', () => {
  const ROUTES: [string, string][] = [
    ['post', '/v1/payments'],
    ['get', '/v1/payments'],
    ['get', '/v1/payments/{paymentId}'],
    ['get', '/v1/payments/events'],
    ['post', '/v1/payments/{paymentId}/capture'],
    ['post', '/v1/payments/{paymentId}/void'],
    ['post', '/v1/payments/{paymentId}/refunds'],
    ['post', '/v1/payments/{paymentId}/review'],
    ['post', '/v1/accounts'],
    ['get', '/v1/accounts/{accountId}'],
    ['patch', '/v1/accounts/{accountId}'],
    ['post', '/v1/accounts/{accountId}/freeze'],
    ['post', '/v1/accounts/{accountId}/unfreeze'],
    ['post', '/v1/accounts/{accountId}/close'],
    ['get', '/v1/accounts/{accountId}/balance'],
    ['get', '/v1/accounts/{accountId}/history'],
    ['post', '/v1/transfers'],
    ['get', '/v1/transfers'],
    ['post', '/v1/webhooks'],
    ['get', '/v1/webhooks'],
    ['get', '/v1/webhooks/{subscriptionId}'],
    ['delete', '/v1/webhooks/{subscriptionId}'],
    ['get', '/v1/webhooks/{subscriptionId}/deliveries'],
    ['post', '/v1/webhooks/deliveries/{deliveryId}/redeliver'],
    ['get', '/v1/settlement-batches'],
    ['get', '/v1/settlement-batches/{batchId}'],
    ['post', '/v1/settlement-batches/close'],
  ];

  it('is served at /docs/openapi.json and lists every /v1 route with its problem+json errors', async () => {
    const answer = await call('GET', '/docs/openapi.json');
    expect(answer.status).toBe(200);
    const document = answer.body;
    expect(document.openapi).toMatch(/^3\./);
    const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).filter((key) => key !== 'parameters').map((method) => [method, path]));
    expect(listed.sort()).toEqual([...ROUTES].sort());
    for (const [method, path] of ROUTES) {
      const responses = document.paths[path][method].responses as Record<string, { content?: Record<string, unknown> }>;
      const problems = Object.entries(responses).filter(([status]) => status.startsWith('4'));
      expect({ method, path, problems: problems.length > 0 }).toEqual({ method, path, problems: true });
      for (const [, response] of problems) expect(response.content).toHaveProperty(['application/problem+json']);
    }
    expect(document.components.schemas).toHaveProperty('ProblemDocumentView');
    const balanceParameters = document.paths['/v1/accounts/{accountId}/balance'].get.parameters.map((parameter: { name: string }) => parameter.name);
    expect(balanceParameters).toEqual(expect.arrayContaining(['accountId', 'asOf', 'position']));
    // Card payments: the request describes the card object and the payment sources; the lifecycle answers name the command.
    expect(Object.keys(document.components.schemas.CreatePaymentRequest.properties)).toEqual(expect.arrayContaining(['card', 'eWallet', 'mobileMoney', 'captureMode']));
    expect(document.components.schemas.CardDetailsDto.required).toEqual(expect.arrayContaining(['number', 'expMonth', 'expYear', 'cvv']));
    expect(document.paths['/v1/payments/{paymentId}/refunds'].post.responses['202'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/PaymentCommandAcceptedView' });
  });

  it('has a browsable UI at /docs', async () => {
    const response = await fetch(`${baseUrl}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
  });
});

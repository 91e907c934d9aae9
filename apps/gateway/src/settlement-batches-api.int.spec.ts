// Proves the gateway's settlement batch routes on real Kafka and Redis: POST /v1/settlement-batches/close
// sends CloseSettlementBatch (a valid envelope of its contract on payments.commands) naming the open
// batch of the channel's merchant account, once per Idempotency-Key; the list and the single batch
// are analytics' answers passed through, filters validated at the edge (a bad one is a 400 problem
// never asked of analytics); a channel reaches only the batches of merchant accounts it opened (another
// channel's account is a 404 on reads, a 422 on the close, as for payments and transfers), an analyst
// reads every batch and closes none (403).
// Analytics is a stand-in HTTP server (apps do not import each other); its answers are the shapes of
// apps/analytics insights.controller.ts (list) and read-models.controller.ts (one batch).
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS, Topics, validateEnvelope, type ChannelCredentials } from '@clearline/contracts';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, parseMessage, silentLogger } from '@clearline/messaging';
import { createServiceApp } from '@clearline/service-runtime';
import { eventually } from '@clearline/testing';
import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const { e_wallet: wallet, card_acquiring: acquirer, analyst } = DEVELOPMENT_CHANNEL_CREDENTIALS;
const walletMerchantAccount = `sb-${run}-wallet-merchant`;
const acquirerMerchantAccount = `sb-${run}-acquirer-merchant`;
const merchantId = `sb-${run}-shop`;

function batch(batchId: string, merchantAccountId: string, status: 'open' | 'closed'): Record<string, unknown> {
  return {
    batchId, merchantId, merchantAccountId, currency: 'EUR', batchNo: 1, status, openedAt: '2026-11-27T08:00:00.000Z', closedAt: null, closeReason: null,
    paymentCount: 2, refundCount: 0, grossMinor: '2500', refundsMinor: '0', feesMinor: '50', carriedInMinor: '0', netMinor: null, carriedForwardMinor: null, payoutStatus: null,
  };
}
const walletBatch = batch(randomUUID(), walletMerchantAccount, 'open');
const acquirerBatch = batch(randomUUID(), acquirerMerchantAccount, 'open');
const batches = [walletBatch, acquirerBatch];

/** The stand-in analytics: the list filtered as analytics filters it, one batch by id, a 404 problem otherwise; records what it is asked. */
const asked: URL[] = [];
let analytics: Server;
let gateway: INestApplication;
let baseUrl: string;
let listener: Consumer;
const closes: { envelope: unknown; correlationId: string; data: Record<string, unknown> }[] = [];

const call = (method: string, path: string, options: CallOptions = {}): Promise<Answer> => signedCall(baseUrl, method, path, options);
const close = (body: unknown, credentials: ChannelCredentials = wallet, headers: Record<string, string> = {}) =>
  call('POST', '/v1/settlement-batches/close', { body, credentials, headers: { 'idempotency-key': randomUUID(), ...headers } });
const problemOf = (answer: Answer) => ({ status: answer.status, type: String(answer.body?.type ?? '').replace('urn:clearline:problem:', '') });

beforeAll(async () => {
  analytics = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://analytics');
    asked.push(url);
    const json = (status: number, body: unknown, type = 'application/json; charset=utf-8') => void response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
    if (url.pathname === '/analytics/settlement-batches') {
      const items = batches.filter((item) => ['merchantAccountId', 'currency', 'status'].every((name) => !url.searchParams.has(name) || item[name] === url.searchParams.get(name)));
      return json(200, { items, nextCursor: null });
    }
    const one = batches.find((item) => url.pathname === `/settlement-batches/${String(item['batchId'])}`);
    if (one !== undefined) return json(200, { ...one, payoutReasonCode: null });
    const batchId = url.pathname.split('/').pop();
    json(404, { type: 'urn:clearline:problem:settlement-batch-not-found', title: 'Settlement batch not found', status: 404, detail: `no settlement batch ${batchId}` }, 'application/problem+json');
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, { ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`, LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent' });

  const settings = { ...kafkaSettingsFromEnv('gateway-settlement-int-test'), logLevel: 'nothing' as const };
  await ensureTopics(settings, ALL_TOPICS);
  listener = createKafka(settings, silentLogger).consumer({ groupId: `gateway-settlement-int-test-${run}`, maxWaitTimeInMs: 100 });
  await listener.connect();
  await listener.subscribe({ topic: Topics.paymentsCommands, fromBeginning: true });
  await listener.run({
    eachMessage: async ({ message }) => {
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (!parsed.accepted) return;
      const envelope = parsed.envelope as unknown as { type: string; data: Record<string, unknown>; metadata: { correlationId: string } };
      if (envelope.type === 'CloseSettlementBatch' && envelope.data['merchantId'] === merchantId) closes.push({ envelope, correlationId: envelope.metadata.correlationId, data: envelope.data });
    },
  });

  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  baseUrl = await gateway.getUrl();
  // Each channel opens (and so owns) its merchant account.
  for (const [accountId, credentials] of [[walletMerchantAccount, wallet], [acquirerMerchantAccount, acquirer]] as const) {
    const opened = await call('POST', '/v1/accounts', { credentials, body: { accountId, ownerId: merchantId, kind: 'merchant', currency: 'EUR' }, headers: { 'idempotency-key': randomUUID() } });
    expect(opened.status).toBe(202);
  }
});

afterAll(async () => {
  await gateway?.close();
  await listener?.disconnect();
  await new Promise((resolve) => analytics?.close(resolve));
});

describe('POST /v1/settlement-batches/close', () => {
  it("sends one CloseSettlementBatch naming the account's open batch, valid by its contract, and replays it to a retry", async () => {
    const correlationId = `sb-${randomUUID()}`;
    const key = randomUUID();
    const body = { merchantAccountId: walletMerchantAccount, currency: 'EUR' };
    const answer = await close(body, wallet, { 'idempotency-key': key, 'x-correlation-id': correlationId });
    expect(answer).toMatchObject({
      status: 202,
      body: { merchantAccountId: walletMerchantAccount, currency: 'EUR', command: 'CloseSettlementBatch', status: 'accepted', settlementBatchIds: [walletBatch['batchId']], correlationId },
    });
    expect(answer.body.links.self).toBe(`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&currency=EUR`);
    expect(asked[asked.length - 1]!.search).toBe(`?merchantAccountId=${walletMerchantAccount}&currency=EUR&status=open&limit=20`);

    const sent = await eventually('CloseSettlementBatch on payments.commands', () => closes.find((message) => message.correlationId === correlationId), 20_000);
    expect(validateEnvelope(sent.envelope)).toMatchObject({ valid: true });
    expect(sent.data).toEqual({ commandId: expect.stringMatching(/^gw-[A-Za-z0-9_-]{43}$/), merchantId, currency: 'EUR', settlementBatchId: walletBatch['batchId'] });

    const retry = await close(body, wallet, { 'idempotency-key': key });
    expect(retry).toMatchObject({ status: 202, body: answer.body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    // A new request (a new key) is a new command id: the payments service tells the two apart.
    const again = await close(body, wallet, { 'x-correlation-id': `${correlationId}-2` });
    expect(again.status).toBe(202);
    const second = await eventually('the second CloseSettlementBatch', () => closes.find((message) => message.correlationId === `${correlationId}-2`), 20_000);
    expect(second.data['commandId']).not.toBe(sent.data['commandId']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(closes.filter((message) => message.correlationId === correlationId)).toHaveLength(1);
  });

  it.each<[string, unknown, string]>([
    ['no currency', { merchantAccountId: walletMerchantAccount }, 'invalid-request'],
    ['a lower-case currency', { merchantAccountId: walletMerchantAccount, currency: 'eur' }, 'invalid-request'],
    ['an unknown currency', { merchantAccountId: walletMerchantAccount, currency: 'XYZ' }, 'invalid-request'],
    ['a bad account id', { merchantAccountId: 'bad id', currency: 'EUR' }, 'invalid-request'],
    ['an account id as a number', { merchantAccountId: 42, currency: 'EUR' }, 'invalid-request'],
    ['an unknown field', { merchantAccountId: walletMerchantAccount, currency: 'EUR', settlementBatchId: walletBatch['batchId'] }, 'invalid-request'],
    ['no body', undefined, 'invalid-request'],
  ])('refuses %s with a 400 problem, sending nothing', async (_label, body, slug) => {
    const correlationId = `sb-${randomUUID()}`;
    const answer = await close(body, wallet, { 'x-correlation-id': correlationId });
    expect(problemOf(answer)).toEqual({ status: 400, type: slug });
    expect(answer.contentType).toContain('application/problem+json');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(closes.filter((message) => message.correlationId === correlationId)).toEqual([]);
  });

  it('refuses a close without an Idempotency-Key (400)', async () => {
    const answer = await call('POST', '/v1/settlement-batches/close', { body: { merchantAccountId: walletMerchantAccount, currency: 'EUR' } });
    expect(problemOf(answer)).toEqual({ status: 400, type: 'idempotency-key-missing' });
  });

  it("refuses another channel's merchant account (422, as a payer or debit account), and an unknown one alike, sending nothing", async () => {
    const correlationId = `sb-${randomUUID()}`;
    const before = asked.length;
    expect(problemOf(await close({ merchantAccountId: walletMerchantAccount, currency: 'EUR' }, acquirer, { 'x-correlation-id': correlationId }))).toEqual({ status: 422, type: 'merchant-account-not-owned' });
    expect(problemOf(await close({ merchantAccountId: `sb-${run}-nobody`, currency: 'EUR' }, acquirer))).toEqual({ status: 422, type: 'merchant-account-not-owned' });
    expect(asked.length).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closes.filter((message) => message.correlationId === correlationId)).toEqual([]);
  });

  it('answers 409 no-open-settlement-batch when the account has no open batch in the currency', async () => {
    expect(problemOf(await close({ merchantAccountId: walletMerchantAccount, currency: 'USD' }))).toEqual({ status: 409, type: 'no-open-settlement-batch' });
  });

  it('refuses a close by an analyst (403 read-only-client)', async () => {
    expect(problemOf(await close({ merchantAccountId: walletMerchantAccount, currency: 'EUR' }, analyst))).toEqual({ status: 403, type: 'read-only-client' });
  });
});

describe('GET /v1/settlement-batches', () => {
  it("lists a channel's merchant account's batches, passing the filters and the page to analytics", async () => {
    const answer = await call('GET', `/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&currency=EUR&status=open&limit=10&cursor=WyJ4Il0`);
    expect(answer).toMatchObject({ status: 200, body: { items: [walletBatch], nextCursor: null } });
    const forwarded = asked[asked.length - 1]!;
    expect(`${forwarded.pathname}${forwarded.search}`).toBe(`/analytics/settlement-batches?merchantAccountId=${walletMerchantAccount}&currency=EUR&status=open&limit=10&cursor=WyJ4Il0`);
  });

  it('lets an analyst list every batch, with or without filters', async () => {
    expect(await call('GET', '/v1/settlement-batches', { credentials: analyst })).toMatchObject({ status: 200, body: { items: batches } });
    expect(await call('GET', `/v1/settlement-batches?merchantAccountId=${acquirerMerchantAccount}`, { credentials: analyst })).toMatchObject({ status: 200, body: { items: [acquirerBatch] } });
  });

  it("answers a channel asking for another channel's merchant account exactly as for a missing account (404), never asking analytics", async () => {
    const before = asked.length;
    const theirs = await call('GET', `/v1/settlement-batches?merchantAccountId=${acquirerMerchantAccount}`);
    const missing = await call('GET', `/v1/settlement-batches?merchantAccountId=sb-${run}-nobody`);
    expect(problemOf(theirs)).toEqual({ status: 404, type: 'account-not-found' });
    expect(theirs.body.detail).toBe(missing.body.detail.replace(`sb-${run}-nobody`, acquirerMerchantAccount));
    expect(asked.length).toBe(before);
  });

  it.each([
    ['/v1/settlement-batches', 'merchant-account-required'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&status=pending`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&currency=eur`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&limit=0`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&limit=501`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&limit=1.5`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&cursor=${encodeURIComponent('a/b')}`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&merchantId=x`, 'invalid-request'],
    [`/v1/settlement-batches?merchantAccountId=${walletMerchantAccount}&status=open&status=closed`, 'invalid-request'],
    ['/v1/settlement-batches?merchantAccountId=bad%20id', 'invalid-request'],
  ])('%s is a 400 problem %s at the edge, never asked of analytics', async (path, slug) => {
    const before = asked.length;
    const answer = await call('GET', path);
    expect(problemOf(answer)).toEqual({ status: 400, type: slug });
    expect(answer.contentType).toContain('application/problem+json');
    expect(asked.length).toBe(before);
  });
});

describe('GET /v1/settlement-batches/:batchId', () => {
  it('shows the owner its batch, as analytics has it', async () => {
    const answer = await call('GET', `/v1/settlement-batches/${String(walletBatch['batchId']).toUpperCase()}`);
    expect(answer).toMatchObject({ status: 200, body: { ...walletBatch, payoutReasonCode: null } });
    expect(asked[asked.length - 1]!.pathname).toBe(`/settlement-batches/${String(walletBatch['batchId'])}`);
  });

  it("answers another channel's batch exactly as a missing one (404 settlement-batch-not-found); an analyst reads it", async () => {
    const theirs = await call('GET', `/v1/settlement-batches/${String(acquirerBatch['batchId'])}`);
    const missingId = randomUUID();
    const missing = await call('GET', `/v1/settlement-batches/${missingId}`);
    expect(problemOf(theirs)).toEqual({ status: 404, type: 'settlement-batch-not-found' });
    expect(theirs.contentType).toContain('application/problem+json');
    expect({ ...theirs.body, detail: undefined, instance: undefined }).toEqual({ ...missing.body, detail: undefined, instance: undefined });
    expect(theirs.body.detail).toBe(missing.body.detail.replace(missingId, String(acquirerBatch['batchId'])));
    expect(await call('GET', `/v1/settlement-batches/${String(acquirerBatch['batchId'])}`, { credentials: analyst })).toMatchObject({ status: 200, body: acquirerBatch });
  });

  it.each(['not-a-uuid', '12345678-1234-1234-1234-1234567890123', 'x%00'])('refuses the batch id %s with a 400 problem, never asking analytics', async (batchId) => {
    const before = asked.length;
    expect(problemOf(await call('GET', `/v1/settlement-batches/${batchId}`))).toEqual({ status: 400, type: 'invalid-settlement-batch-id' });
    expect(asked.length).toBe(before);
  });
});

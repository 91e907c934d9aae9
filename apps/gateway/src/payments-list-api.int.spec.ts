// Proves GET /v1/payments on the gateway with real Kafka and Redis (the ownership registry): the list
// is analytics' answer passed through, filters validated at the edge (a bad one is a 400 problem never
// asked of analytics); a channel must name one of its own merchant or payer accounts (400
// account-required otherwise; another channel's account is a 404 exactly like a missing one, never
// asked of analytics); an analyst lists everything, status=in_review being the review queue; and
// GET /v1/payments/{paymentId} still reaches the single payment next to the list.
// Analytics is a stand-in HTTP server (apps do not import each other); its answers are the shapes of
// apps/analytics read-models.controller.ts (GET /payments and GET /payments/{paymentId}).
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, DEVELOPMENT_CHANNEL_CREDENTIALS } from '@clearline/contracts';
import { ensureTopics, kafkaSettingsFromEnv } from '@clearline/messaging';
import { createServiceApp } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
const { e_wallet: wallet, card_acquiring: acquirer, analyst } = DEVELOPMENT_CHANNEL_CREDENTIALS;
const walletMerchantAccount = `pl-${run}-wallet-merchant`;
const walletPayerAccount = `pl-${run}-wallet-payer`;
const acquirerMerchantAccount = `pl-${run}-acquirer-merchant`;
const merchantId = `pl-${run}-shop`;

function payment(merchantAccountId: string, payerAccountId: string, status: string, channel: string): Record<string, unknown> {
  return {
    paymentId: randomUUID(), status, channel, method: 'wallet', merchantId, merchantAccountId, payerAccountId, amount: { amountMinor: '1250', currency: 'EUR' },
    risk: status === 'in_review' ? { score: 75, decision: 'review', reasons: ['velocity_payer_1h'] } : null, decline: null, holdId: null,
    requestedAt: '2026-11-27T08:00:00.000Z', authorizedAt: null, capturedAt: null, settledAt: null, updatedAt: '2026-11-27T08:00:00.000Z',
  };
}
const walletInReview = payment(walletMerchantAccount, walletPayerAccount, 'in_review', 'e_wallet');
const walletCaptured = payment(walletMerchantAccount, `pl-${run}-someone`, 'captured', 'e_wallet');
const acquirerInReview = payment(acquirerMerchantAccount, walletPayerAccount, 'in_review', 'card_acquiring');
const payments = [walletInReview, walletCaptured, acquirerInReview];
const FILTERS = ['status', 'merchantId', 'merchantAccountId', 'payerAccountId', 'channel'];

/** The stand-in analytics: the list filtered as analytics filters it, one payment by id, a 404 problem otherwise; records what it is asked. */
const asked: URL[] = [];
let analytics: Server;
let gateway: INestApplication;
let baseUrl: string;

const call = (method: string, path: string, options: CallOptions = {}): Promise<Answer> => signedCall(baseUrl, method, path, options);
const problemOf = (answer: Answer) => ({ status: answer.status, type: String(answer.body?.type ?? '').replace('urn:clearline:problem:', '') });
const forwarded = () => { const url = asked[asked.length - 1]!; return `${url.pathname}${url.search}`; };

beforeAll(async () => {
  analytics = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://analytics');
    asked.push(url);
    const json = (status: number, body: unknown, type = 'application/json; charset=utf-8') => void response.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
    if (url.pathname === '/payments') {
      const items = payments.filter((item) => FILTERS.every((name) => !url.searchParams.has(name) || item[name] === url.searchParams.get(name)));
      return json(200, { items, nextCursor: null });
    }
    const one = payments.find((item) => url.pathname === `/payments/${String(item['paymentId'])}`);
    if (one !== undefined) return json(200, one);
    const paymentId = url.pathname.split('/').pop();
    json(404, { type: 'urn:clearline:problem:payment-not-found', title: 'Payment not found', status: 404, detail: `no payment ${paymentId}` }, 'application/problem+json');
  });
  await new Promise<void>((resolve) => analytics.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, { ANALYTICS_URL: `http://127.0.0.1:${(analytics.address() as AddressInfo).port}`, LOG_LEVEL: process.env['GATEWAY_TEST_LOG'] ?? 'silent' });
  await ensureTopics({ ...kafkaSettingsFromEnv('gateway-payments-list-int-test'), logLevel: 'nothing' as const }, ALL_TOPICS);

  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  baseUrl = await gateway.getUrl();
  // Each channel opens (and so owns) its accounts.
  for (const [accountId, kind, credentials] of [[walletMerchantAccount, 'merchant', wallet], [walletPayerAccount, 'customer_wallet', wallet], [acquirerMerchantAccount, 'merchant', acquirer]] as const) {
    const opened = await call('POST', '/v1/accounts', { credentials, body: { accountId, ownerId: merchantId, kind, currency: 'EUR' }, headers: { 'idempotency-key': randomUUID() } });
    expect(opened.status).toBe(202);
  }
});

afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => analytics?.close(resolve));
});

describe('GET /v1/payments', () => {
  it("lists the payments of a channel's merchant account, passing every filter and the page to analytics", async () => {
    const from = '2026-11-27T00:00:00Z';
    const to = '2026-11-28T00:00:00.5+01:00';
    const answer = await call('GET', `/v1/payments?merchantAccountId=${walletMerchantAccount}&status=in_review&merchantId=${merchantId}&channel=e_wallet&from=${from}&to=${encodeURIComponent(to)}&limit=10&cursor=WyJ4Il0`);
    expect(answer).toMatchObject({ status: 200, body: { items: [walletInReview], nextCursor: null } });
    const expected = new URLSearchParams({ status: 'in_review', merchantId, merchantAccountId: walletMerchantAccount, channel: 'e_wallet', from, to, limit: '10', cursor: 'WyJ4Il0' });
    expect(forwarded()).toBe(`/payments?${expected.toString()}`);
  });

  it("lists the payments from a channel's payer account, and with both its accounts named", async () => {
    expect(await call('GET', `/v1/payments?payerAccountId=${walletPayerAccount}`)).toMatchObject({ status: 200, body: { items: [walletInReview, acquirerInReview] } });
    expect(forwarded()).toBe(`/payments?payerAccountId=${walletPayerAccount}`);
    expect(await call('GET', `/v1/payments?payerAccountId=${walletPayerAccount}&merchantAccountId=${walletMerchantAccount}`)).toMatchObject({ status: 200, body: { items: [walletInReview] } });
  });

  it('lets an analyst list every payment, and read the review queue', async () => {
    expect(await call('GET', '/v1/payments', { credentials: analyst })).toMatchObject({ status: 200, body: { items: payments } });
    expect(forwarded()).toBe('/payments');
    expect(await call('GET', '/v1/payments?status=in_review', { credentials: analyst })).toMatchObject({ status: 200, body: { items: [walletInReview, acquirerInReview], nextCursor: null } });
    expect(forwarded()).toBe('/payments?status=in_review');
    expect(await call('GET', `/v1/payments?merchantAccountId=${acquirerMerchantAccount}`, { credentials: analyst })).toMatchObject({ status: 200, body: { items: [acquirerInReview] } });
  });

  it('refuses a channel that names none of its accounts (400 account-required, the review queue included), never asking analytics', async () => {
    const before = asked.length;
    for (const path of ['/v1/payments', '/v1/payments?status=in_review', `/v1/payments?merchantId=${merchantId}`]) {
      const answer = await call('GET', path);
      expect(problemOf(answer)).toEqual({ status: 400, type: 'account-required' });
      expect(answer.body.detail).toContain('merchantAccountId or payerAccountId');
    }
    expect(asked.length).toBe(before);
  });

  it("answers a channel naming another channel's account exactly as a missing account (404), never asking analytics", async () => {
    const before = asked.length;
    const theirs = await call('GET', `/v1/payments?merchantAccountId=${acquirerMerchantAccount}`);
    const missing = await call('GET', `/v1/payments?merchantAccountId=pl-${run}-nobody`);
    expect(problemOf(theirs)).toEqual({ status: 404, type: 'account-not-found' });
    expect(theirs.contentType).toContain('application/problem+json');
    expect(theirs.body.detail).toBe(missing.body.detail.replace(`pl-${run}-nobody`, acquirerMerchantAccount));
    // Its own payer account does not open another's merchant account, nor the other way round.
    expect(problemOf(await call('GET', `/v1/payments?payerAccountId=${walletPayerAccount}&merchantAccountId=${acquirerMerchantAccount}`))).toEqual({ status: 404, type: 'account-not-found' });
    expect(problemOf(await call('GET', `/v1/payments?merchantAccountId=${acquirerMerchantAccount}`, { credentials: wallet }))).toEqual({ status: 404, type: 'account-not-found' });
    expect(problemOf(await call('GET', `/v1/payments?payerAccountId=${acquirerMerchantAccount}&merchantAccountId=${walletMerchantAccount}`))).toEqual({ status: 404, type: 'account-not-found' });
    expect(asked.length).toBe(before);
  });

  const mine = `merchantAccountId=${walletMerchantAccount}`;
  it.each([
    [`/v1/payments?${mine}&status=pending`],
    [`/v1/payments?${mine}&status=in_review&status=declined`],
    [`/v1/payments?${mine}&channel=pos`],
    [`/v1/payments?${mine}&merchantId=bad%20id`],
    ['/v1/payments?merchantAccountId=bad%20id'],
    [`/v1/payments?payerAccountId=${'x'.repeat(65)}`],
    [`/v1/payments?${mine}&from=yesterday`],
    [`/v1/payments?${mine}&to=2026-11-27T08:00:00`],
    [`/v1/payments?${mine}&limit=0`],
    [`/v1/payments?${mine}&limit=501`],
    [`/v1/payments?${mine}&limit=1.5`],
    [`/v1/payments?${mine}&cursor=${encodeURIComponent('a/b')}`],
    [`/v1/payments?${mine}&currency=EUR`],
    ['/v1/payments?status=bogus'],
  ])('%s is a 400 problem invalid-request at the edge, never asked of analytics', async (path) => {
    for (const credentials of [wallet, analyst]) {
      const before = asked.length;
      const answer = await call('GET', path, { credentials });
      expect(problemOf(answer)).toEqual({ status: 400, type: 'invalid-request' });
      expect(answer.contentType).toContain('application/problem+json');
      expect(asked.length).toBe(before);
    }
  });
});

describe('GET /v1/payments/{paymentId} next to the list', () => {
  it('still reads one payment, and refuses a malformed id', async () => {
    const paymentId = String(acquirerInReview['paymentId']);
    expect(await call('GET', `/v1/payments/${paymentId}`, { credentials: analyst })).toMatchObject({ status: 200, body: acquirerInReview });
    expect(forwarded()).toBe(`/payments/${paymentId}`);
    expect((await call('GET', '/v1/payments/not-a-uuid', { credentials: analyst })).status).toBe(400);
    // A channel reaches no payment it did not create: the same 404 as a missing one.
    expect(problemOf(await call('GET', `/v1/payments/${paymentId}`))).toEqual({ status: 404, type: 'payment-not-found' });
  });
});

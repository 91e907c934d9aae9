// Proves GET /payments (the gateway's GET /v1/payments, and the analysts' review queue) on real
// PostgreSQL: newest requested first with ties broken by payment id, keyset pages that neither skip
// nor repeat a row (requested_at kept to the microsecond), every filter, each item exactly as
// GET /payments/{paymentId} answers (every lifecycle column of the row), and a 400 problem naming
// each bad parameter.
// The rows are written straight into analytics.payments (the projection has its own test,
// payments.int.spec.ts): appending PaymentRequested would let the outbox relay publish it to the
// shared Kafka. Every row carries this run's merchant id, and only those rows are removed afterwards.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { createPool, type Pool } from '@clearline/postgres';
import { createServiceApp } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';

jest.setTimeout(60_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
const merchantId = `pl-${run}-shop`;
const accountA = `pl-${run}-merchant-a`;
const accountB = `pl-${run}-merchant-b`;
const payer1 = `pl-${run}-payer-1`;
const payer2 = `pl-${run}-payer-2`;

interface Seed { status: string; channel: string; merchantAccountId: string; payerAccountId: string; requestedAt: string; declined?: boolean }
const seeds: Seed[] = [
  { status: 'in_review', channel: 'card_acquiring', merchantAccountId: accountA, payerAccountId: payer1, requestedAt: '2026-11-27T08:00:00.000001Z' },
  { status: 'in_review', channel: 'e_wallet', merchantAccountId: accountA, payerAccountId: payer2, requestedAt: '2026-11-27T08:01:00.000000Z' },
  { status: 'captured', channel: 'card_acquiring', merchantAccountId: accountB, payerAccountId: payer1, requestedAt: '2026-11-27T08:02:00.000000Z' },
  // The same requested_at as the one above: the payment id decides.
  { status: 'authorized', channel: 'card_acquiring', merchantAccountId: accountA, payerAccountId: payer1, requestedAt: '2026-11-27T08:02:00.000000Z' },
  { status: 'declined', channel: 'mobile', merchantAccountId: accountA, payerAccountId: payer2, requestedAt: '2026-11-27T08:03:00.500123Z', declined: true },
  // Two within one millisecond: a cursor cut to milliseconds would skip one of them.
  { status: 'requested', channel: 'e_wallet', merchantAccountId: accountB, payerAccountId: payer2, requestedAt: '2026-11-27T08:04:00.000100Z' },
  { status: 'requested', channel: 'e_wallet', merchantAccountId: accountB, payerAccountId: payer2, requestedAt: '2026-11-27T08:04:00.000200Z' },
];
const payments = seeds.map((seed) => ({ ...seed, paymentId: randomUUID() }));
type Payment = (typeof payments)[number];
/** Newest first, then the larger payment id: what the API promises (the seeds' times all have six fraction digits, so they sort as text). */
const newestFirst = (list: Payment[]): string[] =>
  [...list].sort((a, b) => (a.requestedAt === b.requestedAt ? b.paymentId.localeCompare(a.paymentId) : b.requestedAt.localeCompare(a.requestedAt))).map((payment) => payment.paymentId);

let app: INestApplication;
let baseUrl: string;
let pool: Pool;

/** A page, a payment or a problem: the fields the tests read. */
type Body = { items: { paymentId: string }[]; nextCursor: string | null; type?: string; [field: string]: unknown };
type Answer = { status: number; contentType: string; body: Body };
async function get(path: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: (await response.json()) as Body };
}

/** Every page of `query` with `limit`, following nextCursor to the end. */
async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const answer = await get(`/payments?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(answer.status).toBe(200);
    expect(answer.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...answer.body.items.map((item) => item.paymentId));
    cursor = answer.body.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 20);
  return { ids, pages };
}

beforeAll(async () => {
  Object.assign(process.env, { DATABASE_URL, LOG_LEVEL: process.env['ANALYTICS_TEST_LOG'] ?? 'silent' });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'analytics-payments-list-int-test', max: 2 });
  for (const payment of payments) {
    await pool.query(
      `insert into analytics.payments (payment_id, status, channel, method, merchant_id, merchant_account_id, payer_account_id, capture_mode, amount_minor, currency,
         refunded_minor, pending_refund_minor, refund_count, risk_score, risk_decision, risk_reasons, decline_stage, decline_reason, requested_at, updated_at, last_position)
       values ($1, $2, $3, 'wallet', $4, $5, $6, 'automatic', 1250, 'EUR', 0, 0, 0, $7, $8, $9, $10, $11, $12, $12, 0)`,
      [payment.paymentId, payment.status, payment.channel, merchantId, payment.merchantAccountId, payment.payerAccountId,
        payment.declined ? 93 : null, payment.declined ? 'decline' : null, payment.declined ? JSON.stringify(['velocity_payer_1h']) : null,
        payment.declined ? 'risk' : null, payment.declined ? 'risk_declined' : null, payment.requestedAt],
    );
  }
  const { AppModule } = await import('./app.module.js');
  app = await createServiceApp(AppModule);
  await app.listen(0, '127.0.0.1');
  baseUrl = await app.getUrl();
});

afterAll(async () => {
  await app?.close();
  await pool?.query('delete from analytics.payments where merchant_id = $1', [merchantId]);
  await pool?.end();
});

describe('GET /payments', () => {
  it('pages newest first, ties by payment id, without skipping or repeating a row, whatever the page size', async () => {
    for (const limit of [1, 2, 3, 50]) {
      const { ids, pages } = await allPages(`merchantId=${merchantId}`, limit);
      expect({ limit, ids }).toEqual({ limit, ids: newestFirst(payments) });
      expect(pages).toBe(Math.max(1, Math.ceil(payments.length / limit)));
    }
  });

  it('shows each item exactly as GET /payments/{paymentId} does', async () => {
    const page = await get(`/payments?merchantId=${merchantId}`);
    expect(page.body.items).toHaveLength(payments.length);
    for (const item of page.body.items) expect(item).toEqual((await get(`/payments/${item.paymentId}`)).body);
    const declined = payments.find((payment) => payment.declined)!;
    expect(page.body.items.find((item) => item.paymentId === declined.paymentId)).toEqual({
      paymentId: declined.paymentId, status: 'declined', channel: 'mobile', method: 'wallet', merchantId, merchantAccountId: accountA, payerAccountId: payer2,
      amount: { amountMinor: '1250', currency: 'EUR' }, captureMode: 'automatic', authorizedMinor: null, capturedMinor: null, refundedMinor: '0',
      pendingRefundMinor: '0', refundCount: 0, risk: { score: 93, decision: 'decline', reasons: ['velocity_payer_1h'] },
      decline: { stage: 'risk', reasonCode: 'risk_declined' }, review: null, failureReason: null, expiryReason: null, refundFailureReason: null,
      holdId: null, settlementBatchId: null, requestedAt: '2026-11-27T08:03:00.500Z', authorizationStartedAt: null, authorizedAt: null, decidedAt: null,
      captureStartedAt: null, capturedAt: null, voidStartedAt: null, voidedAt: null, expiredAt: null, refundStartedAt: null, refundedAt: null,
      settledAt: null, endedAt: null, updatedAt: '2026-11-27T08:03:00.500Z',
    });
  });

  it.each<[string, string, (payment: Payment) => boolean]>([
    ['the review queue', 'status=in_review', (payment) => payment.status === 'in_review'],
    ['a merchant account', `merchantAccountId=${accountB}`, (payment) => payment.merchantAccountId === accountB],
    ['a payer account', `payerAccountId=${payer1}`, (payment) => payment.payerAccountId === payer1],
    ['a channel', 'channel=e_wallet', (payment) => payment.channel === 'e_wallet'],
    ['from (inclusive) and to (exclusive)', `from=${encodeURIComponent('2026-11-27T08:01:00Z')}&to=${encodeURIComponent('2026-11-27T09:03:00.500123+01:00')}`,
      (payment) => payment.requestedAt >= '2026-11-27T08:01:00.000000Z' && payment.requestedAt < '2026-11-27T08:03:00.500123Z'],
    ['several at once', `status=requested&merchantAccountId=${accountB}&payerAccountId=${payer2}&channel=e_wallet`,
      (payment) => payment.status === 'requested' && payment.merchantAccountId === accountB],
  ])('filters by %s', async (_label, query, matches) => {
    const expected = newestFirst(payments.filter(matches));
    expect(expected.length).toBeGreaterThan(0);
    expect((await allPages(`merchantId=${merchantId}&${query}`, 2)).ids).toEqual(expected);
  });

  it('answers an empty page for a filter nothing matches', async () => {
    expect(await get(`/payments?merchantId=${merchantId}&status=refunded`)).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
  });

  const cursorOf = (key: unknown) => Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
  it.each([
    ['status=pending', 'invalid-status'],
    ['status=in_review&status=declined', 'invalid-status'],
    ['merchantAccountId=bad%20id', 'invalid-merchant-account-id'],
    ['payerAccountId=', 'invalid-payer-account-id'],
    ['merchantId=%2Fx', 'invalid-merchant-id'],
    ['channel=Card', 'invalid-channel'],
    ['from=2026-02-30T00:00:00Z', 'invalid-from'],
    ['to=2026-11-27T08:00:00', 'invalid-to'],
    ['currency=EUR', 'invalid-currency'],
    ['limit=0', 'invalid-limit'],
    ['limit=501', 'invalid-limit'],
    ['limit=1.5', 'invalid-limit'],
    ['cursor=a%2Fb', 'invalid-cursor'],
    [`cursor=${cursorOf(['2026-11-27T08:00:00Z'])}`, 'invalid-cursor'],
    [`cursor=${cursorOf(['yesterday', randomUUID()])}`, 'invalid-cursor'],
    [`cursor=${cursorOf(['2026-11-27T08:00:00Z', 'not-a-uuid'])}`, 'invalid-cursor'],
  ])('refuses %s with a 400 problem %s', async (query, slug) => {
    const answer = await get(`/payments?${query}`);
    expect({ status: answer.status, type: answer.body.type }).toEqual({ status: 400, type: `urn:clearline:problem:${slug}` });
    expect(answer.contentType).toContain('application/problem+json');
  });

  it('answers GET /payments/{paymentId} with the whole lifecycle: amounts, reasons, reviewer and the time of each step', async () => {
    const paymentId = randomUUID();
    const batchId = randomUUID();
    const holdId = randomUUID();
    // A manual-capture payment that went through review, was captured in part, refunded in part, had a
    // refund refused and settled: every lifecycle column holds a value of its own.
    await pool.query(
      `insert into analytics.payments (payment_id, status, channel, method, merchant_id, merchant_account_id, payer_account_id, capture_mode, amount_minor, currency,
         authorized_minor, captured_minor, refunded_minor, pending_refund_minor, refund_count, risk_score, risk_decision, risk_reasons,
         review_timeout_outcome, review_decision, reviewed_by, refund_failure_reason, hold_id, settlement_batch_id,
         requested_at, review_started_at, reviewed_at, authorization_started_at, authorized_at, decided_at, capture_started_at, captured_at,
         refund_started_at, refunded_at, settled_at, updated_at, last_position)
       values ($1, 'settled', 'card_acquiring', 'wallet', $2, $3, $4, 'manual', 90000000000000000000001, 'EUR',
         90000000000000000000001, 45000000000000000000001, 300, 0, 1, 72, 'review', '["velocity_payer_1h"]',
         'decline', 'approve', 'analyst-3', 'insufficient_funds', $5, $6,
         '2026-11-27T09:00:00.000001Z', '2026-11-27T09:00:01Z', '2026-11-27T09:05:00Z', '2026-11-27T09:05:01Z', '2026-11-27T09:05:02Z', '2026-11-27T09:05:02Z',
         '2026-11-27T10:00:00Z', '2026-11-27T10:00:01Z', '2026-11-27T11:00:00Z', '2026-11-27T11:00:02Z', '2026-11-28T00:00:00Z', '2026-11-28T00:00:00Z', 0)`,
      [paymentId, merchantId, accountA, payer1, holdId, batchId],
    );
    const answer = await get(`/payments/${paymentId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      paymentId, status: 'settled', channel: 'card_acquiring', method: 'wallet', merchantId, merchantAccountId: accountA, payerAccountId: payer1,
      amount: { amountMinor: '90000000000000000000001', currency: 'EUR' }, captureMode: 'manual',
      // Beyond 2^53: amounts stay exact strings of minor units, never floats.
      authorizedMinor: '90000000000000000000001', capturedMinor: '45000000000000000000001', refundedMinor: '300', pendingRefundMinor: '0', refundCount: 1,
      risk: { score: 72, decision: 'review', reasons: ['velocity_payer_1h'] }, decline: null,
      review: { timeoutOutcome: 'decline', decision: 'approve', reviewedBy: 'analyst-3', startedAt: '2026-11-27T09:00:01.000Z', reviewedAt: '2026-11-27T09:05:00.000Z' },
      failureReason: null, expiryReason: null, refundFailureReason: 'insufficient_funds', holdId, settlementBatchId: batchId,
      requestedAt: '2026-11-27T09:00:00.000Z', authorizationStartedAt: '2026-11-27T09:05:01.000Z', authorizedAt: '2026-11-27T09:05:02.000Z',
      decidedAt: '2026-11-27T09:05:02.000Z', captureStartedAt: '2026-11-27T10:00:00.000Z', capturedAt: '2026-11-27T10:00:01.000Z',
      voidStartedAt: null, voidedAt: null, expiredAt: null, refundStartedAt: '2026-11-27T11:00:00.000Z', refundedAt: '2026-11-27T11:00:02.000Z',
      settledAt: '2026-11-28T00:00:00.000Z', endedAt: null, updatedAt: '2026-11-28T00:00:00.000Z',
    });
    // A payment that never reached review shows no review at all, and its unreached steps as null.
    const plain = await get(`/payments/${payments[2]!.paymentId}`);
    expect(plain.body).toMatchObject({ review: null, authorizedMinor: null, capturedMinor: null, refundedMinor: '0', refundCount: 0, settledAt: null, endedAt: null });
    // The list shows the same view: the payment is an item of its merchant account's page.
    const page = await get(`/payments?merchantAccountId=${accountA}&from=2026-11-27T09:00:00Z&to=2026-11-27T09:00:01Z`);
    expect(page.body.items).toEqual([answer.body]);
    await pool.query('delete from analytics.payments where payment_id = $1', [paymentId]);
  });

  it('still answers GET /payments/{paymentId}, and its 400 and 404', async () => {
    expect(await get(`/payments/${payments[0]!.paymentId}`)).toMatchObject({ status: 200, body: { paymentId: payments[0]!.paymentId, status: 'in_review' } });
    expect((await get('/payments/not-a-uuid')).status).toBe(400);
    expect((await get(`/payments/${randomUUID()}`)).status).toBe(404);
  });
});

// Proves the settlement batch reads the gateway forwards to, on real PostgreSQL: the running service
// projects settlement streams (SettlementBatchOpened appended here as the payments service appends it)
// into the settlement_batches read model; GET /settlement-batches/{batchId} answers one batch with its
// merchant account, GET /analytics/settlement-batches filters by merchantAccountId and names each
// batch's merchant account; a malformed id or filter is a 400 problem, an unknown batch a 404 problem.
// Only SettlementBatchOpened is appended: it is no contract event, so no outbox relay publishes it.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { PostgresEventStore } from '@clearline/event-store';
import { createPool, type Pool } from '@clearline/postgres';
import { createServiceApp } from '@clearline/service-runtime';
import { eventually } from '@clearline/testing';
import { randomUUID } from 'node:crypto';

jest.setTimeout(60_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
const merchantId = `sb-${run}-shop`;
const batches = [
  { batchId: randomUUID(), merchantAccountId: `sb-${run}-merchant-a`, currency: 'EUR' },
  { batchId: randomUUID(), merchantAccountId: `sb-${run}-merchant-b`, currency: 'USD' },
];

let app: INestApplication;
let baseUrl: string;
let pool: Pool;

async function get(path: string): Promise<{ status: number; contentType: string; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  Object.assign(process.env, { DATABASE_URL, LOG_LEVEL: process.env['ANALYTICS_TEST_LOG'] ?? 'silent' });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'analytics-settlement-int-test', max: 2 });
  const { AppModule } = await import('./app.module.js');
  app = await createServiceApp(AppModule);
  await app.listen(0, '127.0.0.1');
  baseUrl = await app.getUrl();
  const store = new PostgresEventStore(pool);
  for (const [index, batch] of batches.entries()) {
    await store.appendToStreams([{
      streamId: `settlement-${merchantId}-${batch.currency}-1`,
      events: [{
        id: randomUUID(),
        type: 'SettlementBatchOpened',
        data: {
          batchId: batch.batchId, merchantId, currency: batch.currency, batchNo: 1, merchantAccountId: batch.merchantAccountId,
          settlementAccountId: `settlement-${run}-${index}`, feeRevenueAccountId: `fees-${run}`, percentBasisPoints: '150', fixedMinor: '25', carriedInMinor: '0',
          openedAt: new Date(Date.UTC(2026, 10, 27, 8, index)).toISOString(),
        },
        metadata: { correlationId: `sb-${run}`, causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'payments' },
      }],
    }]);
  }
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
});

it('answers one batch by id, with its merchant account and no payout yet', async () => {
  const [batch] = batches;
  const answer = await eventually('the batch in the read model', async () => {
    const found = await get(`/settlement-batches/${batch!.batchId}`);
    return found.status === 200 ? found : undefined;
  }, 30_000);
  expect(answer.body).toEqual({
    batchId: batch!.batchId, merchantId, merchantAccountId: batch!.merchantAccountId, currency: 'EUR', batchNo: 1, status: 'open',
    openedAt: '2026-11-27T08:00:00.000Z', closedAt: null, closeReason: null, paymentCount: 0, refundCount: 0, grossMinor: '0', refundsMinor: '0',
    feesMinor: '0', carriedInMinor: '0', netMinor: null, carriedForwardMinor: null, payoutStatus: null, payoutReasonCode: null,
  });
});

it('lists the batches of one merchant account, each naming its merchant account', async () => {
  await eventually('both batches in the read model', async () => ((await get(`/settlement-batches/${batches[1]!.batchId}`)).status === 200 ? true : undefined), 30_000);
  for (const batch of batches) {
    const page = await get(`/analytics/settlement-batches?merchantAccountId=${batch.merchantAccountId}`);
    expect(page).toMatchObject({ status: 200, body: { items: [{ batchId: batch.batchId, merchantAccountId: batch.merchantAccountId, currency: batch.currency }], nextCursor: null } });
  }
  const open = await get(`/analytics/settlement-batches?merchantId=${merchantId}&status=open`);
  expect((open.body['items'] as { batchId: string }[]).map((item) => item.batchId)).toEqual(batches.map((batch) => batch.batchId));
  expect((await get(`/analytics/settlement-batches?merchantAccountId=${batches[0]!.merchantAccountId}&status=closed`)).body).toEqual({ items: [], nextCursor: null });
});

it.each([
  ['/settlement-batches/not-a-uuid', 400, 'invalid-settlement-batch-id'],
  [`/settlement-batches/${randomUUID()}`, 404, 'settlement-batch-not-found'],
  ['/analytics/settlement-batches?merchantAccountId=bad%20id', 400, 'invalid-merchant-account-id'],
  ['/analytics/settlement-batches?merchantAccountId=a&merchantAccountId=b', 400, 'invalid-merchant-account-id'],
  // A batch has no channel: this was a 500 (no such column).
  ['/analytics/settlement-batches?channel=e_wallet', 400, 'unsupported-filter'],
])('%s is a %d problem %s', async (path, status, slug) => {
  const answer = await get(path);
  expect(answer).toMatchObject({ status, body: { type: `urn:clearline:problem:${slug}`, status } });
  expect(answer.contentType).toContain('application/problem+json');
});

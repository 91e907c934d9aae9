// Proves two rules of the analyst queries (apps/analytics/src/insights.controller.ts):
// - over UTC days (decline reasons, the risk score histogram) the days of the range are taken in UTC,
//   whatever the database session's time zone: the service runs here with every session in
//   America/New_York (PGOPTIONS), where a plain ::date of 2026-03-02T00:00:00Z is 1 March;
// - P(t) / R(t) never add minor units of different currencies: a row's amounts are null unless it is
//   of one currency (grouped by currency or filtered to one), while its counts add up.
// The rows are written straight into the read models, for days and a merchant of their own, and
// removed at the end.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { createPool, type Pool } from '@clearline/postgres';
import { createServiceApp } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const SESSION_TIME_ZONE = 'America/New_York';
const run = randomUUID().slice(0, 8);
const merchantId = `int-${run}-days`;
// Days no other test writes: the histogram has no merchant to tell runs apart.
const days = ['1999-03-01', '1999-03-02', '1999-03-03'];

let app: INestApplication;
let baseUrl: string;
let pool: Pool;
let previousOptions: string | undefined;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  previousOptions = process.env['PGOPTIONS'];
  Object.assign(process.env, { DATABASE_URL, LOG_LEVEL: 'silent', PGOPTIONS: `-c TimeZone=${SESSION_TIME_ZONE}` });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'analytics-days-int-test', max: 2 });
  await pool.query('delete from analytics.risk_score_distribution where day = any($1::date[])', [days]);
  // One row per day, each day's count its own: 1 on 1 March, 10 on 2 March, 100 on 3 March.
  // One hour of P(t) / R(t) in two currencies: 12.50 EUR and 1,250 JPY are the same minor units.
  for (const [currency, requests, approved, approvedMinor] of [['EUR', 2, 1, 1000], ['JPY', 1, 1, 1250]] as const) {
    await pool.query(
      `insert into analytics.payment_flow (granularity, bucket_start, channel, merchant_id, currency, requests, requested_minor, approved, approved_minor, declined, failed, in_review)
       values ('hour', '1999-03-02T10:00:00Z', 'e_wallet', $1, $2, $3, 1250, $4, $5, $3::bigint - $4::bigint, 0, 0)`,
      [merchantId, currency, requests, approved, approvedMinor],
    );
  }
  for (const [index, day] of days.entries()) {
    await pool.query(
      `insert into analytics.decline_reasons (day, channel, merchant_id, currency, stage, reason_code, declines) values ($1, 'e_wallet', $2, 'EUR', 'risk', 'days_test', $3)`,
      [day, merchantId, 10 ** index],
    );
    await pool.query(`insert into analytics.risk_score_distribution (day, decision, score, assessments) values ($1, 'decline', 97, $2)`, [day, 10 ** index]);
  }
  const { AppModule } = await import('./app.module.js');
  app = await createServiceApp(AppModule);
  await app.listen(0, '127.0.0.1');
  baseUrl = await app.getUrl();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pool?.query('delete from analytics.decline_reasons where merchant_id = $1', [merchantId]);
  await pool?.query('delete from analytics.payment_flow where merchant_id = $1', [merchantId]);
  await pool?.query('delete from analytics.risk_score_distribution where day = any($1::date[])', [days]);
  await pool?.end();
  if (previousOptions === undefined) delete process.env['PGOPTIONS'];
  else process.env['PGOPTIONS'] = previousOptions;
});

it('runs its sessions in the other time zone (the premise)', async () => {
  const { rows } = await pool.query<{ zone: string; day: string }>(`select current_setting('TimeZone') as zone, ('1999-03-02T00:00:00Z'::timestamptz)::date::text as day`);
  expect(rows[0]).toEqual({ zone: SESSION_TIME_ZONE, day: '1999-03-01' });
});

describe('a range of whole UTC days', () => {
  it('gives the decline reasons of 2 March alone', async () => {
    const answer = await get(`/analytics/decline-reasons?merchantId=${merchantId}&from=1999-03-02T00:00:00Z&to=1999-03-03T00:00:00Z`);
    expect(answer.status).toBe(200);
    expect(answer.body['items']).toEqual([{ stage: 'risk', reasonCode: 'days_test', declines: '10' }]);
  });

  it('gives the risk scores of 2 and 3 March', async () => {
    const answer = await get('/analytics/risk-scores?bucketWidth=101&from=1999-03-02T00:00:00Z&to=1999-03-04T00:00:00Z');
    expect(answer.status).toBe(200);
    expect(answer.body['items']).toEqual([expect.objectContaining({ scoreFrom: 0, decline: '110' })]);
  });

  it('takes an instant inside a day as that UTC day', async () => {
    // 23:30 UTC on 1 March is 18:30 in New York, and 1 March in both.
    const answer = await get(`/analytics/decline-reasons?merchantId=${merchantId}&from=1999-03-01T23:30:00Z&to=1999-03-02T00:00:00Z`);
    expect(answer.body['items']).toEqual([{ stage: 'risk', reasonCode: 'days_test', declines: '1' }]);
  });
});

describe('P(t) and R(t) amounts', () => {
  const hour = `granularity=hour&merchantId=${merchantId}&from=1999-03-02T00:00:00Z&to=1999-03-03T00:00:00Z`;

  it('are null on a row of two currencies, whose counts still add up', async () => {
    const answer = await get(`/analytics/flow?${hour}`);
    expect(answer.status).toBe(200);
    expect(answer.body['items']).toEqual([expect.objectContaining({ requests: '3', approved: '2', declined: '1', requestedMinor: null, approvedMinor: null })]);
  });

  it('are given per currency when grouped by it', async () => {
    const answer = await get(`/analytics/flow?${hour}&groupBy=currency`);
    expect(answer.body['items']).toEqual([
      expect.objectContaining({ currency: 'EUR', requests: '2', requestedMinor: '1250', approvedMinor: '1000' }),
      expect.objectContaining({ currency: 'JPY', requests: '1', requestedMinor: '1250', approvedMinor: '1250' }),
    ]);
  });

  it('are given for the one currency asked for, in JSON and in CSV', async () => {
    const answer = await get(`/analytics/flow?${hour}&currency=JPY`);
    expect(answer.body['items']).toEqual([expect.objectContaining({ requests: '1', requestedMinor: '1250', approvedMinor: '1250' })]);
    const csv = await (await fetch(`${baseUrl}/analytics/flow?${hour}&format=csv`)).text();
    const [header, row] = csv.trim().split(/\r?\n/);
    const cells = Object.fromEntries(header!.split(',').map((name, index) => [name, row!.split(',')[index]]));
    expect(cells).toMatchObject({ requests: '3', requestedMinor: '', approvedMinor: '' });
  });
});

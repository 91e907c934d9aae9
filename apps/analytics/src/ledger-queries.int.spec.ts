// Proves the ledger read models and queries of apps/analytics on real PostgreSQL: the running service
// projects account and transfer streams (appended here as the ledger appends them) into one entry per
// balance change with the balances after it; balances as of every global position and every recorded
// time are the balances the account had then; history pages newest first with no duplicate or gap,
// even while new entries arrive; transfers are found by correlation id with their entries; bad input
// is a problem+json 400 and an unknown account a 404; projecting an event twice changes nothing, and
// replaying an account's stream into emptied rows rebuilds them byte for byte.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { contractFor, isContractType, validateEnvelope } from '@clearline/contracts';
import { PostgresEventStore, type NewEvent, type RecordedEvent } from '@clearline/event-store';
import { createPool, type Pool } from '@clearline/postgres';
import { createServiceApp } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';
import { LEDGER_TABLES, projectLedger } from './ledger-projection.js';
import { eventually } from '@clearline/testing';

/** The projection is a catch-up subscription: a change shows within a few polls, far below the test's bound. */
const READ_MODEL_WAIT_MS = 20_000;

jest.setTimeout(60_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
const funding = `int-${run}-funding`;
const wallet = `int-${run}-wallet`;
const correlation = { first: `corr-${run}-first`, hold: `corr-${run}-hold`, reversal: `corr-${run}-reversal` };
const transferIds = { funding: randomUUID(), refund: randomUUID(), reversal: randomUUID(), refused: randomUUID() };
const holdId = randomUUID();

let app: INestApplication;
let baseUrl: string;
let pool: Pool;
let store: PostgresEventStore;

interface Answer {
  status: number;
  contentType: string;
  // The API's JSON, asserted on by shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function get(path: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.json() };
}

/**
 * An event as the ledger writes it. The database is shared with the other services' tests, and the
 * ledger's outbox relay publishes the contract events it finds there: one that breaks its contract
 * would stop that relay, so each is checked before it is appended.
 */
function event(type: string, data: Record<string, unknown>, correlationId: string): NewEvent {
  const recorded = { id: randomUUID(), type, data, metadata: { correlationId, causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'ledger' } };
  if (isContractType(type)) {
    const validation = validateEnvelope({ ...recorded, schemaVersion: contractFor(type).schemaVersion });
    if (!validation.valid) throw new Error(`the test's ${type} breaks its contract: ${validation.reason}`);
  }
  return recorded;
}

const balances = (postedMinor: string) => ({ currency: 'EUR', postedMinor, pendingMinor: '0', availableMinor: postedMinor });

/** One decision's events, appended atomically as the ledger appends them: one transaction, one recorded time. */
async function decide(correlationId: string, streams: Record<string, [string, Record<string, unknown>][]>): Promise<void> {
  await store.appendToStreams(Object.entries(streams).map(([streamId, events]) => ({
    streamId, events: events.map(([type, data]) => event(type, data, correlationId)),
  })));
}

const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

async function historyOf(accountId: string, limit: number): Promise<Answer[]> {
  const pages: Answer[] = [];
  let path: string | null = `/accounts/${accountId}/history?limit=${limit}`;
  while (path !== null) {
    const page = await get(path);
    expect(page.status).toBe(200);
    pages.push(page);
    path = page.body.links.next;
  }
  return pages;
}

beforeAll(async () => {
  Object.assign(process.env, { DATABASE_URL, LOG_LEVEL: process.env['ANALYTICS_TEST_LOG'] ?? 'silent' });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'analytics-int-test', max: 4 });
  store = new PostgresEventStore(pool);
  const { AppModule } = await import('./app.module.js');
  app = await createServiceApp(AppModule);
  await app.listen(0, '127.0.0.1');
  baseUrl = await app.getUrl();

  const opened = (accountId: string, kind: string) => ({
    accountId, ownerId: `owner-${run}`, kind, currency: 'EUR', debitsMustNotExceedCredits: kind !== 'funding', creditsMustNotExceedDebits: false,
    overdraftLimitMinor: '0', creditLimitMinor: '0', metadata: {},
  });
  await decide(`corr-${run}-open`, { [`account-${funding}`]: [['AccountOpened', opened(funding, 'funding')]] });
  await decide(`corr-${run}-open`, { [`account-${wallet}`]: [['AccountOpened', opened(wallet, 'customer_wallet')]] });
  await decide(correlation.first, {
    [`account-${funding}`]: [['AccountDebited', { transferId: transferIds.funding, amountMinor: '10000' }]],
    [`account-${wallet}`]: [['AccountCredited', { transferId: transferIds.funding, amountMinor: '10000' }]],
    [`transfer-${transferIds.funding}`]: [['TransferPosted', {
      transferId: transferIds.funding, debitAccountId: funding, creditAccountId: wallet, amount: eur('10000'), debitBalances: balances('-10000'), creditBalances: balances('10000'),
    }]],
  });
  await decide(correlation.hold, { [`account-${wallet}`]: [['AccountFundsHeld', { holdId, amountMinor: '2500' }]] });
  // A partial capture: 2,000 posted out of the hold, the other 500 released, in one decision.
  await decide(correlation.hold, {
    [`account-${wallet}`]: [['AccountHoldCaptured', { holdId, amountMinor: '2000' }], ['AccountHoldReleased', { holdId, amountMinor: '500' }]],
    [`account-${funding}`]: [['AccountCredited', { transferId: holdId, amountMinor: '2000' }]],
  });
  await decide(correlation.first, {
    [`account-${wallet}`]: [['AccountDebited', { transferId: transferIds.refund, amountMinor: '1000' }]],
    [`account-${funding}`]: [['AccountCredited', { transferId: transferIds.refund, amountMinor: '1000' }]],
    [`transfer-${transferIds.refund}`]: [['TransferPosted', {
      transferId: transferIds.refund, debitAccountId: wallet, creditAccountId: funding, amount: eur('1000'), debitBalances: balances('7000'), creditBalances: balances('-7000'),
    }]],
  });
  await decide(correlation.reversal, {
    [`account-${funding}`]: [['AccountDebited', { transferId: transferIds.reversal, amountMinor: '400' }]],
    [`account-${wallet}`]: [['AccountCredited', { transferId: transferIds.reversal, amountMinor: '400' }]],
    [`transfer-${transferIds.refund}`]: [['TransferReversalApplied', { originalTransferId: transferIds.refund, reversalTransferId: transferIds.reversal, amountMinor: '400' }]],
    [`transfer-${transferIds.reversal}`]: [['TransferReversed', {
      transferId: transferIds.reversal, originalTransferId: transferIds.refund, amount: eur('400'), debitAccountId: funding, creditAccountId: wallet, balancesAfter: {},
    }]],
  });
  await decide(correlation.first, {
    [`transfer-${transferIds.refused}`]: [['TransferRejected', {
      transferId: transferIds.refused, debitAccountId: wallet, creditAccountId: funding, amount: eur('999999'), reasonCode: 'insufficient_funds',
    }]],
  });
  await decide(`corr-${run}-freeze`, { [`account-${wallet}`]: [['AccountFrozen', { accountId: wallet }]] });
  await eventually('the wallet frozen in the read model', async () => {
    const account = await get(`/accounts/${wallet}`);
    return account.body.status === 'frozen' ? account : undefined;
  }, READ_MODEL_WAIT_MS);
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
});

/** The wallet's balances after each of its six balance changes, oldest first. */
const WALLET_AFTER = [
  { type: 'AccountCredited', postedMinor: '10000', pendingMinor: '0', availableMinor: '10000' },
  { type: 'AccountFundsHeld', postedMinor: '10000', pendingMinor: '2500', availableMinor: '7500' },
  { type: 'AccountHoldCaptured', postedMinor: '8000', pendingMinor: '500', availableMinor: '7500' },
  { type: 'AccountHoldReleased', postedMinor: '8000', pendingMinor: '0', availableMinor: '8000' },
  { type: 'AccountDebited', postedMinor: '7000', pendingMinor: '0', availableMinor: '7000' },
  { type: 'AccountCredited', postedMinor: '7400', pendingMinor: '0', availableMinor: '7400' },
];

describe('account entries', () => {
  it('record every balance change with its signed change, the balances after it and the correlation id', async () => {
    const [page] = await historyOf(wallet, 50);
    const entries = [...page!.body.entries].reverse();
    expect(entries.map((entry: { type: string; balancesAfter: object }) => ({ type: entry.type, ...entry.balancesAfter }))).toEqual(WALLET_AFTER);
    expect(entries[2]).toMatchObject({ holdId, transferId: null, change: { postedMinor: '-2000', pendingMinor: '-2000' }, correlationId: correlation.hold });
    expect(entries[4]).toMatchObject({ transferId: transferIds.refund, holdId: null, change: { postedMinor: '-1000', pendingMinor: '0' }, correlationId: correlation.first });
    expect(entries.map((entry: { streamVersion: string }) => entry.streamVersion)).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('keep the account current: balances, status and amounts as strings of minor units', async () => {
    const account = await get(`/accounts/${wallet}`);
    expect(account.body).toMatchObject({ status: 'frozen', balances: { postedMinor: '7400', pendingMinor: '0', availableMinor: '7400' } });
    const now = await get(`/accounts/${funding}/balance`);
    expect(now.body).toMatchObject({ accountId: funding, currency: 'EUR', asOf: null, balances: { postedMinor: '-7400', pendingMinor: '0', availableMinor: '-7400' } });
  });
});

describe('balance as of a global position', () => {
  it('is the balance after the last entry at or before it, for every entry, and zero between opening and the first', async () => {
    const [page] = await historyOf(wallet, 50);
    for (const entry of page!.body.entries) {
      const at = await get(`/accounts/${wallet}/balance?position=${entry.globalPosition}`);
      expect(at.body).toMatchObject({ asOf: { position: entry.globalPosition }, balances: entry.balancesAfter, lastEntry: { globalPosition: entry.globalPosition } });
    }
    const first = page!.body.entries[page!.body.entries.length - 1];
    const before = await get(`/accounts/${wallet}/balance?position=${BigInt(first.globalPosition) - 1n}`);
    expect(before.body).toMatchObject({ balances: { postedMinor: '0', pendingMinor: '0', availableMinor: '0' }, lastEntry: null });
  });

  it('is a 404 before the account was opened', async () => {
    const answer = await get(`/accounts/${wallet}/balance?position=0`);
    expect(answer).toMatchObject({ status: 404, contentType: expect.stringContaining('application/problem+json'), body: { type: 'urn:clearline:problem:account-not-open-at' } });
  });
});

describe('balance as of a time', () => {
  it('is the balance after the last entry visible at that time, for every recorded time, in any offset', async () => {
    const [page] = await historyOf(wallet, 50);
    const oldestFirst = [...page!.body.entries].reverse();
    for (const entry of oldestFirst) {
      // Entries of one decision share its time: the balance then is after the last of them.
      const lastAtThatTime = oldestFirst.filter((other: { visibleAt: string }) => other.visibleAt === entry.visibleAt).pop();
      const at = await get(`/accounts/${wallet}/balance?asOf=${encodeURIComponent(entry.visibleAt)}`);
      expect(at.body).toMatchObject({ asOf: { time: entry.visibleAt }, balances: lastAtThatTime.balancesAfter });
    }
    // The hold's entry, asked for one microsecond earlier and written with another offset, is not yet included.
    const { rows } = await pool.query<{ earlier: string }>(
      `select to_char(($1::timestamptz - interval '1 microsecond') at time zone 'UTC' + interval '2 hours', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+02:00' as earlier`,
      [oldestFirst[1].visibleAt],
    );
    const before = await get(`/accounts/${wallet}/balance?asOf=${encodeURIComponent(rows[0]!.earlier)}`);
    expect(before.body.balances).toEqual({ postedMinor: '10000', pendingMinor: '0', availableMinor: '10000' });
  });

  it('is a 404 before the account was opened', async () => {
    const answer = await get(`/accounts/${wallet}/balance?asOf=2001-01-01T00:00:00Z`);
    expect(answer).toMatchObject({ status: 404, body: { type: 'urn:clearline:problem:account-not-open-at' } });
  });
});

describe('history', () => {
  it.each([1, 2, 4, 6, 500])('pages newest first with limit %i, with no duplicate or gap and no next link after the last page', async (limit) => {
    const pages = await historyOf(wallet, limit);
    const positions = pages.flatMap((page) => page.body.entries.map((entry: { globalPosition: string }) => BigInt(entry.globalPosition)));
    expect(positions).toHaveLength(6);
    expect([...positions].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0))).toEqual(positions);
    expect(new Set(positions).size).toBe(6);
    expect(pages).toHaveLength(Math.max(1, Math.ceil(6 / limit)));
    for (const page of pages) expect(page.body.entries.length).toBeLessThanOrEqual(limit);
    expect(pages[pages.length - 1]!.body.page.nextCursor).toBeNull();
  });

  it('defaults to 50 per page', async () => {
    const page = await get(`/accounts/${wallet}/history`);
    expect(page.body.page).toEqual({ limit: 50, nextCursor: null });
  });

  it('continues where it stopped when new entries arrive between pages', async () => {
    const accountId = `int-${run}-busy`;
    await decide(`corr-${run}-busy`, { [`account-${accountId}`]: [['AccountOpened', { accountId, ownerId: 'busy', kind: 'suspense', currency: 'EUR' }]] });
    const credit = () => decide(`corr-${run}-busy`, { [`account-${accountId}`]: [['AccountCredited', { transferId: randomUUID(), amountMinor: '1' }]] });
    for (let index = 0; index < 5; index += 1) await credit();
    await eventually('five entries', async () => ((await get(`/accounts/${accountId}/history`)).body.entries?.length === 5 ? true : undefined), READ_MODEL_WAIT_MS);
    const first = await get(`/accounts/${accountId}/history?limit=2`);
    for (let index = 0; index < 3; index += 1) await credit();
    await eventually('eight entries', async () => ((await get(`/accounts/${accountId}/history`)).body.entries?.length === 8 ? true : undefined), READ_MODEL_WAIT_MS);
    const pages = [first];
    for (let next = first.body.links.next; next !== null;) {
      const page = await get(next);
      pages.push(page);
      next = page.body.links.next;
    }
    const versions = pages.flatMap((page) => page.body.entries.map((entry: { streamVersion: string }) => entry.streamVersion));
    expect(versions).toEqual(['5', '4', '3', '2', '1']);
  });
});

describe('transfers by correlation id', () => {
  it('lists the transfers of one request in order, each with its entries, over pages', async () => {
    const all = await get(`/transfers?correlationId=${correlation.first}`);
    expect(all.status).toBe(200);
    expect(all.body.transfers.map((transfer: { transferId: string }) => transfer.transferId)).toEqual([transferIds.funding, transferIds.refund, transferIds.refused]);
    expect(all.body.transfers[0]).toMatchObject({
      outcome: 'TransferPosted', status: 'posted', debitAccountId: funding, creditAccountId: wallet, amount: eur('10000'), reversedMinor: '0',
      entries: [
        { accountId: funding, type: 'AccountDebited', change: { postedMinor: '-10000' } },
        { accountId: wallet, type: 'AccountCredited', change: { postedMinor: '10000' } },
      ],
    });
    expect(all.body.transfers[1]).toMatchObject({ reversedMinor: '400' });
    expect(all.body.transfers[2]).toMatchObject({ outcome: 'TransferRejected', status: 'rejected', reasonCode: 'insufficient_funds', entries: [] });

    const first = await get(`/transfers?correlationId=${correlation.first}&limit=2`);
    expect(first.body.transfers).toHaveLength(2);
    const second = await get(first.body.links.next);
    expect(second.body.transfers.map((transfer: { transferId: string }) => transfer.transferId)).toEqual([transferIds.refused]);
    expect(second.body.links.next).toBeNull();
  });

  it('finds a reversal under its own request, pointing at its original', async () => {
    const answer = await get(`/transfers?correlationId=${correlation.reversal}`);
    expect(answer.body.transfers).toEqual([expect.objectContaining({ transferId: transferIds.reversal, outcome: 'TransferReversed', originalTransferId: transferIds.refund })]);
  });

  it('is an empty list for a correlation id that caused no transfer', async () => {
    const answer = await get(`/transfers?correlationId=corr-${run}-nothing`);
    expect(answer).toMatchObject({ status: 200, body: { transfers: [], page: { nextCursor: null } } });
  });

  it('builds links under the prefix a proxy forwards', async () => {
    const response = await fetch(`${baseUrl}/transfers?correlationId=${correlation.first}&limit=1`, { headers: { 'x-forwarded-prefix': '/v1' } });
    const body = await response.json() as { links: { next: string } };
    expect(body.links.next).toMatch(new RegExp(`^/v1/transfers\\?correlationId=${correlation.first}&limit=1&cursor=`));
  });
});

describe('order by global position, as a number', () => {
  // The API shows positions as text; sorting by that text would put 10 and 100 before 9. A database
  // whose positions all have the same number of digits hides it, so these rows are projected from
  // events at positions 9, 10 and 100 (not in the store: removed again at the end).
  const digits = `int-${run}-digits`;
  const digitsCorrelation = `corr-${run}-digits`;
  const digitTransfers = [`int-${run}-at-9`, `int-${run}-at-10`, `int-${run}-at-100`];
  const liveTables = Object.fromEntries(LEDGER_TABLES.map((table) => [table, `analytics.${table}`])) as Record<(typeof LEDGER_TABLES)[number], string>;
  const at = (globalPosition: bigint, streamId: string, streamVersion: bigint, type: string, data: Record<string, unknown>): RecordedEvent => ({
    id: randomUUID(), type, data, metadata: { correlationId: digitsCorrelation }, schemaVersion: 1, streamId, streamVersion,
    category: streamId.slice(0, streamId.indexOf('-')), globalPosition, transactionId: globalPosition, recordedAt: new Date('2026-11-27T12:00:00.000Z'),
  });

  beforeAll(async () => {
    const client = await pool.connect();
    try {
      await projectLedger([
        at(8n, `account-${digits}`, 0n, 'AccountOpened', { accountId: digits, ownerId: `owner-${run}`, kind: 'customer_wallet', currency: 'EUR', metadata: {} }),
        ...[[9n, '1'], [10n, '2'], [100n, '4']].flatMap(([position, amountMinor], index) => [
          at(position as bigint, `account-${digits}`, BigInt(index + 1), 'AccountCredited', { transferId: digitTransfers[index], amountMinor }),
          at(position as bigint, `transfer-${digitTransfers[index]}`, 0n, 'TransferPosted', {
            transferId: digitTransfers[index], debitAccountId: funding, creditAccountId: digits, amount: eur(amountMinor as string),
          }),
        ]),
      ], client, liveTables);
    } finally {
      client.release();
    }
  });

  afterAll(async () => {
    await pool.query('delete from analytics.account_entries where account_id = $1', [digits]);
    await pool.query('delete from analytics.account_balances where account_id = $1', [digits]);
    await pool.query('delete from analytics.transfers where transfer_id = any($1::text[])', [digitTransfers]);
  });

  it('pages history newest first: 100, 10, 9', async () => {
    const pages = await historyOf(digits, 2);
    const positions = pages.flatMap((page) => page.body.entries.map((entry: { globalPosition: string }) => entry.globalPosition));
    expect(positions).toEqual(['100', '10', '9']);
  });

  it('takes the balance as of a position from the last entry at or before it', async () => {
    for (const [position, postedMinor] of [['9', '1'], ['10', '3'], ['99', '3'], ['100', '7']]) {
      const answer = await get(`/accounts/${digits}/balance?position=${position}`);
      expect(answer.body).toMatchObject({ balances: { postedMinor }, lastEntry: { globalPosition: position === '99' ? '10' : position } });
    }
  });

  it('lists the transfers of a correlation id oldest first, over pages', async () => {
    const first = await get(`/transfers?correlationId=${digitsCorrelation}&limit=2`);
    const rest = await get(first.body.links.next);
    const ids = [...first.body.transfers, ...rest.body.transfers].map((transfer: { transferId: string }) => transfer.transferId);
    expect(ids).toEqual(digitTransfers);
    for (const transfer of first.body.transfers) expect(transfer.entries).toEqual([expect.objectContaining({ accountId: digits, type: 'AccountCredited' })]);
  });
});

describe('bad input', () => {
  it.each([
    [`/accounts/${wallet}/balance?asOf=yesterday`, 'invalid-as-of'],
    [`/accounts/${wallet}/balance?asOf=2026-02-30T00:00:00Z`, 'invalid-as-of'],
    [`/accounts/${wallet}/balance?asOf=2026-11-27T10:00:00`, 'invalid-as-of'],
    [`/accounts/${wallet}/balance?position=-1`, 'invalid-position'],
    [`/accounts/${wallet}/balance?position=9223372036854775808`, 'invalid-position'],
    [`/accounts/${wallet}/balance?position=1&position=2`, 'invalid-position'],
    [`/accounts/${wallet}/balance?position=1&asOf=2026-11-27T10:00:00Z`, 'conflicting-balance-point'],
    [`/accounts/${wallet}/history?limit=0`, 'invalid-limit'],
    [`/accounts/${wallet}/history?limit=501`, 'invalid-limit'],
    [`/accounts/${wallet}/history?limit=1.5`, 'invalid-limit'],
    [`/accounts/${wallet}/history?cursor=not-a-cursor`, 'invalid-cursor'],
    ['/accounts/bad%20id/balance', 'invalid-account-id'],
    ['/transfers', 'invalid-correlation-id'],
    ['/transfers?correlationId=short', 'invalid-correlation-id'],
  ])('%s is a 400 problem %s', async (path, slug) => {
    const answer = await get(path);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: `urn:clearline:problem:${slug}`, status: 400, instance: path });
  });

  it("names the caller's path as the problem's instance behind a proxy (the gateway passes it through)", async () => {
    const path = `/accounts/int-${run}-nobody/balance`;
    const response = await fetch(`${baseUrl}${path}`, { headers: { 'x-forwarded-prefix': '/v1' } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'urn:clearline:problem:account-not-found', instance: `/v1${path}` });
  });

  it.each(['balance', 'history'])('an unknown account is a 404 problem (%s)', async (query) => {
    const answer = await get(`/accounts/int-${run}-nobody/${query}`);
    expect(answer).toMatchObject({ status: 404, contentType: expect.stringContaining('application/problem+json'), body: { type: 'urn:clearline:problem:account-not-found' } });
  });
});

describe('replay', () => {
  const liveTables = Object.fromEntries(LEDGER_TABLES.map((table) => [table, `analytics.${table}`])) as Record<(typeof LEDGER_TABLES)[number], string>;
  const snapshot = async (client: import('pg').PoolClient): Promise<unknown> => {
    const { rows: entries } = await client.query('select * from analytics.account_entries where account_id = $1 order by stream_version', [wallet]);
    const { rows: balances } = await client.query('select * from analytics.account_balances where account_id = $1', [wallet]);
    const { rows: transfers } = await client.query('select * from analytics.transfers where transfer_id = $1', [transferIds.refund]);
    return { entries, balances, transfers };
  };

  it('of events already projected changes nothing, and into emptied rows rebuilds them exactly', async () => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const live = await snapshot(client);
      const events = [...await store.readStream(`account-${wallet}`), ...await store.readStream(`transfer-${transferIds.refund}`)];
      await projectLedger(events, client, liveTables);
      expect(await snapshot(client)).toEqual(live);

      await client.query('delete from analytics.account_entries where account_id = $1', [wallet]);
      await client.query('delete from analytics.account_balances where account_id = $1', [wallet]);
      await client.query('delete from analytics.transfers where transfer_id = $1', [transferIds.refund]);
      await projectLedger(events, client, liveTables);
      expect(await snapshot(client)).toEqual(live);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  it('of transfer outcomes and reversals in one batch writes what they write one at a time, linked legs in order', async () => {
    const linked = `int-${run}-linked`;
    const original = `int-${run}-original`;
    // A leg id with a quote and a backslash: the batch sends the legs as array literals, which must escape them.
    const legs = [randomUUID(), `int-${run}-leg "b" \\ 2`];
    let position = 9_000_000_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)) * 10n;
    const recorded = (streamId: string, streamVersion: bigint, type: string, data: Record<string, unknown>): RecordedEvent => {
      position += 1n;
      return {
        id: randomUUID(), type, data, metadata: { correlationId: `corr-${run}-batch` }, schemaVersion: 1, streamId, streamVersion,
        category: 'transfer', globalPosition: position, transactionId: position, recordedAt: new Date('2026-11-27T12:00:00.123Z'),
      };
    };
    const events = [
      recorded(`transfer-${linked}`, 0n, 'LinkedTransfersPosted', { batchId: linked, transfers: legs.map((transferId) => ({ transferId })), balancesAfter: {} }),
      recorded(`transfer-${original}`, 0n, 'TransferPosted', { transferId: original, debitAccountId: wallet, creditAccountId: funding, amount: eur('1000') }),
      recorded(`transfer-${original}`, 1n, 'TransferReversalApplied', { originalTransferId: original, reversalTransferId: randomUUID(), amountMinor: '100' }),
      recorded(`transfer-${original}`, 2n, 'TransferReversalApplied', { originalTransferId: original, reversalTransferId: randomUUID(), amountMinor: '250' }),
    ];
    const rows = async (client: import('pg').PoolClient) =>
      (await client.query('select * from analytics.transfers where transfer_id = any($1::text[]) order by transfer_id', [[linked, original]])).rows;
    const client = await pool.connect();
    try {
      await client.query('begin');
      await projectLedger(events, client, liveTables);
      const batched = await rows(client);
      expect(batched).toEqual([
        expect.objectContaining({ transfer_id: linked, outcome: 'LinkedTransfersPosted', status: 'posted', leg_transfer_ids: legs, reversed_minor: '0' }),
        expect.objectContaining({ transfer_id: original, outcome: 'TransferPosted', amount_minor: '1000', reversed_minor: '350', last_position: position.toString() }),
      ]);
      // The same batch again changes nothing: each reversal is at or before the row's last_position.
      await projectLedger(events, client, liveTables);
      expect(await rows(client)).toEqual(batched);
      // One event at a time, into emptied rows, writes the same bytes.
      await client.query('delete from analytics.transfers where transfer_id = any($1::text[])', [[linked, original]]);
      for (const single of events) await projectLedger([single], client, liveTables);
      expect(await rows(client)).toEqual(batched);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});

// Proves apps/ledger end to end on real PostgreSQL and Kafka: every ledger command sent to
// `ledger.commands` is decided by the batch writer of the one leading instance of two, and its
// outcome reaches `ledger.events` through the outbox relay; a repeated command has one effect and a
// reused id with another body is refused; concurrent transfers into one hot account never pass a
// limit and leave every currency summing to zero; the expiry scheduler releases a hold past its
// expiry; a frozen account refuses and an account with money cannot close; and when the leader
// stops, the standby takes the lead and goes on from the state the first left.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ALL_TOPICS, deadLetterTopicOf, Topics, type ContractEnvelope, type ContractType, type DataOf } from '@clearline/contracts';
import { aggregateStream, PostgresEventStore } from '@clearline/event-store';
import { ACCOUNT_EVENT_TYPES, evolveAccount, initialAccountState, type AccountEvent, type AccountState } from '@clearline/ledger-domain';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, MessagePublisher, parseMessage, silentLogger } from '@clearline/messaging';
import { createPool, type Pool } from '@clearline/postgres';
import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { LedgerBatchWriter } from './ledger-batch-writer.js';
import { LedgerWorker } from './ledger.worker.js';
import { eventually, testEnvelope } from '@clearline/testing';

jest.setTimeout(120_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
const account = (name: string): string => `int-${run}-${name}`;

interface Published {
  type: string;
  data: Record<string, unknown>;
}

let ledgers: INestApplicationContext[] = [];
let publisher: MessagePublisher;
let listener: Consumer;
let pool: Pool;
let store: PostgresEventStore;
const published: Published[] = [];
/** Records of this run dead-lettered from ledger.commands. */
const deadLettered: { offset: string; reason: string }[] = [];

async function send<Type extends ContractType>(type: Type, data: DataOf<Type>): Promise<ContractEnvelope> {
  const envelope = testEnvelope(type, data, 'ledger-int-test');
  await publisher.publish([envelope]);
  return envelope;
}

/** The first event of `type` on ledger.events whose data has every field of `match`. */
function outcome(type: string, match: Record<string, unknown>): Promise<Published> {
  return eventually(`${type} ${JSON.stringify(match)}`, () =>
    published.find((event) => event.type === type && Object.entries(match).every(([field, value]) => event.data[field] === value)));
}

function outcomesOf(type: string, match: Record<string, unknown>): Published[] {
  return published.filter((event) => event.type === type && Object.entries(match).every(([field, value]) => event.data[field] === value));
}

async function storedTypes(streamId: string): Promise<string[]> {
  return (await store.readStream(streamId)).map((event) => event.type);
}

async function accountState(accountId: string): Promise<AccountState> {
  const { state } = await aggregateStream<AccountState, AccountEvent>(store, `account-${accountId}`, {
    initialState: initialAccountState, evolve: evolveAccount, accepts: (type) => ACCOUNT_EVENT_TYPES.has(type),
  });
  return state;
}

async function postedMinor(accountId: string): Promise<bigint> {
  const state = await accountState(accountId);
  if (state.status === 'unopened') throw new Error(`account ${accountId} is not open`);
  return state.postedMinor;
}

const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

async function openAccounts(accounts: DataOf<'OpenAccount'>[]): Promise<void> {
  for (const data of accounts) await send('OpenAccount', data);
  await Promise.all(accounts.map((data) => outcome('AccountOpened', { accountId: data.accountId })));
}

async function transfer(debitAccountId: string, creditAccountId: string, amountMinor: string, currency = 'EUR'): Promise<Published> {
  const transferId = randomUUID();
  await send('PostTransfer', { transferId, debitAccountId, creditAccountId, amount: { amountMinor, currency } });
  return eventually(`the outcome of transfer ${transferId}`, () =>
    published.find((event) => (event.type === 'TransferPosted' || event.type === 'TransferRejected') && event.data['transferId'] === transferId));
}

async function startLedger(): Promise<INestApplicationContext> {
  const { AppModule } = await import('./app.module.js');
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

beforeAll(async () => {
  Object.assign(process.env, {
    DATABASE_URL,
    LOG_LEVEL: process.env['LEDGER_TEST_LOG'] ?? 'silent',
    LEDGER_HOLD_EXPIRY_INTERVAL_MS: '200',
    LEDGER_HOLD_EXPIRY_REQUEST_QUIET_MS: '2000',
  });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'ledger-int-test', max: 4 });
  store = new PostgresEventStore(pool);
  const settings = { ...kafkaSettingsFromEnv('ledger-int-test'), logLevel: 'nothing' as const };
  listener = createKafka(settings, silentLogger).consumer({ groupId: `ledger-int-test-${run}`, maxWaitTimeInMs: 100 });
  // On a fresh broker the topics do not exist until a service starts; the listener subscribes first.
  await ensureTopics(settings, ALL_TOPICS);
  const joined = new Promise<void>((resolve) => listener.on(listener.events.GROUP_JOIN, () => resolve()));
  await listener.connect();
  await listener.subscribe({ topics: [Topics.ledgerEvents, deadLetterTopicOf(Topics.ledgerCommands)], fromBeginning: false });
  await listener.run({
    eachMessage: async ({ topic, message }) => {
      if (topic !== Topics.ledgerEvents) {
        if (String(message.value).includes(run)) deadLettered.push({ offset: message.offset, reason: String(message.headers?.['dlq-reason'] ?? '') });
        return;
      }
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (!parsed.accepted) return;
      const envelope = parsed.envelope as unknown as Published;
      // Every outcome of this run names one of its accounts.
      if (JSON.stringify(envelope.data).includes(run)) published.push(envelope);
    },
  });
  await joined;
  // Two instances of the ledger: one leads (holds the writer's lock and consumes), the other waits.
  ledgers = [await startLedger(), await startLedger()];
  publisher = new MessagePublisher({ settings, producerName: 'ledger-int-test', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
});

afterAll(async () => {
  await publisher?.disconnect();
  await Promise.all(ledgers.map((ledger) => ledger.close()));
  await listener?.disconnect();
  await pool?.end();
});

describe('accounts', () => {
  const wallet = account('lifecycle');
  const funding = account('lifecycle-funding');

  beforeAll(async () => {
    await openAccounts([
      { accountId: funding, ownerId: 'clearline', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
      { accountId: wallet, ownerId: 'dora', kind: 'customer_wallet', currency: 'EUR' },
    ]);
  });

  it('modifies limits and metadata (AccountModified)', async () => {
    await send('ModifyAccount', { accountId: wallet, overdraftLimitMinor: '500', metadata: { tier: 'gold' } });
    const modified = await outcome('AccountModified', { accountId: wallet });
    expect(modified.data).toEqual({ accountId: wallet, overdraftLimitMinor: '500', creditLimitMinor: '0', metadata: { tier: 'gold' } });
  });

  it('refuses transfers while frozen and moves money again once unfrozen', async () => {
    await send('FreezeAccount', { accountId: wallet });
    await outcome('AccountFrozen', { accountId: wallet });
    const refused = await transfer(funding, wallet, '1000');
    expect(refused).toMatchObject({ type: 'TransferRejected', data: { reasonCode: 'account_frozen' } });
    await send('UnfreezeAccount', { accountId: wallet });
    await outcome('AccountUnfrozen', { accountId: wallet });
    expect(await transfer(funding, wallet, '1000')).toMatchObject({ type: 'TransferPosted' });
  });

  it('refuses to close an account holding money (AccountCommandRejected, with its balances), and closes it at zero (AccountClosed)', async () => {
    await send('CloseAccount', { accountId: wallet });
    const refused = await outcome('AccountCommandRejected', { accountId: wallet, command: 'CloseAccount' });
    expect(refused.data).toEqual({
      accountId: wallet, command: 'CloseAccount', reasonCode: 'account_has_balance',
      balances: { currency: 'EUR', postedMinor: '1000', pendingMinor: '0', availableMinor: '1000' },
    });
    expect(await transfer(wallet, funding, '400')).toMatchObject({ type: 'TransferPosted' });
    expect(await storedTypes(`account-${wallet}`)).not.toContain('AccountClosed');
    expect(await postedMinor(wallet)).toBe(600n);

    expect(await transfer(wallet, funding, '600')).toMatchObject({ type: 'TransferPosted' });
    await send('CloseAccount', { accountId: wallet });
    await outcome('AccountClosed', { accountId: wallet });
    expect(await transfer(funding, wallet, '1')).toMatchObject({ type: 'TransferRejected', data: { reasonCode: 'account_closed' } });
  });
});

describe('movements', () => {
  const funding = account('funding');
  const alice = account('alice');
  const bob = account('bob');
  const fxEur = account('fx-eur');
  const fxUsd = account('fx-usd');
  const carol = account('carol-usd');

  beforeAll(async () => {
    await openAccounts([
      { accountId: funding, ownerId: 'clearline', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
      { accountId: alice, ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR' },
      { accountId: bob, ownerId: 'bob', kind: 'customer_wallet', currency: 'EUR' },
      { accountId: fxEur, ownerId: 'clearline', kind: 'fx', currency: 'EUR', allowNegativeBalance: true },
      { accountId: fxUsd, ownerId: 'clearline', kind: 'fx', currency: 'USD', allowNegativeBalance: true },
      { accountId: carol, ownerId: 'carol', kind: 'customer_wallet', currency: 'USD' },
    ]);
    expect(await transfer(funding, alice, '10000')).toMatchObject({ type: 'TransferPosted' });
  });

  it('watches a balance (BalanceMonitorRegistered) and reports a crossing (BalanceThresholdCrossed)', async () => {
    const monitorId = `monitor-${run}`;
    await send('RegisterBalanceMonitor', { monitorId, accountId: bob, balance: 'posted', direction: 'above', thresholdMinor: '100' });
    await outcome('BalanceMonitorRegistered', { monitorId });
    await transfer(alice, bob, '150');
    const crossed = await outcome('BalanceThresholdCrossed', { monitorId });
    expect(crossed.data).toMatchObject({ accountId: bob, previousMinor: '0', currentMinor: '150' });
  });

  it('posts linked transfers as one (LinkedTransfersPosted) and refuses a failing batch whole', async () => {
    const batchId = randomUUID();
    const legs = [
      { transferId: randomUUID(), debitAccountId: alice, creditAccountId: bob, amount: eur('300') },
      { transferId: randomUUID(), debitAccountId: bob, creditAccountId: funding, amount: eur('20') },
    ];
    await send('PostLinkedTransfers', { batchId, transfers: legs });
    const posted = await outcome('LinkedTransfersPosted', { batchId });
    expect(Object.keys(posted.data['balancesAfter'] as object).sort()).toEqual([alice, bob, funding].sort());

    const failing = randomUUID();
    const before = await postedMinor(bob);
    await send('PostLinkedTransfers', {
      batchId: failing,
      transfers: [
        { transferId: randomUUID(), debitAccountId: alice, creditAccountId: bob, amount: eur('10') },
        { transferId: randomUUID(), debitAccountId: bob, creditAccountId: funding, amount: eur('99999999') },
      ],
    });
    expect((await outcome('LinkedTransfersRejected', { batchId: failing })).data).toMatchObject({ failedTransferIndex: 1, reasonCode: 'insufficient_funds' });
    expect(await postedMinor(bob)).toBe(before);
  });

  it('exchanges currency through the FX accounts, rounded half-even (CurrencyExchanged)', async () => {
    const transferId = randomUUID();
    await send('ExchangeCurrency', {
      transferId, debitAccountId: alice, creditAccountId: carol, fxSourceAccountId: fxEur, fxTargetAccountId: fxUsd,
      amount: eur('1001'), targetCurrency: 'USD', rate: { numerator: '11', denominator: '10' },
    });
    const exchanged = await outcome('CurrencyExchanged', { transferId });
    // 10.01 EUR x 1.1 = 11.011 USD -> 1101 minor units.
    expect(exchanged.data).toMatchObject({ targetAmount: { amountMinor: '1101', currency: 'USD' }, rounding: 'half-even' });
    expect(await postedMinor(carol)).toBe(1101n);
  });

  it('reverses a transfer in part, never beyond the original (TransferReversed)', async () => {
    const original = await transfer(alice, bob, '500');
    const originalTransferId = original.data['transferId'] as string;
    const reversal = randomUUID();
    await send('ReverseTransfer', { transferId: reversal, originalTransferId, amount: eur('200') });
    expect((await outcome('TransferReversed', { transferId: reversal })).data).toMatchObject({ debitAccountId: bob, creditAccountId: alice });
    const tooMuch = randomUUID();
    await send('ReverseTransfer', { transferId: tooMuch, originalTransferId, amount: eur('301') });
    expect((await outcome('TransferReversalRejected', { transferId: tooMuch })).data).toMatchObject({ reasonCode: 'reversal_exceeds_original' });
  });

  it('places and voids a hold (HoldVoided), giving the available balance back', async () => {
    const holdId = randomUUID();
    await send('PlaceHold', { holdId, accountId: alice, amount: eur('700'), paymentId: randomUUID() });
    await outcome('HoldPlaced', { holdId });
    await send('VoidHold', { holdId, accountId: alice });
    const voided = await outcome('HoldVoided', { holdId });
    expect(voided.data).toMatchObject({ releasedAmountMinor: '700', balances: { pendingMinor: '0' } });
  });

  it('reports a refused capture to the caller (CaptureRejected) without writing to the hold, then captures, and answers a late void (HoldReleaseRejected)', async () => {
    const holdId = randomUUID();
    const paymentId = randomUUID();
    await send('PlaceHold', { holdId, accountId: alice, amount: eur('100'), paymentId });
    await outcome('HoldPlaced', { holdId });
    await send('CaptureHold', { holdId, accountId: alice, creditAccountId: bob, amount: eur('101'), paymentId });
    expect((await outcome('CaptureRejected', { holdId })).data).toMatchObject({ reasonCode: 'amount_exceeds_hold' });
    expect(await storedTypes(`hold-${holdId}`)).toEqual(['HoldPlaced']);
    await send('CaptureHold', { holdId, accountId: alice, creditAccountId: bob, amount: eur('60'), paymentId });
    expect((await outcome('HoldCaptured', { holdId })).data).toMatchObject({ releasedAmountMinor: '40', debitBalances: { pendingMinor: '0' } });
    // A void that comes too late is answered too: the hold is final, nothing changes.
    await send('VoidHold', { holdId, accountId: alice });
    expect((await outcome('HoldReleaseRejected', { holdId })).data).toMatchObject({ accountId: alice, command: 'VoidHold', reasonCode: 'hold_already_final' });
    expect(await storedTypes(`hold-${holdId}`)).toEqual(['HoldPlaced', 'HoldCaptured']);
  });

  describe('a repeated transfer id', () => {
    it('with the same body has one effect and answers with the first outcome', async () => {
      const data = { transferId: randomUUID(), debitAccountId: alice, creditAccountId: bob, amount: eur('250') };
      await send('PostTransfer', data);
      const first = await outcome('TransferPosted', { transferId: data.transferId });
      const bobBefore = await postedMinor(bob);
      const repeat = await send('PostTransfer', data);
      await transfer(alice, bob, '1'); // same partition (keyed by the debit account): handled after the repeat
      expect(await postedMinor(bob)).toBe(bobBefore + 1n);
      expect(await storedTypes(`transfer-${data.transferId}`)).toEqual(['TransferPosted']);
      expect(outcomesOf('TransferPosted', { transferId: data.transferId })).toHaveLength(1);

      // The decision for the repeat, seen directly: a writer of its own (another partition lock)
      // loads the stored streams, replays, and appends nothing.
      const writer = new LedgerBatchWriter({ pool, store, partition: `int-${run}` });
      await writer.start();
      try {
        const result = await writer.submit({ type: 'PostTransfer', data }, repeat);
        expect(result.status).toBe('replayed');
        expect(result.outcome).toEqual({ type: 'TransferPosted', data: first.data });
      } finally {
        await writer.stop();
      }
      expect(await storedTypes(`transfer-${data.transferId}`)).toEqual(['TransferPosted']);
    });

    it('with another body is refused (duplicate_id_different_body) and changes nothing', async () => {
      const transferId = randomUUID();
      await send('PostTransfer', { transferId, debitAccountId: alice, creditAccountId: bob, amount: eur('40') });
      await outcome('TransferPosted', { transferId });
      await send('PostTransfer', { transferId, debitAccountId: alice, creditAccountId: bob, amount: eur('41') });
      const refused = await outcome('TransferRejected', { transferId });
      expect(refused.data).toMatchObject({ reasonCode: 'duplicate_id_different_body', amount: eur('41') });
      expect(await storedTypes(`transfer-${transferId}`)).toEqual(['TransferPosted']);
    });
  });

  it('releases a hold past its expiry (HoldExpired, from the scheduler) and restores the available balance', async () => {
    const holdId = randomUUID();
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    await send('PlaceHold', { holdId, accountId: alice, amount: eur('900'), paymentId: randomUUID(), expiresAt });
    const placed = await outcome('HoldPlaced', { holdId });
    const { rows } = await pool.query('select account_id from ledger.open_holds where hold_id = $1', [holdId]);
    expect(rows).toEqual([{ account_id: alice }]);
    const held = placed.data['balances'] as { postedMinor: string; pendingMinor: string; availableMinor: string };
    expect(BigInt(held.availableMinor)).toBe(BigInt(held.postedMinor) - 900n);

    const expired = await outcome('HoldExpired', { holdId });
    const balances = expired.data['balances'] as { postedMinor: string; pendingMinor: string; availableMinor: string };
    expect(expired.data).toMatchObject({ releasedAmountMinor: '900', expiresAt });
    expect(balances.pendingMinor).toBe('0');
    expect(balances.availableMinor).toBe(balances.postedMinor);
    // Both instances run the scheduler; the hold expires once and leaves the read model.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await storedTypes(`hold-${holdId}`)).filter((type) => type === 'HoldExpired')).toHaveLength(1);
    expect((await pool.query('select 1 from ledger.open_holds where hold_id = $1', [holdId])).rowCount).toBe(0);
  });
});

describe('a hot account under concurrent transfers', () => {
  const PAYERS = 8;
  const TRANSFERS_PER_PAYER = 6;
  const funding = account('hot-funding');
  const merchant = account('hot-merchant');
  const payers = Array.from({ length: PAYERS }, (_, index) => account(`hot-payer-${index}`));

  it('never passes a limit, and every currency still sums to zero', async () => {
    await openAccounts([
      { accountId: funding, ownerId: 'clearline', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
      // The merchant may hold at most 50.00 EUR: credits must not exceed debits by more than its credit limit.
      { accountId: merchant, ownerId: 'merchant', kind: 'merchant', currency: 'EUR', creditsMustNotExceedDebits: true, creditLimitMinor: '5000' },
      ...payers.map((accountId) => ({ accountId, ownerId: accountId, kind: 'customer_wallet' as const, currency: 'EUR' })),
    ]);
    await Promise.all(payers.map((payer) => transfer(funding, payer, '1000')));

    // 8 payers x 6 x 2.00 EUR = 96.00 EUR offered: each payer can pay only 5 (10.00 EUR), the merchant take 25.
    const transferIds: string[] = [];
    const sends: Promise<ContractEnvelope>[] = [];
    for (let round = 0; round < TRANSFERS_PER_PAYER; round += 1) {
      for (const payer of payers) {
        const transferId = randomUUID();
        transferIds.push(transferId);
        sends.push(send('PostTransfer', { transferId, debitAccountId: payer, creditAccountId: merchant, amount: eur('200') }));
      }
    }
    await Promise.all(sends);
    const outcomes = await Promise.all(transferIds.map((transferId) => eventually(`the outcome of ${transferId}`, () =>
      published.find((event) => (event.type === 'TransferPosted' || event.type === 'TransferRejected') && event.data['transferId'] === transferId))));

    const posted = outcomes.filter((event) => event.type === 'TransferPosted');
    const reasons = new Set(outcomes.filter((event) => event.type === 'TransferRejected').map((event) => event.data['reasonCode']));
    expect(posted).toHaveLength(25);
    expect([...reasons].every((reason) => reason === 'limit_exceeded' || reason === 'insufficient_funds')).toBe(true);
    expect(await postedMinor(merchant)).toBe(5_000n);
    for (const payer of payers) expect(await postedMinor(payer)).toBeGreaterThanOrEqual(0n);
    const sum = (await Promise.all([funding, merchant, ...payers].map(postedMinor))).reduce((total, value) => total + value, 0n);
    expect(sum).toBe(0n);
  });
});

describe('two ledger instances', () => {
  it('have exactly one leader; when it stops, the standby takes the lead and commands go on', async () => {
    const leaders = await eventually('one leading instance', () => {
      const leading = ledgers.filter((ledger) => ledger.get(LedgerWorker).isLeading);
      return leading.length === 1 ? leading : undefined;
    });
    const from = account('failover-from');
    const to = account('failover-to');
    await openAccounts([
      { accountId: from, ownerId: 'failover', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
      { accountId: to, ownerId: 'failover', kind: 'customer_wallet', currency: 'EUR' },
    ]);
    expect((await transfer(from, to, '300')).type).toBe('TransferPosted');

    const leader = leaders[0]!;
    await leader.close();
    ledgers = ledgers.filter((ledger) => ledger !== leader);
    await eventually('the standby leading', () => (ledgers[0]!.get(LedgerWorker).isLeading ? true : undefined));
    // Sent after the handover: handled by the new leader, on the state the old one left.
    expect((await transfer(from, to, '200')).type).toBe('TransferPosted');
    expect(await postedMinor(to)).toBe(500n);
    ledgers.push(await startLedger());
  });

  it('lose no command when the leader\'s lock session dies mid-traffic: each has one outcome, none is dead-lettered', async () => {
    const from = account('session-death-from');
    const to = account('session-death-to');
    await openAccounts([
      { accountId: from, ownerId: 'session-death', kind: 'funding', currency: 'EUR', allowNegativeBalance: true },
      { accountId: to, ownerId: 'session-death', kind: 'customer_wallet', currency: 'EUR' },
    ]);
    const transferIds = Array.from({ length: 300 }, () => randomUUID());
    const sending = (async () => {
      for (const transferId of transferIds) {
        await send('PostTransfer', { transferId, debitAccountId: from, creditAccountId: to, amount: eur('1') });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await eventually('some of the burst posted', () => (outcomesOf('TransferPosted', { creditAccountId: to }).length >= 20 ? true : undefined));
    // PostgreSQL ends the writer's session (what a failover, an idle-session killer or a network cut does):
    // its advisory lock goes with it, mid-batch.
    const { rowCount } = await pool.query(
      `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())
         and objid = (hashtext('clearline-ledger-writer:default')::bigint & x'ffffffff'::bigint)`,
    );
    expect(rowCount).toBe(1);
    await sending;
    await eventually('every transfer of the burst decided', () => {
      const decided = new Set(transferIds.filter((transferId) => published.some((event) => event.data['transferId'] === transferId)));
      return decided.size === transferIds.length ? true : undefined;
    }, 90_000);
    for (const transferId of transferIds) {
      const outcomes = published.filter((event) => event.data['transferId'] === transferId && event.type.startsWith('Transfer'));
      expect(outcomes.map((event) => event.type)).toEqual(['TransferPosted']);
    }
    expect(await postedMinor(to)).toBe(300n);
    expect(deadLettered).toEqual([]);
  });
});

describe('every currency', () => {
  it('sums to zero over all accounts this run opened, read from the event store', async () => {
    const { rows } = await pool.query<{ stream_id: string }>(
      "select stream_id from event_store.streams where category = 'account' and stream_id like $1",
      [`account-int-${run}-%`],
    );
    const totals = new Map<string, bigint>();
    for (const { stream_id: streamId } of rows) {
      const state = await accountState(streamId.slice('account-'.length));
      if (state.status === 'unopened') continue;
      totals.set(state.currency, (totals.get(state.currency) ?? 0n) + state.postedMinor);
    }
    expect(rows.length).toBeGreaterThan(10);
    expect(Object.fromEntries([...totals].map(([currency, total]) => [currency, total.toString()]))).toEqual({ EUR: '0', USD: '0' });
  });
});

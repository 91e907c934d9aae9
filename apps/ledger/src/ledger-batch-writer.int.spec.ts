// Proves LedgerBatchWriter on real PostgreSQL (no mocks): a batch's later commands see its earlier
// ones and land in one append; a rejected or invalid command in the middle changes nothing else; a
// write to an account behind the writer's back is detected by the append and the batch is decided
// again on the stored state; a new writer recovers the same balances from the event store; only one
// writer per partition writes (advisory lock), the second waits; and a seeded random run of
// thousands of concurrent transfers with one hot merchant keeps every currency summing to zero,
// no account past its limit, and every result equal to what the store holds.
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { OpenAccountData } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import type { AccountState, LedgerCommand, LedgerResult } from '@clearline/ledger-domain';
import { createPool, type Pool } from '@clearline/postgres';
import { LedgerBatchWriter, LedgerWriterOverloadedError } from './ledger-batch-writer.js';
import { LedgerStateLoader } from './ledger-state.loader.js';

jest.setTimeout(120_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const run = randomUUID().slice(0, 8);
const account = (name: string): string => `batch-${run}-${name}`;

let pool: Pool;
let store: PostgresEventStore;
const writers: LedgerBatchWriter[] = [];

async function startWriter(options: { partition?: string; maxQueuedCommands?: number } = {}): Promise<LedgerBatchWriter> {
  const writer = new LedgerBatchWriter({ pool, store, partition: options.partition ?? run, lockPollIntervalMs: 50, ...options });
  writers.push(writer);
  await writer.start();
  return writer;
}

const openCommand = (accountId: string, terms: Partial<OpenAccountData> = {}): LedgerCommand => ({
  type: 'OpenAccount', data: { accountId, ownerId: 'owner', kind: 'customer_wallet', currency: 'EUR', ...terms },
});
const transfer = (debitAccountId: string, creditAccountId: string, amountMinor: string, currency = 'EUR'): LedgerCommand => ({
  type: 'PostTransfer', data: { transferId: randomUUID(), debitAccountId, creditAccountId, amount: { amountMinor, currency } },
});

async function storedAccount(accountId: string): Promise<Extract<AccountState, { status: 'open' | 'frozen' | 'closed' }>> {
  const { state } = await new LedgerStateLoader(store).loadStreams({ accounts: [accountId], transfers: [], holds: [] });
  const stored = state.accounts.get(accountId);
  if (stored === undefined || stored.status === 'unopened') throw new Error(`account ${accountId} is not open`);
  return stored;
}

beforeAll(async () => {
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'ledger-batch-writer-int-test', max: 10 });
  store = new PostgresEventStore(pool);
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.stop()));
  await pool?.end();
});

describe('one batch', () => {
  const funding = account('funding');
  const alice = account('alice');
  const bob = account('bob');
  let writer: LedgerBatchWriter;

  beforeAll(async () => {
    writer = await startWriter({ partition: `${run}-batch` });
    await Promise.all([openCommand(funding, { kind: 'funding', allowNegativeBalance: true }), openCommand(alice), openCommand(bob)].map((command) => writer.submit(command)));
  });

  it('lets later commands use what earlier ones did, in one append, and a refusal in the middle changes nothing else', async () => {
    const batchesBefore = writer.stats().batches;
    // Submitted in one tick: the writer takes them as one batch.
    const results = await Promise.allSettled([
      writer.submit(transfer(funding, alice, '100')),
      writer.submit(transfer(alice, bob, '70')),
      writer.submit(transfer(alice, bob, '40')), // 30 left: refused
      writer.submit(transfer(alice, bob, '0')), // invalid input: its promise fails, nothing else does
      writer.submit(transfer(bob, alice, '10')),
    ]);
    expect(writer.stats().batches).toBe(batchesBefore + 1);
    const values = results.map((result) => (result.status === 'fulfilled' ? result.value.status : 'failed'));
    expect(values).toEqual(['accepted', 'accepted', 'rejected', 'failed', 'accepted']);
    expect((results[2] as PromiseFulfilledResult<LedgerResult>).value.reasonCode).toBe('insufficient_funds');
    expect((results[4] as PromiseFulfilledResult<LedgerResult>).value.balances.get(alice)).toMatchObject({ postedMinor: '40' });
    expect((await storedAccount(alice)).postedMinor).toBe(40n);
    expect((await storedAccount(bob)).postedMinor).toBe(60n);
    // alice's stream: opened, credited 100, debited 70, credited 10; the refusal wrote nothing there.
    expect((await store.readStream(`account-${alice}`)).map((event) => event.type)).toEqual(['AccountOpened', 'AccountCredited', 'AccountDebited', 'AccountCredited']);
  });

  it('answers a repeated transfer id with the first outcome and writes nothing more', async () => {
    const command = transfer(funding, bob, '5');
    const first = await writer.submit(command);
    const again = await writer.submit(command);
    expect(first.status).toBe('accepted');
    expect(again).toMatchObject({ status: 'replayed', outcome: { type: 'TransferPosted' } });
    expect((await storedAccount(bob)).postedMinor).toBe(65n);
  });

  it('decides again on the stored state when another writer wrote to an account behind its back', async () => {
    await writer.submit(transfer(funding, alice, '1')); // alice is in memory at a known version
    const stream = `account-${alice}`;
    const version = await store.streamVersion(stream);
    // A well-formed message (the ledger's outbox relay publishes account events of this database too).
    const id = randomUUID();
    const metadata = { correlationId: id, causationId: id, occurredAt: new Date().toISOString(), producer: 'ledger-batch-writer-int-test' };
    await store.appendToStream(stream, [{ id, type: 'AccountFrozen', data: { accountId: alice }, metadata }], { expectedVersion: version });
    const conflictsBefore = writer.stats().conflicts;
    const result = await writer.submit(transfer(funding, alice, '1'));
    expect(writer.stats().conflicts).toBe(conflictsBefore + 1);
    expect(result).toMatchObject({ status: 'rejected', reasonCode: 'account_frozen' });
    expect((await storedAccount(alice)).postedMinor).toBe(41n);
    await writer.submit({ type: 'UnfreezeAccount', data: { accountId: alice } });
    expect((await writer.submit(transfer(alice, bob, '1'))).status).toBe('accepted');
  });

  it('is recovered by a new writer from the event store with the same balances', async () => {
    const last = await writer.submit(transfer(alice, bob, '2'));
    await writer.stop();
    const successor = await startWriter({ partition: `${run}-batch` });
    // A refused transfer changes nothing and reports the balances the new writer loaded.
    const probe = await successor.submit(transfer(alice, bob, '1000000'));
    expect(probe.reasonCode).toBe('insufficient_funds');
    expect(probe.balances.get(alice)).toEqual(last.balances.get(alice));
    expect(probe.balances.get(bob)).toEqual(last.balances.get(bob));
    writer = successor;
  });
});

describe('the partition lock', () => {
  it('lets one writer write; a second waits until the first stops', async () => {
    const partition = `${run}-lock`;
    const first = await startWriter({ partition });
    const second = new LedgerBatchWriter({ pool, store, partition, lockPollIntervalMs: 50 });
    writers.push(second);
    let secondStarted = false;
    const starting = second.start().then(() => {
      secondStarted = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(first.leading).toBe(true);
    expect(secondStarted).toBe(false);
    expect(second.leading).toBe(false);
    const { rows } = await pool.query<{ holders: string }>(
      `select count(*) as holders from pg_locks where locktype = 'advisory' and granted and objid = hashtext($1)::oid`, [first.lockKey],
    );
    expect(Number(rows[0]?.holders)).toBe(1);
    await first.stop();
    await starting;
    expect(second.leading).toBe(true);
    await second.stop();
  });

  it('refuses a command clearly when its queue is full, and queues nothing', async () => {
    const writer = new LedgerBatchWriter({ pool, store, partition: `${run}-queue`, maxQueuedCommands: 2 });
    writers.push(writer);
    // Not started: commands wait in the queue.
    const queued = [writer.submit(openCommand(account('q1'))), writer.submit(openCommand(account('q2')))];
    await expect(writer.submit(openCommand(account('q3')))).rejects.toBeInstanceOf(LedgerWriterOverloadedError);
    expect(writer.queuedCommands).toBe(2);
    await writer.start();
    expect((await Promise.all(queued)).map((result) => result.status)).toEqual(['accepted', 'accepted']);
    await writer.stop();
  });
});

describe('a seeded random run with a hot merchant', () => {
  it('keeps every currency at zero, every account within its limit, and results equal to the store', async () => {
    let seed = 20_261_127;
    const random = (): number => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const writer = await startWriter({ partition: `${run}-random` });
    const currencies = ['EUR', 'USD'] as const;
    const funding = Object.fromEntries(currencies.map((currency) => [currency, account(`random-funding-${currency}`)]));
    const merchant = Object.fromEntries(currencies.map((currency) => [currency, account(`random-merchant-${currency}`)]));
    const wallets = Object.fromEntries(currencies.map((currency) => [currency, Array.from({ length: 60 }, (_, index) => account(`random-${currency}-${index}`))]));
    const overdraft = new Map<string, bigint>();
    const opens: LedgerCommand[] = [];
    for (const currency of currencies) {
      opens.push(openCommand(funding[currency]!, { kind: 'funding', currency, allowNegativeBalance: true }));
      opens.push(openCommand(merchant[currency]!, { kind: 'merchant', currency }));
      for (const wallet of wallets[currency]!) {
        const limit = random() < 0.3 ? BigInt(Math.floor(random() * 500)) : 0n;
        overdraft.set(wallet, limit);
        opens.push(openCommand(wallet, { currency, overdraftLimitMinor: String(limit) }));
      }
    }
    await Promise.all(opens.map((command) => writer.submit(command)));
    const commands: LedgerCommand[] = [];
    for (const currency of currencies) for (const wallet of wallets[currency]!) commands.push(transfer(funding[currency]!, wallet, String(100 + Math.floor(random() * 2_000)), currency));
    for (let index = 0; index < 4_000; index += 1) {
      const currency = pick(currencies);
      const from = pick(wallets[currency]!);
      // 80 % of credits go to the hot merchant; the rest between wallets, and the merchant pays some back.
      const roll = random();
      const to = roll < 0.8 ? merchant[currency]! : pick(wallets[currency]!);
      const debit = roll > 0.95 ? merchant[currency]! : from;
      commands.push(transfer(debit, to === debit ? funding[currency]! : to, String(1 + Math.floor(random() * 400)), currency));
    }
    // Concurrent submitters in waves, so that batches of many sizes form while appends are in flight.
    const results: { command: LedgerCommand; result: LedgerResult }[] = [];
    const inFlight = new Set<Promise<void>>();
    for (const command of commands) {
      const submitted = writer.submit(command).then((result) => {
        results.push({ command, result });
      });
      inFlight.add(submitted);
      void submitted.finally(() => inFlight.delete(submitted));
      if (inFlight.size >= 500) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    expect(results).toHaveLength(commands.length);
    expect(writer.stats().batches).toBeGreaterThan(3);

    // What the results say, in commit order (results resolve batch by batch, in submission order).
    const expectedPosted = new Map<string, bigint>();
    for (const { command, result } of results) {
      if (command.type !== 'PostTransfer' || result.status !== 'accepted') continue;
      const amount = BigInt(command.data.amount.amountMinor);
      expectedPosted.set(command.data.debitAccountId, (expectedPosted.get(command.data.debitAccountId) ?? 0n) - amount);
      expectedPosted.set(command.data.creditAccountId, (expectedPosted.get(command.data.creditAccountId) ?? 0n) + amount);
    }
    const lastBalances = new Map<string, string>();
    for (const { result } of results) for (const [accountId, balances] of result.balances) lastBalances.set(accountId, balances.postedMinor);

    for (const currency of currencies) {
      const accounts = [funding[currency]!, merchant[currency]!, ...wallets[currency]!];
      let sum = 0n;
      for (const accountId of accounts) {
        const stored = await storedAccount(accountId);
        sum += stored.postedMinor;
        expect(stored.currency).toBe(currency);
        expect(stored.postedMinor).toBe(expectedPosted.get(accountId) ?? 0n);
        expect(stored.postedMinor.toString()).toBe(lastBalances.get(accountId) ?? '0');
        if (accountId !== funding[currency]) expect(stored.postedMinor).toBeGreaterThanOrEqual(-(overdraft.get(accountId) ?? 0n));
      }
      expect(sum).toBe(0n);
    }
    const rejected = results.filter(({ result }) => result.status === 'rejected').length;
    expect(rejected).toBeGreaterThan(0); // the limits were exercised
    expect(results.filter(({ result }) => result.status === 'accepted').length).toBeGreaterThan(commands.length / 4);
  });
});

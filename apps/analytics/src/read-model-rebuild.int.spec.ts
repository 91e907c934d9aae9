/**
 * Proves that a read model rebuilt by replay equals the live one, byte for byte (md5 of every row in
 * order, per table), after a run of simulated traffic: first against the live projection's own small
 * batches, then after a rebuild swapped in while traffic kept arriving, the live projection kept
 * running and readers kept querying. Works in schemas of its own (event store and read models), so it
 * never touches the shared analytics tables; every contract event it appends passes validateEnvelope.
 */
import { isContractType, validateEnvelope } from '@clearline/contracts';
import { CatchUpSubscription, eventStoreMigrations, PostgresEventStore, type StreamAppend } from '@clearline/event-store';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { randomUUID } from 'node:crypto';
import { READ_MODELS, tableNames } from './read-model-catalog.js';
import { createReadModelTables, rebuildReadModels, SHADOW_SUFFIX, tableDigests } from './read-model-rebuild.js';
import { simulatedTraffic } from './simulated-traffic.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const STORE_SCHEMA = `rebuild_it_store_${suffix}`;
const READ_MODEL_SCHEMA = `rebuild_it_analytics_${suffix}`;

let pool: Pool;
let store: PostgresEventStore;
const traffic = simulatedTraffic({ seed: 42, merchants: 12, paymentsPerRound: 40 });

async function appendRounds(count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    const round = traffic.next().value as StreamAppend[];
    for (const append of round) {
      for (const event of append.events) {
        if (!isContractType(event.type)) continue;
        const result = validateEnvelope({ id: event.id, type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata: { ...event.metadata, occurredAt: new Date().toISOString() } });
        if (!result.valid) throw new Error(`simulated traffic is not contract-valid: ${result.reason}`);
      }
    }
    await store.appendToStreams(round);
  }
}

function startLiveProjections(): CatchUpSubscription[] {
  return READ_MODELS.map((model) => {
    const tables = tableNames(model, READ_MODEL_SCHEMA);
    const subscription = new CatchUpSubscription({
      store, pool, subscriptionId: model.subscriptionId, categories: model.categories, batchSize: 37, pollIntervalMs: 20, listen: false,
      handle: (events, client) => model.apply(events, client, tables),
    });
    void subscription.start();
    return subscription;
  });
}

/**
 * Waits until every read model's stored checkpoint has nothing after it. Counted in the messages table
 * itself: readAll hides events behind any transaction still open in the shared database, which would
 * make a projection look caught up before it has seen them.
 */
async function waitUntilCaughtUp(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    let behind = 0;
    for (const model of READ_MODELS) {
      const { rows } = await pool.query(
        `select count(*)::int as behind from ${STORE_SCHEMA}.messages m
         left join ${STORE_SCHEMA}.subscription_checkpoints c on c.subscription_id = $1
         where m.category = any($2::text[]) and (c.subscription_id is null or (m.transaction_id, m.global_position) > (c.transaction_id, c.global_position))`,
        [model.subscriptionId, model.categories],
      );
      behind += rows[0].behind as number;
    }
    if (behind === 0) return;
    if (Date.now() > deadline) throw new Error('live projections did not catch up within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function digestsOf(suffixOfTables: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const model of READ_MODELS) Object.assign(digests, await tableDigests(pool, tableNames(model, READ_MODEL_SCHEMA, suffixOfTables)));
  return digests;
}

beforeAll(async () => {
  pool = createPool({ max: 8, applicationName: 'analytics-rebuild-it' });
  await migrate(pool, [eventStoreMigrations({ schema: STORE_SCHEMA })]);
  await createReadModelTables(pool, READ_MODEL_SCHEMA);
  store = new PostgresEventStore(pool, { schema: STORE_SCHEMA });
});

afterAll(async () => {
  await pool.query(`drop schema if exists ${STORE_SCHEMA} cascade; drop schema if exists ${READ_MODEL_SCHEMA} cascade`);
  await pool.query(`delete from public.schema_migrations where owner = $1`, [`event-store:${STORE_SCHEMA}`]).catch(() => undefined);
  await pool.end();
});

describe('rebuild by replay', () => {
  it('builds the same tables as the live projection, and swaps them in under traffic and queries', async () => {
    await appendRounds(12);
    const live = startLiveProjections();
    try {
      await appendRounds(8);
      await waitUntilCaughtUp();
      const liveDigests = await digestsOf('');
      expect(Object.values(liveDigests).every((digest) => !digest.startsWith('0:'))).toBe(true);

      // Replay from the start into shadow tables, read in pages of 100 (the live batches were of 37),
      // every row held in memory and inserted once.
      await rebuildReadModels({ pool, store, models: READ_MODELS, schema: READ_MODEL_SCHEMA, pageSize: 100, swap: false });
      expect(await digestsOf(SHADOW_SUFFIX)).toEqual(liveDigests);

      // Now rebuild and swap while traffic arrives, the live projections run and readers query.
      let reading = true;
      let reads = 0;
      const readers = (async () => {
        while (reading) {
          await pool.query(`select sum(requests) from ${READ_MODEL_SCHEMA}.payment_flow where granularity = 'day'`);
          await pool.query(`select count(*) from ${READ_MODEL_SCHEMA}.settlement_batches`);
          await pool.query(`select status, count(*) from ${READ_MODEL_SCHEMA}.payments group by status`);
          await pool.query(`select sum(posted_minor) from ${READ_MODEL_SCHEMA}.account_balances`);
          reads += 1;
        }
      })();
      const writer = appendRounds(10);
      // Folds of at most 150 rows: each read model writes many times, loading and merging what it continues.
      await rebuildReadModels({ pool, store, models: READ_MODELS, schema: READ_MODEL_SCHEMA, pageSize: 100, maxHeldRows: 150 });
      await writer;
      await appendRounds(3);
      await waitUntilCaughtUp();
      reading = false;
      await readers;
      expect(reads).toBeGreaterThan(0);

      const afterSwap = await digestsOf('');
      // One read model at a time gives the same tables as all at once.
      for (const model of READ_MODELS) await rebuildReadModels({ pool, store, models: [model], schema: READ_MODEL_SCHEMA, pageSize: 5_000, swap: false });
      expect(await digestsOf(SHADOW_SUFFIX)).toEqual(afterSwap);
      // The swap left the migration's index names in place (a second rebuild would otherwise drift).
      const { rows } = await pool.query(`select indexname from pg_indexes where schemaname = $1 and tablename = 'payment_outcomes' order by 1`, [READ_MODEL_SCHEMA]);
      expect(rows.map((row) => row.indexname)).toEqual(['payment_outcomes_completed', 'payment_outcomes_pkey']);
      const payments = await pool.query(`select indexname from pg_indexes where schemaname = $1 and tablename = 'payments' order by 1`, [READ_MODEL_SCHEMA]);
      expect(payments.rows.map((row) => row.indexname)).toEqual([
        'payments_merchant_account_requested', 'payments_merchant_requested', 'payments_payer_account_requested', 'payments_pkey',
        'payments_requested_desc', 'payments_status', 'payments_status_requested',
      ]);

      // The traffic took every path, so the digests above compared every kind of row.
      const statuses = await pool.query<{ status: string }>(`select distinct status from ${READ_MODEL_SCHEMA}.payments order by 1`);
      expect(statuses.rows.map((row) => row.status)).toEqual([
        'authorized', 'captured', 'declined', 'expired', 'failed', 'partially_refunded', 'refunded', 'settled', 'voided',
      ]);
    } finally {
      await Promise.all(live.map((subscription) => subscription.stop()));
    }
  }, 180_000);
});

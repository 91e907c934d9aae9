import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CatchUpSubscription, PostgresEventStore, type AllPosition, type RecordedEvent } from '@clearline/event-store';
import { quoteIdentifier } from '@clearline/postgres';
import { LOGGER, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import type { Pool, PoolClient } from 'pg';
import { Gauge, Registry } from 'prom-client';
import { READ_MODELS, tableNames } from './read-model-catalog.js';

/** Events per live batch: small enough to keep the lag low, big enough to amortise the upserts. */
const LIVE_BATCH_SIZE = 1_000;
/**
 * Live, each read model reads at most this often: under load a batch then holds the appends of a
 * fifth of a second instead of a few events, and the read, transaction and upserts are paid once
 * for all of them (they were a third of PostgreSQL's CPU in bench:e2e). The read models lag by as much.
 */
const MIN_READ_INTERVAL_MS = 200;
/** The lag count stops here: beyond it the exact number says nothing more and costs a long scan. */
const LAG_COUNT_LIMIT = 1_000_000;

export interface ReadModelLag {
  readModel: string;
  subscriptionId: string;
  position: AllPosition;
  eventsBehind: number;
  /** Age of the oldest event not yet applied (0 when caught up), from the events' recorded times. */
  secondsBehind: number;
}

/**
 * Keeps the catalog's read models current, one catch-up subscription each (history first, then
 * live), each batch applied with its checkpoint in one transaction: exactly once in effect.
 * Also reports every read model's lag on /metrics.
 */
@Injectable()
export class ReadModelsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscriptions: CatchUpSubscription[];

  constructor(
    private readonly store: PostgresEventStore,
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    @Inject(LOGGER) logger: Logger,
    metrics: Registry,
  ) {
    this.subscriptions = READ_MODELS.map((model) => {
      const tables = tableNames(model, 'analytics');
      return new CatchUpSubscription({
        store,
        pool,
        subscriptionId: model.subscriptionId,
        categories: model.categories,
        batchSize: LIVE_BATCH_SIZE,
        minReadIntervalMs: MIN_READ_INTERVAL_MS,
        handle: (events: RecordedEvent[], client: PoolClient) => model.apply(events, client, tables),
        onError: (error: unknown) => logger.error({ err: error, readModel: model.name }, 'read model batch failed; retrying'),
      });
    });
    registerLagMetrics(metrics, () => this.lag());
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const subscription of this.subscriptions) await subscription.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.map((subscription) => subscription.stop()));
  }

  /** Read from the stored checkpoints, so a rebuild's swap (which moves one) shows at once. */
  async lag(): Promise<ReadModelLag[]> {
    const models = READ_MODELS.map((model) => ({ readModel: model.name, subscriptionId: model.subscriptionId, categories: model.categories }));
    const schema = quoteIdentifier(this.store.schema);
    return Promise.all(models.map(async (model) => {
      const { rows } = await this.pool.query<{ transaction_id: string; global_position: string; events: string; oldest_seconds: number | null }>(
        `select c.transaction_id, c.global_position, behind.events, behind.oldest_seconds
         from ${schema}.subscription_checkpoints c
         cross join lateral (
           select count(*) as events, extract(epoch from now() - min(m.recorded_at))::float8 as oldest_seconds
           from (select recorded_at from ${schema}.messages
                 where category = any($2::text[]) and (transaction_id, global_position) > (c.transaction_id, c.global_position)
                   and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                 order by transaction_id, global_position limit ${LAG_COUNT_LIMIT}) m
         ) behind
         where c.subscription_id = $1`,
        [model.subscriptionId, model.categories],
      );
      const row = rows[0];
      return {
        readModel: model.readModel,
        subscriptionId: model.subscriptionId,
        position: { transactionId: BigInt(row?.transaction_id ?? 0), globalPosition: BigInt(row?.global_position ?? 0) },
        eventsBehind: Number(row?.events ?? 0),
        secondsBehind: Math.max(0, row?.oldest_seconds ?? 0),
      };
    }));
  }
}

function registerLagMetrics(metrics: Registry, lag: () => Promise<ReadModelLag[]>): void {
  // Both gauges come from one query per scrape; the second reads what the first fetched.
  let last: Promise<ReadModelLag[]> | undefined;
  new Gauge({
    name: 'clearline_read_model_lag_events',
    help: 'Events of the read model\'s categories in the event store not yet applied to it (counted up to 1,000,000).',
    labelNames: ['read_model'],
    registers: [metrics],
    async collect() {
      last = lag();
      for (const entry of await last) this.set({ read_model: entry.readModel }, entry.eventsBehind);
    },
  });
  new Gauge({
    name: 'clearline_read_model_lag_seconds',
    help: 'Age of the oldest event not yet applied to the read model (recorded time), 0 when caught up.',
    labelNames: ['read_model'],
    registers: [metrics],
    async collect() {
      const entries = await (last ?? lag());
      for (const entry of entries) this.set({ read_model: entry.readModel }, entry.secondsBehind);
    },
  });
}

import { MAX_READ_ALL_COUNT, START, type AllPosition, type PostgresEventStore, type RecordedEvent } from '@clearline/event-store';
import { quoteIdentifier, withTransaction } from '@clearline/postgres';
import type { Pool, PoolClient } from 'pg';
import { tableNames, type ReadModel } from './read-model-catalog.js';

/**
 * Rebuild by replay (docs/analytics.md, "Rebuild"): the read models' tables are rebuilt from the
 * start of the event store into shadow copies (`<table>__rebuild`) while the live ones keep
 * answering queries and following new events; then one transaction takes the read models'
 * checkpoint rows (their live projections wait on them), replays what arrived meanwhile into the
 * shadows, swaps them in by rename and moves the checkpoints to where the shadows stand. Readers
 * wait for the swap's few milliseconds at most, and never see a half-built table.
 *
 * Several read models are rebuilt from one read of the event store: each page of $all (the union of
 * their categories) is handed to every read model at once, each in a transaction of its own on its
 * own connection, while the next page is read.
 */

export const SHADOW_SUFFIX = '__rebuild';
/** Events per write transaction (read in pages of the store's most per read). */
export const DEFAULT_REPLAY_BATCH_SIZE = 10_000;

export interface ReplayProgress {
  events: number;
  /** Events of the read models' categories when the rebuild started (more may arrive). */
  totalEstimate: number;
  elapsedMs: number;
}

export interface RebuildOptions {
  pool: Pool;
  store: PostgresEventStore;
  /** One or more read models of the catalog, rebuilt from one read of the event store and swapped in together. */
  models: readonly ReadModel[];
  /** Where the live tables are. Default 'analytics'; tests use a schema of their own. */
  schema?: string;
  batchSize?: number;
  /** false: build the shadow tables and stop (for comparison); true (default): swap them in. */
  swap?: boolean;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface RebuildResult {
  /** Events of the store replayed (each once, whatever the number of read models it feeds). */
  events: number;
  position: AllPosition;
  elapsedMs: number;
  swapped: boolean;
  /** Per read model: the events it was given and the time spent in its projection (they overlap). */
  perModel: Record<string, { events: number; applyMs: number }>;
}

/** A read model and the tables it is written into. */
export interface ReplayTarget {
  model: ReadModel;
  tables: Record<string, string>;
}

export async function rebuildReadModels(options: RebuildOptions): Promise<RebuildResult> {
  const schema = options.schema ?? 'analytics';
  const batchSize = options.batchSize ?? DEFAULT_REPLAY_BATCH_SIZE;
  const models = [...new Map(options.models.map((model) => [model.name, model])).values()];
  if (models.length === 0) throw new Error('rebuildReadModels: name at least one read model');
  const targets = models.map((model) => ({ model, tables: tableNames(model, schema, SHADOW_SUFFIX) }));
  const perModel = Object.fromEntries(models.map((model) => [model.name, { events: 0, applyMs: 0 }]));
  const started = performance.now();
  const totalEstimate = await countEvents(options.pool, options.store, categoriesOf(targets));
  const deferredIndexes: string[] = [];
  for (const model of models) {
    const live = tableNames(model, schema);
    for (const table of model.tables) deferredIndexes.push(...(await createShadowTable(options.pool, live[table] as string, `${live[table]}${SHADOW_SUFFIX}`)));
  }
  let events = 0;
  const replayed = await replay({
    pool: options.pool, store: options.store, targets, after: START, batchSize, perModel,
    onBatch: (count) => {
      events += count;
      options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
    },
  });
  // Built once over the loaded rows rather than maintained row by row through every batch.
  await Promise.all(deferredIndexes.map((definition) => options.pool.query(definition)));
  if (options.swap === false) return { events, position: replayed, elapsedMs: performance.now() - started, swapped: false, perModel };
  const checkpointTable = `${quoteIdentifier(options.store.schema)}.subscription_checkpoints`;
  // Sorted, so two rebuilds lock the checkpoints in one order.
  const subscriptionIds = models.map((model) => model.subscriptionId).sort();
  await options.pool.query(
    `insert into ${checkpointTable} (subscription_id, transaction_id, global_position) select id, '0', 0 from unnest($1::text[]) as id order by id on conflict (subscription_id) do nothing`,
    [subscriptionIds],
  );
  const position = await withTransaction(options.pool, async (client) => {
    // Holding the checkpoint rows stops the live projections' next batches until the swap commits;
    // they then find the moved checkpoints and carry on from there (catch-up-subscription.ts).
    await client.query(`select 1 from ${checkpointTable} where subscription_id = any($1::text[]) order by subscription_id for update`, [subscriptionIds]);
    let position = replayed;
    for await (const page of options.store.readAllPages({ after: position, maxCount: pageSizeFor(batchSize), categories: categoriesOf(targets) })) {
      for (const target of targets) await target.model.apply(eventsOf(target.model, page.events), client, target.tables);
      events += page.events.length;
      position = page.lastPosition;
    }
    for (const model of models) for (const table of model.tables) await swapTable(client, schema, table);
    await client.query(
      `update ${checkpointTable} set transaction_id = $2::xid8, global_position = $3, updated_at = now() where subscription_id = any($1::text[])`,
      [subscriptionIds, position.transactionId.toString(), position.globalPosition.toString()],
    );
    return position;
  });
  options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
  return { events, position, elapsedMs: performance.now() - started, swapped: true, perModel };
}

/**
 * Replays the events of the targets' categories after `after` into their tables: one read of $all
 * for all of them (pages of at most MAX_READ_ALL_COUNT, the next read while the current batch is
 * written), each batch of `batchSize` events applied to every target at once (a transaction each,
 * on a connection each: a read model writes only its own tables). Meant for tables no projection
 * follows (shadows, tests): the targets commit each batch separately, not together.
 * Returns the position of the last event applied.
 */
export async function replay(options: {
  pool: Pool; store: PostgresEventStore; targets: readonly ReplayTarget[]; after: AllPosition; batchSize: number;
  onBatch?: (events: number) => void; perModel?: Record<string, { events: number; applyMs: number }>;
}): Promise<AllPosition> {
  let position = options.after;
  let batch: RecordedEvent[] = [];
  let batchEnd = position;
  const flush = async (): Promise<void> => {
    // Every transaction ends (commits or rolls back) before a failure is reported: none is left running.
    const outcomes = await Promise.allSettled(options.targets.map((target) => applyInOwnTransaction(options.pool, target, batch, options.perModel)));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    position = batchEnd;
    options.onBatch?.(batch.length);
    batch = [];
  };
  const pages = options.store.readAllPages({ after: position, maxCount: pageSizeFor(options.batchSize), categories: categoriesOf(options.targets) });
  for await (const page of pages) {
    for (const event of page.events) batch.push(event);
    batchEnd = page.lastPosition;
    if (batch.length >= options.batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return position;
}

async function applyInOwnTransaction(
  pool: Pool, target: ReplayTarget, batch: readonly RecordedEvent[], perModel: Record<string, { events: number; applyMs: number }> | undefined,
): Promise<void> {
  const events = eventsOf(target.model, batch);
  if (events.length === 0) return;
  const started = performance.now();
  await withTransaction(pool, async (client) => {
    // A crash loses nothing that matters here (the tables are rebuilt from the store), so the
    // commit need not wait for its WAL flush.
    await client.query('set local synchronous_commit = off');
    await target.model.apply(events, client, target.tables);
  });
  const stats = perModel?.[target.model.name];
  if (stats !== undefined) {
    stats.events += events.length;
    stats.applyMs += performance.now() - started;
  }
}

function pageSizeFor(batchSize: number): number {
  return Math.min(batchSize, MAX_READ_ALL_COUNT);
}

function categoriesOf(targets: readonly ReplayTarget[]): string[] {
  return [...new Set(targets.flatMap((target) => target.model.categories))].sort();
}

/** The page's events of the read model's categories, in $all order. */
function eventsOf(model: ReadModel, events: readonly RecordedEvent[]): RecordedEvent[] {
  return events.filter((event) => model.categories.includes(event.category));
}

/**
 * Creates `shadow` as a copy of `live`'s definition, without its non-unique indexes (the unique ones
 * stay: the projections' upserts need them). Returns the statements that create those later.
 */
async function createShadowTable(pool: Pool, live: string, shadow: string): Promise<string[]> {
  // A rebuild that died leaves its shadows behind: they are garbage, never half of an answer.
  await pool.query(`drop table if exists ${shadow}; create table ${shadow} (like ${live} including all)`);
  const { rows } = await pool.query<{ name: string; definition: string }>(
    `select quote_ident(n.nspname) || '.' || quote_ident(i.relname) as name, pg_get_indexdef(x.indexrelid) as definition
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
     where x.indrelid = $1::regclass and not x.indisunique`,
    [shadow],
  );
  for (const row of rows) await pool.query(`drop index ${row.name}`);
  return rows.map((row) => row.definition);
}

async function countEvents(pool: Pool, store: PostgresEventStore, categories: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ count: string }>(`select count(*) from ${quoteIdentifier(store.schema)}.messages where category = any($1::text[])`, [categories]);
  return Number(rows[0]?.count ?? 0);
}

/**
 * Replaces the live table by its shadow and gives the shadow's indexes (and so its primary key) the
 * live names, matched by definition, so every rebuild leaves the schema as the migrations made it.
 */
async function swapTable(client: PoolClient, schema: string, table: string): Promise<void> {
  const indexes = await client.query<{ tablename: string; indexname: string; definition: string }>(
    `select tablename, indexname, regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', '') as definition
     from pg_indexes where schemaname = $1 and tablename = any($2::text[])`,
    [schema, [table, `${table}${SHADOW_SUFFIX}`]],
  );
  const liveNameOf = new Map(indexes.rows.filter((row) => row.tablename === table).map((row) => [row.definition, row.indexname]));
  await client.query(`drop table ${schema}.${table}; alter table ${schema}.${table}${SHADOW_SUFFIX} rename to ${table}`);
  for (const row of indexes.rows.filter((candidate) => candidate.tablename !== table)) {
    const liveName = liveNameOf.get(row.definition);
    if (liveName !== undefined && liveName !== row.indexname) await client.query(`alter index ${schema}.${row.indexname} rename to ${liveName}`);
  }
}

/** md5 of every row of each table, in a fixed order: equal digests mean equal tables, byte for byte. */
export async function tableDigests(pool: Pool | PoolClient, tables: Record<string, string>): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [table, qualified] of Object.entries(tables)) {
    const { rows } = await pool.query<{ digest: string | null; count: string }>(
      `select md5(coalesce(string_agg(row_text, E'\\n' order by row_text), '')) as digest, count(*) as count
       from (select t::text as row_text from ${qualified} t) rows`,
    );
    digests[table] = `${rows[0]?.count}:${rows[0]?.digest}`;
  }
  return digests;
}

/**
 * Creates the read models' tables in another schema (the replay benchmark and the rebuild test work in
 * schemas of their own): the analytics migrations' own text, in order, without 0003's grants.
 */
export async function createReadModelTables(pool: Pool, schema: string): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  let script = `create schema if not exists ${schema};`;
  for (const file of ['0001_read_models.sql', '0002_ledger_queries.sql', '0003_analyst_read_models.sql', '0004_core_read_models.sql', '0005_payments_list.sql']) {
    const sql = await readFile(new URL(`../migrations/${file}`, import.meta.url), 'utf8');
    const grants = sql.indexOf('-- Read-only SQL access');
    script += `\n${(grants === -1 ? sql : sql.slice(0, grants)).replaceAll('analytics.', `${schema}.`).replace('create schema if not exists analytics;', '')}`;
  }
  await pool.query(script);
}

import { START, type AllPosition, type PostgresEventStore, type ReadAllResult } from '@clearline/event-store';
import { quoteIdentifier, withTransaction } from '@clearline/postgres';
import type { Pool, PoolClient } from 'pg';
import { tableNames, type ReadModel } from './read-model-catalog.js';

/**
 * Rebuild by replay (docs/analytics.md, "Rebuild"): the read model's tables are rebuilt from the
 * start of the event store into shadow copies (`<table>__rebuild`) while the live ones keep
 * answering queries and following new events; then one transaction takes the read model's
 * checkpoint row (the live projection waits on it), replays what arrived meanwhile into the
 * shadows, swaps them in by rename and moves the checkpoint to where the shadows stand. Readers
 * wait for the swap's few milliseconds at most, and never see a half-built table.
 */

export const SHADOW_SUFFIX = '__rebuild';
/** Events per read and per write transaction: the store's most per read. */
export const DEFAULT_REPLAY_BATCH_SIZE = 10_000;

export interface ReplayProgress {
  events: number;
  /** Events of the read model's categories when the rebuild started (more may arrive). */
  totalEstimate: number;
  elapsedMs: number;
}

export interface RebuildOptions {
  pool: Pool;
  store: PostgresEventStore;
  model: ReadModel;
  /** Where the live tables are. Default 'analytics'; tests use a schema of their own. */
  schema?: string;
  batchSize?: number;
  /** false: build the shadow tables and stop (for comparison); true (default): swap them in. */
  swap?: boolean;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface RebuildResult {
  events: number;
  position: AllPosition;
  elapsedMs: number;
  swapped: boolean;
}

export async function rebuildReadModel(options: RebuildOptions): Promise<RebuildResult> {
  const schema = options.schema ?? 'analytics';
  const batchSize = options.batchSize ?? DEFAULT_REPLAY_BATCH_SIZE;
  const live = tableNames(options.model, schema);
  const shadow = tableNames(options.model, schema, SHADOW_SUFFIX);
  const started = performance.now();
  const totalEstimate = await countEvents(options.pool, options.store, options.model.categories);
  for (const table of options.model.tables) {
    // A rebuild that died leaves its shadows behind: they are garbage, never half of an answer.
    await options.pool.query(`drop table if exists ${shadow[table]}; create table ${shadow[table]} (like ${live[table]} including all)`);
  }
  let events = 0;
  const replayed = await replay({
    ...options, tables: shadow, after: START, batchSize,
    onBatch: (count) => {
      events += count;
      options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
    },
  });
  if (options.swap === false) return { events, position: replayed, elapsedMs: performance.now() - started, swapped: false };
  const checkpointTable = `${quoteIdentifier(options.store.schema)}.subscription_checkpoints`;
  await options.pool.query(
    `insert into ${checkpointTable} (subscription_id, transaction_id, global_position) values ($1, '0', 0) on conflict (subscription_id) do nothing`,
    [options.model.subscriptionId],
  );
  const position = await withTransaction(options.pool, async (client) => {
    // Holding the checkpoint row stops the live projection's next batch until the swap commits;
    // it then finds the moved checkpoint and carries on from there (catch-up-subscription.ts).
    await client.query(`select 1 from ${checkpointTable} where subscription_id = $1 for update`, [options.model.subscriptionId]);
    let position = replayed;
    for (;;) {
      const page = await read(options.store, options.model, position, batchSize);
      if (page.events.length === 0) break;
      await options.model.apply(page.events, client, shadow);
      events += page.events.length;
      position = page.lastPosition;
    }
    for (const table of options.model.tables) await swapTable(client, schema, table);
    await client.query(
      `update ${checkpointTable} set transaction_id = $2::xid8, global_position = $3, updated_at = now() where subscription_id = $1`,
      [options.model.subscriptionId, position.transactionId.toString(), position.globalPosition.toString()],
    );
    return position;
  });
  options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
  return { events, position, elapsedMs: performance.now() - started, swapped: true };
}

/**
 * Replays the read model's events after `after` into `tables`, one transaction per batch, reading
 * the next batch while the current one is written (the two overlap on separate connections).
 * Returns the position of the last event applied.
 */
export async function replay(options: {
  pool: Pool; store: PostgresEventStore; model: ReadModel; tables: Record<string, string>; after: AllPosition; batchSize: number; onBatch?: (events: number) => void;
}): Promise<AllPosition> {
  let position = options.after;
  let next: Promise<ReadAllResult> | undefined = read(options.store, options.model, position, options.batchSize);
  while (next !== undefined) {
    const page: ReadAllResult = await next;
    if (page.events.length === 0) break;
    const full = page.events.length === options.batchSize;
    next = full ? read(options.store, options.model, page.lastPosition, options.batchSize) : undefined;
    // A failed write must not leave the prefetch's rejection unhandled.
    next?.catch(() => undefined);
    await withTransaction(options.pool, (client) => options.model.apply(page.events, client, options.tables));
    position = page.lastPosition;
    options.onBatch?.(page.events.length);
  }
  return position;
}

function read(store: PostgresEventStore, model: ReadModel, after: AllPosition, batchSize: number): Promise<ReadAllResult> {
  return store.readAll({ after, maxCount: batchSize, categories: model.categories });
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
  for (const file of ['0001_read_models.sql', '0002_ledger_queries.sql', '0003_analyst_read_models.sql', '0004_core_read_models.sql']) {
    const sql = await readFile(new URL(`../migrations/${file}`, import.meta.url), 'utf8');
    const grants = sql.indexOf('-- Read-only SQL access');
    script += `\n${(grants === -1 ? sql : sql.slice(0, grants)).replaceAll('analytics.', `${schema}.`).replace('create schema if not exists analytics;', '')}`;
  }
  await pool.query(script);
}

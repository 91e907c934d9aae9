import {
  compareAllPositions, MAX_READ_ALL_COUNT, parseAllPosition, START, type AllPosition, type PostgresEventStore, type RecordedEvent,
} from '@clearline/event-store';
import { quoteIdentifier, withTransaction } from '@clearline/postgres';
import { Worker } from 'node:worker_threads';
import type { Pool, PoolClient } from 'pg';
import { tableNames, type ReadModel } from './read-model-catalog.js';
import type { ReadModelFold } from './read-model-fold.js';
import type { LaneMessage, LaneWork } from './replay-lane.worker.js';

/**
 * Rebuild by replay (docs/analytics.md, "Rebuild"): the read models' tables are rebuilt from the
 * start of the event store into shadow copies (`<table>__rebuild`) while the live ones keep
 * answering queries and following new events; then one transaction takes the read models'
 * checkpoint rows (their live projections wait on them), replays what arrived meanwhile into the
 * shadows, swaps them in by rename and moves the checkpoints to where the shadows stand. Readers
 * wait for the swap's few milliseconds at most, and never see a half-built table.
 *
 * Several read models are rebuilt from one read of the event store: each page of $all (the union of
 * their categories) is folded into every read model's rows in memory while the next page is read,
 * and each row is written once, at the end, by plain inserts into the empty shadow tables. A read
 * model whose fold outgrows `maxHeldRows` writes it (in a transaction of its own, on a connection of
 * its own) and starts a new one, which loads the rows it continues and merges: memory stays bounded
 * whatever the size of the store, and the tables are the same bytes either way.
 *
 * Read models that share no category with the others form a lane of their own (the ledger reads
 * `account` and `transfer`, which no other reads): each lane is replayed from a read of its own, at
 * the same time, the first in this thread and each other in a worker thread (replay-lane.worker.ts),
 * so that parsing and folding, one thread's work per lane, use both cores. Each lane ends where its
 * read ended; the swap catches each up from there.
 */

export const SHADOW_SUFFIX = '__rebuild';
/** Events per read of the event store (its most per read). */
export const DEFAULT_REPLAY_PAGE_SIZE = MAX_READ_ALL_COUNT;
/**
 * Rows a read model's fold may hold before it is written and started afresh. A held row of
 * `payments` (a payment or its risk assessment) costs about 1 KB of heap, one of the other read
 * models about 0.7 KB: four read models at the bound stay well under 1 GB.
 */
export const DEFAULT_MAX_HELD_ROWS = 200_000;

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
  /** Events per read of the store (default DEFAULT_REPLAY_PAGE_SIZE, at most MAX_READ_ALL_COUNT). */
  pageSize?: number;
  /** Rows a read model's fold may hold before it is written (default DEFAULT_MAX_HELD_ROWS). */
  maxHeldRows?: number;
  /** false: every lane in this thread, one after the other (default true: lanes at once, in worker threads). */
  parallelLanes?: boolean;
  /** false: build the shadow tables and stop (for comparison); true (default): swap them in. */
  swap?: boolean;
  onProgress?: (progress: ReplayProgress) => void;
}

export interface RebuildResult {
  /** Events of the store replayed (each once, whatever the number of read models it feeds). */
  events: number;
  /** The latest of `positions`. */
  position: AllPosition;
  /** Per read model, where its checkpoint was set (its lane's last event): lanes end apart. */
  positions: Record<string, AllPosition>;
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
  const pageSize = Math.min(options.pageSize ?? DEFAULT_REPLAY_PAGE_SIZE, MAX_READ_ALL_COUNT);
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
  const onPage = (count: number): void => {
    events += count;
    options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
  };
  const lanes = lanesOf(targets);
  const connectionString = options.pool.options.connectionString;
  const inWorkers = options.parallelLanes !== false && lanes.length > 1 && connectionString !== undefined;
  const workers: Worker[] = [];
  const laneRuns = lanes.map((lane, index) => {
    if (inWorkers && index > 0) {
      return replayInWorker(workers, { connectionString, storeSchema: options.store.schema, targets: lane.map((target) => ({ model: target.model.name, tables: target.tables })), pageSize, maxHeldRows: options.maxHeldRows }, onPage, perModel);
    }
    return () => replay({ pool: options.pool, store: options.store, targets: lane, after: START, pageSize, maxHeldRows: options.maxHeldRows, freshTables: true, perModel, onPage });
  });
  const replayed: AllPosition[] = [];
  if (inWorkers) {
    const runs = laneRuns.map((run) => run());
    // This thread's lane failing makes the workers' work garbage: stop them (their connections roll back).
    runs[0]?.catch(() => Promise.all(workers.map((worker) => worker.terminate())));
    replayed.push(...(await settleAll(runs)));
  } else {
    for (const run of laneRuns) replayed.push(await run());
  }
  // Built once over the loaded rows rather than maintained row by row through every batch.
  await Promise.all(deferredIndexes.map((definition) => options.pool.query(definition)));
  const positionsOf = (ends: readonly AllPosition[]): Record<string, AllPosition> =>
    Object.fromEntries(lanes.flatMap((lane, index) => lane.map((target) => [target.model.name, ends[index] as AllPosition])));
  if (options.swap === false) {
    return { events, position: latest(replayed), positions: positionsOf(replayed), elapsedMs: performance.now() - started, swapped: false, perModel };
  }
  const checkpointTable = `${quoteIdentifier(options.store.schema)}.subscription_checkpoints`;
  // Sorted, so two rebuilds lock the checkpoints in one order.
  const subscriptionIds = models.map((model) => model.subscriptionId).sort();
  await options.pool.query(
    `insert into ${checkpointTable} (subscription_id, transaction_id, global_position) select id, '0', 0 from unnest($1::text[]) as id order by id on conflict (subscription_id) do nothing`,
    [subscriptionIds],
  );
  const ends = await withTransaction(options.pool, async (client) => {
    // Holding the checkpoint rows stops the live projections' next batches until the swap commits;
    // they then find the moved checkpoints and carry on from there (catch-up-subscription.ts).
    await client.query(`select 1 from ${checkpointTable} where subscription_id = any($1::text[]) order by subscription_id for update`, [subscriptionIds]);
    const laneEnds: AllPosition[] = [];
    for (const [index, lane] of lanes.entries()) {
      let position = replayed[index] as AllPosition;
      for await (const page of options.store.readAllPages({ after: position, maxCount: pageSize, categories: categoriesOf(lane) })) {
        for (const target of lane) await target.model.apply(eventsOf(target.model, page.events), client, target.tables);
        events += page.events.length;
        position = page.lastPosition;
      }
      await client.query(
        `update ${checkpointTable} set transaction_id = $2::xid8, global_position = $3, updated_at = now() where subscription_id = any($1::text[])`,
        [lane.map((target) => target.model.subscriptionId), position.transactionId.toString(), position.globalPosition.toString()],
      );
      laneEnds.push(position);
    }
    for (const model of models) for (const table of model.tables) await swapTable(client, schema, table);
    return laneEnds;
  });
  options.onProgress?.({ events, totalEstimate, elapsedMs: performance.now() - started });
  return { events, position: latest(ends), positions: positionsOf(ends), elapsedMs: performance.now() - started, swapped: true, perModel };
}

/** The targets grouped so that no two groups read a category in common, each in the targets' order. */
function lanesOf(targets: readonly ReplayTarget[]): ReplayTarget[][] {
  const lanes: ReplayTarget[][] = [];
  for (const target of targets) {
    const sharing = lanes.filter((lane) => lane.some((other) => other.model.categories.some((category) => target.model.categories.includes(category))));
    const merged = [...sharing.flat(), target];
    for (const lane of sharing) lanes.splice(lanes.indexOf(lane), 1);
    lanes.push(merged);
  }
  // The lane of the first target (the catalog's first, and largest, read model) runs in this thread.
  return lanes.sort((left, right) => targets.indexOf(left[0] as ReplayTarget) - targets.indexOf(right[0] as ReplayTarget));
}

function latest(positions: readonly AllPosition[]): AllPosition {
  return positions.reduce((last, position) => (compareAllPositions(position, last) > 0 ? position : last), START);
}

/**
 * A lane replayed in a worker thread, started when the returned function is called. Under jest the
 * sources run as TypeScript, so the worker is the built one (npm run build): a thread cannot load .ts.
 */
function replayInWorker(
  workers: Worker[], work: LaneWork, onPage: (events: number) => void, perModel: Record<string, { events: number; applyMs: number }>,
): () => Promise<AllPosition> {
  return () => new Promise<AllPosition>((resolve, reject) => {
    const here = new URL(import.meta.url);
    const script = here.pathname.endsWith('.ts')
      ? new URL(here.href.replace('/src/read-model-rebuild.ts', '/dist/replay-lane.worker.js'))
      : new URL('./replay-lane.worker.js', here);
    const worker = new Worker(script, { workerData: work });
    workers.push(worker);
    let end: AllPosition | undefined;
    worker.on('message', (message: LaneMessage) => {
      if (message.kind === 'page') return onPage(message.events);
      end = parseAllPosition(message.position);
      for (const [name, stats] of Object.entries(message.perModel)) perModel[name] = stats;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (end !== undefined && code === 0) resolve(end);
      else reject(new Error(`rebuild lane (${work.targets.map((target) => target.model).join(', ')}) stopped with exit code ${code} before its end`));
    });
  });
}

/**
 * Replays the events of the targets' categories after `after` into their tables: one read of $all
 * for all of them (pages of `pageSize`, the next read while the current page is folded), one fold
 * per target kept across pages and written when it holds `maxHeldRows` rows and at the end, each
 * write in a transaction of its own on a connection of its own (a read model writes only its own
 * tables). `freshTables`: the tables were just created empty, so the first write of each target
 * inserts without looking for conflicts and nothing is loaded before it. Meant for tables no
 * projection follows (shadows, tests): the targets commit separately, not together.
 * Returns the position of the last event applied.
 */
export async function replay(options: {
  pool: Pool; store: PostgresEventStore; targets: readonly ReplayTarget[]; after: AllPosition; pageSize?: number; maxHeldRows?: number;
  freshTables?: boolean; onPage?: (events: number) => void; perModel?: Record<string, { events: number; applyMs: number }>;
}): Promise<AllPosition> {
  const maxHeldRows = options.maxHeldRows ?? DEFAULT_MAX_HELD_ROWS;
  if (!Number.isInteger(maxHeldRows) || maxHeldRows < 1) throw new Error(`replay: maxHeldRows must be a positive integer, not ${maxHeldRows}`);
  const folds = options.targets.map((target) => new TargetFold(options.pool, target, options.freshTables === true, options.perModel?.[target.model.name]));
  let position = options.after;
  const pageSize = Math.min(options.pageSize ?? DEFAULT_REPLAY_PAGE_SIZE, MAX_READ_ALL_COUNT);
  for await (const page of options.store.readAllPages({ after: position, maxCount: pageSize, categories: categoriesOf(options.targets) })) {
    await settleAll(folds.map(async (fold) => {
      await fold.apply(page.events);
      if (fold.heldRows >= maxHeldRows) await fold.write();
    }));
    position = page.lastPosition;
    options.onPage?.(page.events.length);
  }
  await settleAll(folds.map((fold) => fold.write()));
  return position;
}

/** Every promise settles (no transaction or lane is left running) before the first failure is reported. */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/** A target's fold across pages: loads what it continues once its tables may hold it, writes when asked. */
class TargetFold {
  private fold: ReadModelFold;
  /** Whether the target's tables may hold rows the fold continues (so it loads them, and merges). */
  private tablesHoldRows: boolean;

  constructor(
    private readonly pool: Pool, private readonly target: ReplayTarget, freshTables: boolean,
    private readonly stats: { events: number; applyMs: number } | undefined,
  ) {
    this.fold = target.model.newFold();
    this.tablesHoldRows = !freshTables;
  }

  get heldRows(): number {
    return this.fold.heldRows;
  }

  async apply(page: readonly RecordedEvent[]): Promise<void> {
    const events = eventsOf(this.target.model, page);
    if (events.length === 0) return;
    const started = performance.now();
    if (this.tablesHoldRows) {
      const client = await this.pool.connect();
      try {
        await this.fold.load(events, client, this.target.tables);
      } finally {
        client.release();
      }
    }
    for (const event of events) this.fold.apply(event);
    if (this.stats !== undefined) {
      this.stats.events += events.length;
      this.stats.applyMs += performance.now() - started;
    }
  }

  async write(): Promise<void> {
    // Nothing folded since the last write: no transaction to open.
    if (this.fold.heldRows === 0) return;
    const started = performance.now();
    const fold = this.fold;
    const mode = this.tablesHoldRows ? 'merge' : 'insert';
    this.fold = this.target.model.newFold();
    this.tablesHoldRows = true;
    await withTransaction(this.pool, async (client) => {
      // A crash loses nothing that matters here (the tables are rebuilt from the store), so the
      // commit need not wait for its WAL flush.
      await client.query('set local synchronous_commit = off');
      await fold.write(client, this.target.tables, mode);
    });
    if (this.stats !== undefined) this.stats.applyMs += performance.now() - started;
  }
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

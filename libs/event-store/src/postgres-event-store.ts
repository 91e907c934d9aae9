import { quoteIdentifier } from '@clearline/postgres';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { withTransaction } from '@clearline/postgres';
import {
  actualVersion,
  assertExpectedVersion,
  decideAppend,
  planAppends,
  type AppendDecision,
  type PlannedAppend,
  type StoredEventLocation,
  type StreamHead,
} from './append-decision.js';
import { EventIdConflictError, EventStoreInputError } from './event-store.errors.js';
import { DEFAULT_EVENT_STORE_SCHEMA } from './event-store-migrations.js';
import { eventStoreStatements, type EventStoreStatements, type RecordedEventRow } from './event-store.sql.js';
import type { AllPosition, AppendResult, ExpectedVersion, NewEvent, RecordedEvent, Upcaster } from './event-store.types.js';
import { assertValidCategory, assertValidSchemaName, assertValidStreamId } from './event-validation.js';
import { applyUpcasters } from './upcasting.js';

export interface PostgresEventStoreOptions {
  /** Default 'event_store'. Tests use a schema of their own. */
  schema?: string;
  /** Applied in order to every event read. */
  upcasters?: Upcaster[];
  /**
   * NOTIFY event_store_appended (payload: the schema) on every appending commit, so subscriptions
   * wake at once instead of at their next poll. Default true. PostgreSQL serialises the commits of
   * notifying transactions, so a system bound by many small concurrent appends may turn it off
   * and rely on polling.
   */
  notifyOnAppend?: boolean;
}

export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
  /** Default 'any'. */
  expectedVersion?: ExpectedVersion;
}

export interface ReadStreamOptions {
  /** Forwards: the first version returned (default 0n). Backwards: the last (default: the stream's end). */
  fromVersion?: bigint;
  direction?: 'forwards' | 'backwards';
  /** Default: the whole stream from fromVersion. */
  maxCount?: number;
  client?: PoolClient;
}

export interface ReadAllOptions {
  /** Exclusive: events after this position. START reads from the beginning. */
  after: AllPosition;
  /** 1..{@link MAX_READ_ALL_COUNT}. */
  maxCount: number;
  /** Only events of these categories ('payment' for 'payment-123'). Default: all. */
  categories?: string[];
}

/** A decider's state as stored, with the stream version it was built from. */
export interface StoredSnapshot {
  version: bigint;
  state: unknown;
}

export interface ReadAllResult {
  events: RecordedEvent[];
  /** The position to pass as `after` next time: the last event's, or `after` itself when there were none. */
  lastPosition: AllPosition;
}

export const MAX_READ_ALL_COUNT = 10_000;
/** The largest bigint PostgreSQL stores: the end of any stream. */
const MAX_STREAM_VERSION = 9_223_372_036_854_775_807n;
const MAX_CATEGORIES_PER_READ = 100;
/** Deadlocks and serialisation failures of the store's own transactions are retried this many times in all. */
const OWN_TRANSACTION_ATTEMPTS = 3;
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

/**
 * The event store on PostgreSQL: streams of events with optimistic concurrency, idempotent
 * appends, and $all, the ordering of every event that readers and subscriptions page through
 * without ever skipping one (see README.md, "Ordering of $all").
 */
export class PostgresEventStore {
  readonly schema: string;
  private readonly statements: EventStoreStatements;
  private readonly upcasters: readonly Upcaster[];

  constructor(
    private readonly pool: Pool,
    options: PostgresEventStoreOptions = {},
  ) {
    this.schema = options.schema ?? DEFAULT_EVENT_STORE_SCHEMA;
    assertValidSchemaName(this.schema);
    this.statements = eventStoreStatements(this.schema, options.notifyOnAppend ?? true);
    this.upcasters = [...(options.upcasters ?? [])];
  }

  /**
   * Appends events to one stream in one statement. With `client`, runs inside the caller's
   * transaction (the caller commits); otherwise in a transaction of its own.
   */
  async appendToStream(
    streamId: string,
    events: NewEvent[],
    options: { expectedVersion?: ExpectedVersion; client?: PoolClient } = {},
  ): Promise<AppendResult> {
    const append: StreamAppend = { streamId, events, ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }) };
    const [result] = await this.appendToStreams([append], options.client === undefined ? {} : { client: options.client });
    if (result === undefined) throw new Error('appendToStream: no result for the one append (bug)');
    return result;
  }

  /** Appends to several streams atomically: all or none. Results are in the order of `appends`. */
  async appendToStreams(appends: StreamAppend[], options: { client?: PoolClient } = {}): Promise<AppendResult[]> {
    const planned = planAppends(appends);
    if (planned.length === 0) return [];
    if (options.client !== undefined) return this.appendWithin(options.client, planned);
    return this.inOwnTransaction((client) => this.appendWithin(client, planned));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertValidStreamId(streamId);
    const direction = options.direction ?? 'forwards';
    if (options.maxCount !== undefined && (!Number.isSafeInteger(options.maxCount) || options.maxCount < 1)) {
      throw new EventStoreInputError(`readStream: maxCount must be a positive integer, got ${options.maxCount}`);
    }
    if (options.fromVersion !== undefined && (typeof options.fromVersion !== 'bigint' || options.fromVersion < 0n)) {
      throw new EventStoreInputError(`readStream: fromVersion must be a bigint >= 0n`);
    }
    const fromVersion = options.fromVersion ?? (direction === 'forwards' ? 0n : MAX_STREAM_VERSION);
    const sql = direction === 'forwards' ? this.statements.readStreamForwards : this.statements.readStreamBackwards;
    const queryable = options.client ?? this.pool;
    const result = await queryable.query<RecordedEventRow>(sql, [streamId, fromVersion.toString(), options.maxCount ?? null]);
    return result.rows.map((row) => this.toRecordedEvent(row));
  }

  /**
   * Reads $all after `after`, in (transactionId, globalPosition) order, returning only events that
   * can no longer be preceded by one committing later. Never call it inside a transaction that
   * has written: that transaction's own id would hold the horizon back until it ends.
   */
  async readAll(options: ReadAllOptions): Promise<ReadAllResult> {
    const { after, maxCount, categories } = options;
    if (!Number.isSafeInteger(maxCount) || maxCount < 1 || maxCount > MAX_READ_ALL_COUNT) {
      throw new EventStoreInputError(`readAll: maxCount must be an integer in 1..${MAX_READ_ALL_COUNT}, got ${maxCount}`);
    }
    if (typeof after?.transactionId !== 'bigint' || typeof after.globalPosition !== 'bigint' || after.transactionId < 0n || after.globalPosition < 0n) {
      throw new EventStoreInputError('readAll: after must be an AllPosition { transactionId: bigint, globalPosition: bigint } (START to begin)');
    }
    if (categories !== undefined) {
      if (categories.length === 0 || categories.length > MAX_CATEGORIES_PER_READ) {
        throw new EventStoreInputError(`readAll: categories must list 1..${MAX_CATEGORIES_PER_READ} categories (omit it for all)`);
      }
      categories.forEach(assertValidCategory);
    }
    const sql = this.statements.readAll(after, maxCount, categories === undefined ? undefined : [...new Set(categories)]);
    const results = (await this.pool.query(sql)) as unknown as QueryResult<RecordedEventRow>[];
    const result = results.at(-1);
    if (result === undefined) throw new Error('readAll: no result from the read (bug)');
    const last = result.rows.at(-1);
    const lastPosition = last === undefined ? after : { transactionId: BigInt(last.transaction_id), globalPosition: BigInt(last.global_position) };
    return { events: result.rows.map((row) => this.toRecordedEvent(row)), lastPosition };
  }

  /** The latest snapshot of a stream under `name`, if one was taken. */
  async readSnapshot(streamId: string, name: string, options: { client?: PoolClient } = {}): Promise<StoredSnapshot | undefined> {
    assertValidStreamId(streamId);
    const { rows } = await (options.client ?? this.pool).query<{ stream_version: string; state: unknown }>(
      `select stream_version, state from ${quoteIdentifier(this.schema)}.snapshots where stream_id = $1 and snapshot_name = $2`,
      [streamId, name],
    );
    const row = rows[0];
    return row === undefined ? undefined : { version: BigInt(row.stream_version), state: row.state };
  }

  /**
   * Stores a snapshot taken at `version`. A snapshot never moves backwards: an older one arriving
   * after a newer one (two loaders racing) is ignored.
   */
  async saveSnapshot(streamId: string, name: string, version: bigint, state: unknown, options: { client?: PoolClient } = {}): Promise<void> {
    assertValidStreamId(streamId);
    if (name.length === 0 || name.length > 100) throw new EventStoreInputError('saveSnapshot: name must be 1..100 characters');
    if (typeof version !== 'bigint' || version < 0n) throw new EventStoreInputError('saveSnapshot: version must be a bigint >= 0n');
    await (options.client ?? this.pool).query(
      `insert into ${quoteIdentifier(this.schema)}.snapshots (stream_id, snapshot_name, stream_version, state) values ($1, $2, $3, $4)
       on conflict (stream_id, snapshot_name) do update set stream_version = excluded.stream_version, state = excluded.state, taken_at = now()
       where ${quoteIdentifier(this.schema)}.snapshots.stream_version < excluded.stream_version`,
      [streamId, name, version.toString(), JSON.stringify(state)],
    );
  }

  /** The stream's current version (its last event's), or 'no_stream'. With `client`, as seen inside the caller's transaction. */
  async streamVersion(streamId: string, options: { client?: PoolClient } = {}): Promise<bigint | 'no_stream'> {
    assertValidStreamId(streamId);
    const heads = await this.readHeads(options.client ?? this.pool, [streamId], false);
    return actualVersion(heads.get(streamId));
  }

  /** Decides every append under the streams' row locks, then writes all events in one statement. */
  private async appendWithin(client: PoolClient, planned: readonly PlannedAppend[]): Promise<AppendResult[]> {
    const results = new Map<string, AppendResult>();
    const empty = planned.filter((append) => append.events.length === 0);
    const writing = planned.filter((append) => append.events.length > 0);
    if (empty.length > 0) {
      const heads = await this.readHeads(client, empty.map((append) => append.streamId), false);
      for (const append of empty) {
        const actual = actualVersion(heads.get(append.streamId));
        assertExpectedVersion(append.streamId, append.expectedVersion, actual);
        results.set(append.streamId, { streamId: append.streamId, nextExpectedVersion: actual === 'no_stream' ? -1n : actual, alreadyAppended: false });
      }
    }
    if (writing.length > 0) {
      for (const result of await this.writeAppends(client, writing)) results.set(result.streamId, result);
    }
    return planned.map((append) => results.get(append.streamId) as AppendResult);
  }

  private async writeAppends(client: PoolClient, writing: readonly PlannedAppend[]): Promise<AppendResult[]> {
    // A second attempt is needed only when another transaction created one of our new streams
    // between our lock and our insert of its row; its outcome is then final, so two attempts suffice.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const heads = await this.readHeads(client, writing.map((append) => append.streamId), true);
      const stored = await this.findStoredEvents(client, writing);
      const decisions = writing.map((append) => decideAppend(append, heads.get(append.streamId), stored));
      const toCreate = decisions.flatMap((decision) => (decision.kind === 'append' && !heads.has(decision.append.streamId) ? [decision.append] : []));
      if (toCreate.length > 0 && !(await this.createStreams(client, toCreate))) continue;
      return this.insertEvents(client, decisions);
    }
    throw new Error('append: a new stream was created concurrently twice in a row (bug)');
  }

  private async readHeads(queryable: Pool | PoolClient, streamIds: readonly string[], lock: boolean): Promise<Map<string, StreamHead>> {
    const sql = lock ? this.statements.lockStreams : this.statements.streamVersions;
    const result = await queryable.query<{ stream_id: string; version: string; last_transaction_id?: string }>(sql, [streamIds]);
    return new Map(
      result.rows.map((row) => [row.stream_id, { version: BigInt(row.version), lastTransactionId: BigInt(row.last_transaction_id ?? '0') }]),
    );
  }

  private async findStoredEvents(client: PoolClient, writing: readonly PlannedAppend[]): Promise<Map<string, StoredEventLocation>> {
    const ids = writing.flatMap((append) => append.events.map((event) => event.id));
    const result = await client.query<{ message_id: string; stream_id: string; stream_version: string; global_position: string }>(
      this.statements.findStoredEvents,
      [ids],
    );
    return new Map(
      result.rows.map((row) => [
        row.message_id,
        { id: row.message_id, streamId: row.stream_id, streamVersion: BigInt(row.stream_version), globalPosition: BigInt(row.global_position) },
      ]),
    );
  }

  /** Creates head rows for new streams; false when another transaction created one of them first. */
  private async createStreams(client: PoolClient, appends: readonly PlannedAppend[]): Promise<boolean> {
    const result = await client.query(this.statements.createStreams, [appends.map((append) => append.streamId), appends.map((append) => append.category)]);
    return result.rowCount === appends.length;
  }

  private async insertEvents(client: PoolClient, decisions: readonly AppendDecision[]): Promise<AppendResult[]> {
    const done = decisions.flatMap((decision) => (decision.kind === 'already-appended' ? [decision.result] : []));
    const appending = decisions.flatMap((decision) => (decision.kind === 'append' ? [decision] : []));
    if (appending.length === 0) return done;
    let rows: { stream_id: string; last_version: string; first_position: string; last_position: string; heads_updated: string }[];
    try {
      rows = (await client.query(this.statements.insertEvents, insertParameters(appending))).rows;
    } catch (error) {
      throw translateInsertError(error, appending);
    }
    // Every stream written must have had its head row locked and moved; anything else is a bug.
    if (rows.length !== appending.length || rows.some((row) => Number(row.heads_updated) !== appending.length)) {
      throw new Error(`append: wrote ${rows.length} streams and moved ${rows[0]?.heads_updated} heads, expected ${appending.length} (bug)`);
    }
    const written = rows.map((row) => ({
      streamId: row.stream_id,
      nextExpectedVersion: BigInt(row.last_version),
      firstGlobalPosition: BigInt(row.first_position),
      lastGlobalPosition: BigInt(row.last_position),
      alreadyAppended: false,
    }));
    return [...done, ...written];
  }

  private async inOwnTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await withTransaction(this.pool, work);
      } catch (error) {
        if (attempt >= OWN_TRANSACTION_ATTEMPTS || !RETRYABLE_SQLSTATES.has(sqlState(error) ?? '')) throw error;
      }
    }
  }

  private toRecordedEvent(row: RecordedEventRow): RecordedEvent {
    const event: RecordedEvent = {
      id: row.message_id,
      type: row.message_type,
      data: row.data,
      metadata: row.metadata,
      schemaVersion: row.schema_version,
      streamId: row.stream_id,
      streamVersion: BigInt(row.stream_version),
      category: row.category,
      globalPosition: BigInt(row.global_position),
      transactionId: BigInt(row.transaction_id),
      recordedAt: row.recorded_at,
    };
    return this.upcasters.length === 0 ? event : applyUpcasters(event, this.upcasters);
  }
}

type AppendingDecision = Extract<AppendDecision, { kind: 'append' }>;

/** The column arrays of insertEvents: one entry per event, then one per stream head. */
function insertParameters(appending: readonly AppendingDecision[]): unknown[] {
  const events = appending.flatMap(({ append, firstVersion, previousTransactionId }) =>
    append.events.map((event, index) => ({ append, event, version: firstVersion + BigInt(index), previousTransactionId })),
  );
  return [
    events.map(({ append }) => append.streamId),
    events.map(({ version }) => version.toString()),
    events.map(({ append }) => append.category),
    events.map(({ event }) => event.id),
    events.map(({ event }) => event.type),
    events.map(({ event }) => event.schemaVersion),
    events.map(({ event }) => event.dataJson),
    events.map(({ event }) => event.metadataJson),
    events.map(({ previousTransactionId }) => previousTransactionId.toString()),
    appending.map(({ append }) => append.streamId),
    appending.map(({ append, firstVersion }) => (firstVersion + BigInt(append.events.length) - 1n).toString()),
  ];
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * An event id stored by a transaction that committed after our check (into another stream: ours is
 * locked) surfaces as a unique violation; report it as the conflict it is.
 */
function translateInsertError(error: unknown, appending: readonly AppendingDecision[]): unknown {
  const constraint = typeof error === 'object' && error !== null && 'constraint' in error ? error.constraint : undefined;
  if (sqlState(error) !== '23505' || constraint !== 'messages_message_id_key') return error;
  const detail = typeof error === 'object' && error !== null && 'detail' in error && typeof error.detail === 'string' ? error.detail : '';
  const id = /\(message_id\)=\(([0-9a-f-]+)\)/.exec(detail)?.[1] ?? 'unknown';
  const streamId = appending.find(({ append }) => append.events.some((event) => event.id === id))?.append.streamId ?? 'unknown';
  return new EventIdConflictError(streamId, [id], 'an event id was stored concurrently by another append', { cause: error });
}

import { quoteIdentifier } from '@clearline/postgres';
import type { Pool, PoolClient, QueryResult } from 'pg';
import {
  actualVersion,
  assertExpectedVersion,
  decideAppend,
  planAppends,
  type PlannedAppend,
  type StoredEventLocation,
  type StreamHead,
} from './append-decision.js';
import { EventIdConflictError, EventStoreInputError } from './event-store.errors.js';
import { DEFAULT_EVENT_STORE_SCHEMA } from './event-store-migrations.js';
import { appendedNotificationPayload, eventStoreStatements, type EventStoreStatements, type RecordedEventRow } from './event-store.sql.js';
import type { AllPosition, AppendResult, ExpectedVersion, NewEvent, RecordedEvent, Upcaster } from './event-store.types.js';
import { assertValidCategory, assertValidSchemaName, assertValidStreamId } from './event-validation.js';
import { applyUpcasters } from './upcasting.js';

export interface PostgresEventStoreOptions {
  /** Default 'event_store'. Tests use a schema of their own. */
  schema?: string;
  /** Applied in order to every event read. */
  upcasters?: Upcaster[];
  /**
   * NOTIFY event_store_appended (payload: the schema and the categories written) after appends, so subscriptions wake at once
   * instead of at their next poll. Default true. Appends in the store's own transactions notify
   * right after their commit, coalesced (never more than one NOTIFY in flight per store); appends
   * in a caller's transaction notify as part of its commit, which PostgreSQL serialises with every
   * other notifying commit.
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
  private readonly notifyOnAppend: boolean;
  private notifyInFlight = false;
  /** Categories appended in the store's own transactions and not yet in a NOTIFY sent. */
  private readonly categoriesToNotify = new Set<string>();

  constructor(
    private readonly pool: Pool,
    options: PostgresEventStoreOptions = {},
  ) {
    this.schema = options.schema ?? DEFAULT_EVENT_STORE_SCHEMA;
    assertValidSchemaName(this.schema);
    this.statements = eventStoreStatements(this.schema);
    this.notifyOnAppend = options.notifyOnAppend ?? true;
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
    // Inside a caller's transaction, NOTIFY is sent by append_events and delivered at the caller's
    // commit, the only moment the events become visible.
    if (options.client !== undefined) {
      const payload = this.notifyOnAppend ? appendedNotificationPayload(this.schema, planned.map((append) => append.category)) : null;
      return this.appendWithin(options.client, planned, payload);
    }
    // Without one, each statement is a transaction of its own (append_events is atomic for all the
    // streams it writes), and the NOTIFY follows the commit instead of being part of it: PostgreSQL
    // serialises the commits of notifying transactions, which cost concurrent appenders ~40 %.
    const results = await this.retryingDeadlocks(() => this.appendWithin(this.pool, planned, null));
    const written = planned.filter((_append, index) => !results[index]!.alreadyAppended && results[index]!.lastGlobalPosition !== undefined);
    if (written.length > 0) this.notifyAppended(written.map((append) => append.category));
    return results;
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
    const statement = direction === 'forwards' ? this.statements.readStreamForwards : this.statements.readStreamBackwards;
    const queryable = options.client ?? this.pool;
    const result = await queryable.query<RecordedEventRow>({ ...statement, values: [streamId, fromVersion.toString(), options.maxCount ?? null], rowMode: 'array' });
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
    const results = (await this.pool.query({ text: sql, rowMode: 'array' })) as unknown as QueryResult<RecordedEventRow>[];
    const result = results.at(-1);
    if (result === undefined) throw new Error('readAll: no result from the read (bug)');
    const last = result.rows.at(-1);
    const lastPosition = last === undefined ? after : positionOf(last);
    return { events: result.rows.map((row) => this.toRecordedEvent(row)), lastPosition };
  }

  /**
   * $all after `after` as consecutive pages of readAll, up to what is visible when the last one is
   * read: a page shorter than `maxCount` is the last, and an empty read ends it without a page.
   * Events committing later are for the next call, from the last page's lastPosition. Each page is read
   * while the caller works on the one before (one read ahead at most), so a replay's reading and
   * writing overlap. Every page is a readAll, with its ordering and no-skip guarantee; a page's
   * lastPosition is where the next one starts.
   */
  async *readAllPages(options: ReadAllOptions): AsyncGenerator<ReadAllResult, void, undefined> {
    let next: Promise<ReadAllResult> | undefined = this.readAll(options);
    while (next !== undefined) {
      const page: ReadAllResult = await next;
      if (page.events.length === 0) return;
      next = page.events.length === options.maxCount ? this.readAll({ ...options, after: page.lastPosition }) : undefined;
      // A caller that stops early (or fails) must not leave the read ahead's rejection unhandled.
      next?.catch(() => undefined);
      yield page;
    }
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
    return (await this.streamVersions([streamId], options)).get(streamId)!;
  }

  /** The version of each stream named ('no_stream' for one that does not exist), in one statement. */
  async streamVersions(streamIds: readonly string[], options: { client?: PoolClient } = {}): Promise<Map<string, bigint | 'no_stream'>> {
    streamIds.forEach(assertValidStreamId);
    const heads = await this.readHeads(options.client ?? this.pool, streamIds);
    return new Map(streamIds.map((streamId) => [streamId, actualVersion(heads.get(streamId))]));
  }

  /** Empty appends only check their expected version; the others are written in one call of append_events. */
  private async appendWithin(queryable: Pool | PoolClient, planned: readonly PlannedAppend[], notifyPayload: string | null): Promise<AppendResult[]> {
    const results = new Map<string, AppendResult>();
    const empty = planned.filter((append) => append.events.length === 0);
    const writing = planned.filter((append) => append.events.length > 0);
    if (empty.length > 0) {
      const heads = await this.readHeads(queryable, empty.map((append) => append.streamId));
      for (const append of empty) {
        const actual = actualVersion(heads.get(append.streamId));
        assertExpectedVersion(append.streamId, append.expectedVersion, actual);
        results.set(append.streamId, { streamId: append.streamId, nextExpectedVersion: actual === 'no_stream' ? -1n : actual, alreadyAppended: false });
      }
    }
    if (writing.length > 0) {
      for (const result of await this.writeAppends(queryable, writing, notifyPayload)) results.set(result.streamId, result);
    }
    return planned.map((append) => results.get(append.streamId) as AppendResult);
  }

  /**
   * append_events writes only a clean append: every expected version met, no event id stored yet.
   * Otherwise it writes no event and returns the heads and stored events it found, and
   * decideAppend says what each stream's append is: a repeat (reported, not written), a conflict
   * (thrown), or a clean append, sent again without the repeats. Each round removes at least one
   * stream or throws, so the loop is bounded by the number of streams.
   */
  private async writeAppends(queryable: Pool | PoolClient, writing: readonly PlannedAppend[], notifyPayload: string | null): Promise<AppendResult[]> {
    const done: AppendResult[] = [];
    let pending = writing;
    for (let round = 0; round <= writing.length; round += 1) {
      const rows = await this.callAppendEvents(queryable, pending, notifyPayload);
      if (rows.every((row) => row.row_kind === 'appended')) {
        if (rows.length !== pending.length) throw new Error(`append: wrote ${rows.length} streams, expected ${pending.length} (bug)`);
        return [...done, ...rows.map(appendedResult)];
      }
      const heads = new Map(rows.filter((row) => row.row_kind === 'head').map((row) => [row.stream_id, { version: BigInt(row.stream_version) }]));
      const stored = new Map(rows.filter((row) => row.row_kind === 'stored').map((row) => [row.message_id as string, storedLocation(row)]));
      const decisions = pending.map((append) => decideAppend(append, heads.get(append.streamId), stored));
      const stillPending = decisions.flatMap((decision) => (decision.kind === 'append' ? [decision.append] : []));
      if (stillPending.length === pending.length) throw new Error('append: the database refused an append that decideAppend accepts (bug)');
      done.push(...decisions.flatMap((decision) => (decision.kind === 'already-appended' ? [decision.result] : [])));
      if (stillPending.length === 0) return done;
      pending = stillPending;
    }
    throw new Error('append: no progress deciding the append (bug)');
  }

  private async callAppendEvents(queryable: Pool | PoolClient, appends: readonly PlannedAppend[], notifyPayload: string | null): Promise<AppendEventsRow[]> {
    try {
      return (await queryable.query<AppendEventsRow>({ ...this.statements.appendEvents, values: [...appendEventsParameters(appends), notifyPayload] })).rows;
    } catch (error) {
      throw translateInsertError(error, appends);
    }
  }

  private async readHeads(queryable: Pool | PoolClient, streamIds: readonly string[]): Promise<Map<string, StreamHead>> {
    const result = await queryable.query<{ stream_id: string; version: string }>({ ...this.statements.streamVersions, values: [streamIds] });
    return new Map(result.rows.map((row) => [row.stream_id, { version: BigInt(row.version) }]));
  }

  /**
   * NOTIFY after an append this store committed itself. At most one is in flight; appends that
   * commit meanwhile are covered by one more, sent when it returns (the one in flight may have
   * been sent before they committed), naming every category they wrote. A failed NOTIFY is dropped:
   * subscriptions also poll, so it only delays them by their poll interval.
   */
  private notifyAppended(categories: readonly string[] = []): void {
    if (!this.notifyOnAppend) return;
    for (const category of categories) this.categoriesToNotify.add(category);
    if (this.notifyInFlight || this.categoriesToNotify.size === 0) return;
    this.notifyInFlight = true;
    const payload = appendedNotificationPayload(this.schema, this.categoriesToNotify);
    this.categoriesToNotify.clear();
    this.pool
      .query(this.statements.notifyAppended, [payload])
      .catch(() => undefined)
      .finally(() => {
        this.notifyInFlight = false;
        this.notifyAppended();
      });
  }

  private async retryingDeadlocks<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= OWN_TRANSACTION_ATTEMPTS || !RETRYABLE_SQLSTATES.has(sqlState(error) ?? '')) throw error;
      }
    }
  }

  private toRecordedEvent(row: RecordedEventRow): RecordedEvent {
    const [id, type, schemaVersion, data, metadata, streamId, streamVersion, category, globalPosition, transactionId, recordedAtMs] = row;
    const event: RecordedEvent = {
      id,
      type,
      data,
      metadata,
      schemaVersion,
      streamId,
      streamVersion: BigInt(streamVersion),
      category,
      globalPosition: BigInt(globalPosition),
      transactionId: BigInt(transactionId),
      recordedAt: new Date(Number(recordedAtMs)),
    };
    return this.upcasters.length === 0 ? event : applyUpcasters(event, this.upcasters);
  }
}

/** The row's place in $all, as stored (an upcaster changes data, never the position). */
function positionOf(row: RecordedEventRow): AllPosition {
  const [, , , , , , , , globalPosition, transactionId] = row;
  return { transactionId: BigInt(transactionId), globalPosition: BigInt(globalPosition) };
}

/** A row of append_events: 'appended' per stream written, or 'head' per stream and 'stored' per stored event found. */
interface AppendEventsRow {
  row_kind: 'appended' | 'head' | 'stored';
  stream_id: string;
  stream_version: string;
  first_position: string | null;
  last_position: string | null;
  message_id: string | null;
}

function appendedResult(row: AppendEventsRow): AppendResult {
  return {
    streamId: row.stream_id,
    nextExpectedVersion: BigInt(row.stream_version),
    firstGlobalPosition: BigInt(row.first_position as string),
    lastGlobalPosition: BigInt(row.last_position as string),
    alreadyAppended: false,
  };
}

function storedLocation(row: AppendEventsRow): StoredEventLocation {
  return { id: row.message_id as string, streamId: row.stream_id, streamVersion: BigInt(row.stream_version), globalPosition: BigInt(row.first_position as string) };
}

/** The expected version as append_events reads it: null 'any', -1 'no_stream', -2 'stream_exists', else the version. */
function encodeExpectedVersion(expected: ExpectedVersion): string | null {
  if (expected === 'any') return null;
  if (expected === 'no_stream') return '-1';
  if (expected === 'stream_exists') return '-2';
  return expected.toString();
}

/**
 * append_events' arguments but the NOTIFY payload: the per-stream arrays, the event ids, and the
 * events as one JSON array. Data and metadata were serialised once by validateNewEvent; they are
 * spliced in as they are rather than parsed and serialised again.
 */
function appendEventsParameters(appends: readonly PlannedAppend[]): unknown[] {
  const firstEvents: number[] = [];
  let firstEvent = 0;
  for (const append of appends) {
    firstEvents.push(firstEvent);
    firstEvent += append.events.length;
  }
  const events = appends.flatMap((append, streamIndex) =>
    append.events.map(
      (event) =>
        `{"stream":${streamIndex},"id":"${event.id}","type":${JSON.stringify(event.type)},"schema_version":${event.schemaVersion},` +
        `"data":${event.dataJson},"metadata":${event.metadataJson}}`,
    ),
  );
  return [
    appends.map((append) => append.streamId),
    appends.map((append) => append.category),
    appends.map((append) => encodeExpectedVersion(append.expectedVersion)),
    firstEvents,
    appends.map((append) => append.events.length),
    appends.flatMap((append) => append.events.map((event) => event.id)),
    `[${events.join(',')}]`,
  ];
}

function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/**
 * An event id stored by a transaction that committed after our check (into another stream: ours is
 * locked) surfaces as a unique violation; report it as the conflict it is.
 */
function translateInsertError(error: unknown, appends: readonly PlannedAppend[]): unknown {
  const constraint = typeof error === 'object' && error !== null && 'constraint' in error ? error.constraint : undefined;
  if (sqlState(error) !== '23505' || constraint !== 'messages_message_id_key') return error;
  const detail = typeof error === 'object' && error !== null && 'detail' in error && typeof error.detail === 'string' ? error.detail : '';
  const id = /\(message_id\)=\(([0-9a-f-]+)\)/.exec(detail)?.[1] ?? 'unknown';
  const streamId = appends.find((append) => append.events.some((event) => event.id === id))?.streamId ?? 'unknown';
  return new EventIdConflictError(streamId, [id], 'an event id was stored concurrently by another append', { cause: error });
}

/**
 * What an append expects of the stream's current version: anything, that it has no events yet,
 * that it has at least one, or exactly this version (the last event's stream_version; the first
 * event of a stream is version 0).
 */
export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** A UUID chosen by the writer; appending the same id again is a no-op (idempotency). */
  id: string;
  type: Type;
  /** JSON: plain objects, arrays, strings, finite numbers, booleans, null. No bigint: money travels as a string of minor units. */
  data: Data;
  metadata?: Record<string, unknown>;
  /** Default 1. */
  schemaVersion?: number;
}

/**
 * A place in the ordering of all events ($all): events are ordered by (transactionId,
 * globalPosition). Pass the last one a reader has processed as `after` to continue from there.
 */
export interface AllPosition {
  transactionId: bigint;
  globalPosition: bigint;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  data: Data;
  metadata: Record<string, unknown>;
  schemaVersion: number;
  streamId: string;
  streamVersion: bigint;
  category: string;
  globalPosition: bigint;
  /**
   * The transaction this event is ordered and released by in $all (the appending transaction's
   * id, raised to that of the stream's previous event when higher). `{ transactionId,
   * globalPosition }` of an event is its {@link AllPosition}.
   */
  transactionId: bigint;
  /**
   * When the row was written (the database's clock_timestamp(), migration 0006), not when its
   * transaction began. Not an order: $all order is {@link AllPosition}, and two events of one
   * stream may carry times out of their order when their transactions overlapped.
   */
  recordedAt: Date;
}

export interface AppendResult {
  streamId: string;
  /** The stream's version after this append: pass it as expectedVersion next time. -1n for an empty append to a stream that does not exist. */
  nextExpectedVersion: bigint;
  firstGlobalPosition?: bigint;
  lastGlobalPosition?: bigint;
  /** True when every event of the append was already stored in this stream; nothing was written. */
  alreadyAppended: boolean;
}

/**
 * Rewrites an old shape of an event into the current one on read. Return the event unchanged
 * when it is not the type and schema version this upcaster handles.
 */
export type Upcaster = (event: RecordedEvent) => RecordedEvent;

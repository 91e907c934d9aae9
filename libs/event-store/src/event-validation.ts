import { EventStoreInputError } from './event-store.errors.js';
import type { NewEvent } from './event-store.types.js';

export const MAX_STREAM_ID_LENGTH = 256;
export const MAX_EVENT_TYPE_LENGTH = 200;
/** Bounds one append call, so one request cannot build an unbounded statement. */
export const MAX_EVENTS_PER_APPEND = 10_000;
const MAX_JSON_DEPTH = 64;

const STREAM_ID_PATTERN = /^([A-Za-z][A-Za-z0-9_]*)-(\S+)$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EVENT_TYPE_PATTERN = /^\S+$/;
const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** The part of a stream id before the first '-': 'payment' for 'payment-123'. */
export function categoryOf(streamId: string): string {
  const match = STREAM_ID_PATTERN.exec(streamId);
  if (match === null) throw invalidStreamId(streamId);
  return match[1] as string;
}

function invalidStreamId(streamId: unknown): EventStoreInputError {
  return new EventStoreInputError(
    `stream id ${JSON.stringify(streamId)} is invalid: expected '<category>-<id>' (category a letter then letters, digits or '_'; ` +
      `no whitespace; at most ${MAX_STREAM_ID_LENGTH} characters), e.g. 'payment-7f9c...'`,
  );
}

export function assertValidStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length > MAX_STREAM_ID_LENGTH || !STREAM_ID_PATTERN.test(streamId)) {
    throw invalidStreamId(streamId);
  }
}

export function assertValidCategory(category: unknown): asserts category is string {
  if (typeof category !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(category)) {
    throw new EventStoreInputError(`category ${JSON.stringify(category)} is invalid: a letter then letters, digits or '_'`);
  }
}

export function assertValidSchemaName(schema: string): void {
  if (!SCHEMA_NAME_PATTERN.test(schema)) {
    throw new EventStoreInputError(`schema name ${JSON.stringify(schema)} is invalid: lower-case letters, digits and '_', at most 63 characters`);
  }
}

/** Lower-cases an event id after checking it is a UUID (PostgreSQL stores and returns it lower-case). */
export function normaliseEventId(id: unknown, streamId: string, index: number): string {
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) {
    throw new EventStoreInputError(`event ${index} of stream '${streamId}': id ${JSON.stringify(id)} is not a UUID`);
  }
  return id.toLowerCase();
}

export interface ValidatedEvent {
  id: string;
  type: string;
  schemaVersion: number;
  /** JSON text of data and metadata. */
  dataJson: string;
  metadataJson: string;
}

/** Checks one event and serialises its data and metadata; the error names the stream and event. */
export function validateNewEvent(event: NewEvent, streamId: string, index: number): ValidatedEvent {
  if (typeof event !== 'object' || event === null) {
    throw new EventStoreInputError(`event ${index} of stream '${streamId}' is not an object`);
  }
  const id = normaliseEventId(event.id, streamId, index);
  const where = `event ${index} (${id}) of stream '${streamId}'`;
  if (typeof event.type !== 'string' || event.type.length === 0 || event.type.length > MAX_EVENT_TYPE_LENGTH || !EVENT_TYPE_PATTERN.test(event.type)) {
    throw new EventStoreInputError(`${where}: type ${JSON.stringify(event.type)} must be a non-empty string without whitespace, at most ${MAX_EVENT_TYPE_LENGTH} characters`);
  }
  const schemaVersion = event.schemaVersion ?? 1;
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
    throw new EventStoreInputError(`${where}: schemaVersion ${String(schemaVersion)} must be a positive integer`);
  }
  if (event.data === undefined) throw new EventStoreInputError(`${where}: data is missing (use null or {} for no data)`);
  assertJsonValue(event.data, `${where} data`);
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new EventStoreInputError(`${where}: metadata must be an object`);
  }
  assertJsonValue(metadata, `${where} metadata`);
  return { id, type: event.type, schemaVersion, dataJson: JSON.stringify(event.data), metadataJson: JSON.stringify(metadata) };
}

/**
 * Accepts exactly the values that survive a trip through jsonb unchanged: plain objects, arrays,
 * strings, finite numbers, booleans and null (object properties that are undefined are dropped, as
 * JSON.stringify does). Everything else would be silently altered (NaN becomes null, a Date a
 * string, a Map {}) or crash (bigint, cycles), so it is refused here with the path that holds it.
 */
export function assertJsonValue(value: unknown, where: string): void {
  visitJson(value, where, '$', 0, new Set());
}

function visitJson(value: unknown, where: string, path: string, depth: number, ancestors: Set<object>): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new EventStoreInputError(`${where}: ${path} contains a NUL character, which jsonb cannot store`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new EventStoreInputError(`${where}: ${path} is ${value}, which is not JSON`);
    return;
  }
  if (typeof value === 'bigint') {
    throw new EventStoreInputError(`${where}: ${path} is a bigint; serialise it as a string (money as a string of minor units)`);
  }
  if (typeof value !== 'object') throw new EventStoreInputError(`${where}: ${path} is a ${typeof value}, which is not JSON`);
  if (depth >= MAX_JSON_DEPTH) throw new EventStoreInputError(`${where}: ${path} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (ancestors.has(value)) throw new EventStoreInputError(`${where}: ${path} refers back to itself (circular structure)`);
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (item === undefined) throw new EventStoreInputError(`${where}: ${path}[${index}] is undefined, which JSON turns into null`);
      visitJson(item, where, `${path}[${index}]`, depth + 1, ancestors);
    });
  } else {
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new EventStoreInputError(`${where}: ${path} is a ${kind}, not a plain object (use ISO strings for dates)`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) throw new EventStoreInputError(`${where}: ${path} has a key containing a NUL character`);
      if (item === undefined) continue;
      visitJson(item, where, `${path}.${key}`, depth + 1, ancestors);
    }
  }
  ancestors.delete(value);
}

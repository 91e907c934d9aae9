import { EventIdConflictError, EventStoreInputError, WrongExpectedVersionError } from './event-store.errors.js';
import type { AppendResult, ExpectedVersion, NewEvent } from './event-store.types.js';
import { assertValidStreamId, categoryOf, MAX_EVENTS_PER_APPEND, validateNewEvent, type ValidatedEvent } from './event-validation.js';

/** One stream's part of an append call, checked and serialised, before any I/O. */
export interface PlannedAppend {
  streamId: string;
  category: string;
  expectedVersion: ExpectedVersion;
  events: ValidatedEvent[];
}

/** The head of a stream as read under its row lock. version is -1n when the stream has no events. */
export interface StreamHead {
  version: bigint;
}

/** An event id found already stored when an append was about to write it. */
export interface StoredEventLocation {
  id: string;
  streamId: string;
  streamVersion: bigint;
  globalPosition: bigint;
}

export type AppendDecision =
  | { kind: 'already-appended'; result: AppendResult }
  | { kind: 'append'; append: PlannedAppend };

export function assertValidExpectedVersion(expected: unknown, streamId: string): asserts expected is ExpectedVersion {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected === 'bigint' && expected >= 0n) return;
  throw new EventStoreInputError(
    `stream '${streamId}': expectedVersion ${String(expected)} must be 'any', 'no_stream', 'stream_exists' or a bigint >= 0n`,
  );
}

/** Checks the whole call before anything touches the database; throws EventStoreInputError. */
export function planAppends(appends: readonly { streamId: string; events: readonly NewEvent[]; expectedVersion?: ExpectedVersion }[]): PlannedAppend[] {
  if (!Array.isArray(appends)) throw new EventStoreInputError('appends must be an array');
  const streamIds = new Set<string>();
  const eventIds = new Set<string>();
  let eventCount = 0;
  return appends.map((append) => {
    assertValidStreamId(append.streamId);
    if (streamIds.has(append.streamId)) {
      throw new EventStoreInputError(`stream '${append.streamId}' appears twice in one append; put all its events in one entry`);
    }
    streamIds.add(append.streamId);
    const expectedVersion = append.expectedVersion ?? 'any';
    assertValidExpectedVersion(expectedVersion, append.streamId);
    const newEvents: readonly NewEvent[] = append.events;
    if (!Array.isArray(newEvents)) throw new EventStoreInputError(`stream '${append.streamId}': events must be an array`);
    eventCount += newEvents.length;
    if (eventCount > MAX_EVENTS_PER_APPEND) {
      throw new EventStoreInputError(`one append may carry at most ${MAX_EVENTS_PER_APPEND} events; split the batch`);
    }
    const events = newEvents.map((event: NewEvent, index: number) => {
      const validated = validateNewEvent(event, append.streamId, index);
      if (eventIds.has(validated.id)) throw new EventStoreInputError(`event id ${validated.id} appears twice in one append`);
      eventIds.add(validated.id);
      return validated;
    });
    return { streamId: append.streamId, category: categoryOf(append.streamId), expectedVersion, events };
  });
}

export function actualVersion(head: StreamHead | undefined): bigint | 'no_stream' {
  return head === undefined || head.version < 0n ? 'no_stream' : head.version;
}

export function assertExpectedVersion(streamId: string, expected: ExpectedVersion, actual: bigint | 'no_stream'): void {
  const matches =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 'no_stream') ||
    (expected === 'stream_exists' && actual !== 'no_stream') ||
    (typeof expected === 'bigint' && actual === expected);
  if (!matches) throw new WrongExpectedVersionError(streamId, expected, actual);
}

/**
 * Decides what one stream's append does, given its head (read under lock) and which of its event
 * ids are already stored. Idempotency comes before the version check: a retried append whose
 * events are all in the stream reports what is stored, even though the stream has moved on since.
 */
export function decideAppend(append: PlannedAppend, head: StreamHead | undefined, stored: ReadonlyMap<string, StoredEventLocation>): AppendDecision {
  const found = append.events.map((event) => stored.get(event.id)).filter((location) => location !== undefined);
  if (found.length > 0) return { kind: 'already-appended', result: alreadyAppendedResult(append, found) };
  assertExpectedVersion(append.streamId, append.expectedVersion, actualVersion(head));
  return { kind: 'append', append };
}

function alreadyAppendedResult(append: PlannedAppend, found: readonly StoredEventLocation[]): AppendResult {
  const ids = found.map((location) => location.id);
  if (found.length < append.events.length) {
    throw new EventIdConflictError(append.streamId, ids, `${found.length} of its ${append.events.length} events are already stored, the others are not`);
  }
  if (found.some((location) => location.streamId !== append.streamId)) {
    const elsewhere = found.filter((location) => location.streamId !== append.streamId);
    throw new EventIdConflictError(append.streamId, elsewhere.map((location) => location.id), `events are already stored in stream '${elsewhere[0]?.streamId}'`);
  }
  const versions = found.map((location) => location.streamVersion);
  const positions = found.map((location) => location.globalPosition);
  return {
    streamId: append.streamId,
    nextExpectedVersion: extreme(versions, 'max'),
    firstGlobalPosition: extreme(positions, 'min'),
    lastGlobalPosition: extreme(positions, 'max'),
    alreadyAppended: true,
  };
}

function extreme(values: readonly bigint[], which: 'min' | 'max'): bigint {
  return values.reduce((best, value) => ((which === 'max' ? value > best : value < best) ? value : best));
}

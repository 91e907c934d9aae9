import type { ExpectedVersion } from './event-store.types.js';

function describeExpected(expected: ExpectedVersion): string {
  return typeof expected === 'bigint' ? `version ${expected}` : `'${expected}'`;
}

/** The stream is not at the version the append expected: another writer got there first. Reload and retry. */
export class WrongExpectedVersionError extends Error {
  override name = 'WrongExpectedVersionError';

  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`stream '${streamId}' expected ${describeExpected(expected)} but is at ${typeof actual === 'bigint' ? `version ${actual}` : "'no_stream'"}`);
  }
}

/** Input the store refuses before touching the database (stream id, event id, type, JSON data, read bounds). A programmer error: do not retry. */
export class EventStoreInputError extends Error {
  override name = 'EventStoreInputError';
}

/**
 * Some events of an append are already stored, but not all of them in this stream: it is neither a
 * fresh append nor a repeat of an earlier one. Event ids must be unique across the store.
 */
export class EventIdConflictError extends Error {
  override name = 'EventIdConflictError';

  constructor(
    readonly streamId: string,
    readonly conflictingEventIds: readonly string[],
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`append to stream '${streamId}': ${detail} (event ids ${conflictingEventIds.slice(0, 5).join(', ')}${conflictingEventIds.length > 5 ? ', ...' : ''})`, options);
  }
}

import type { RecordedEvent, Upcaster } from './event-store.types.js';

/**
 * Applies the upcasters in order, each to the output of the one before, so a chain registered as
 * v1->v2, v2->v3 brings a v1 event to v3 in one read.
 */
export function applyUpcasters(event: RecordedEvent, upcasters: readonly Upcaster[]): RecordedEvent {
  let current = event;
  for (const upcast of upcasters) current = upcast(current);
  return current;
}

/**
 * An upcaster for one event type and schema version: `transform` gets the old data (and the whole
 * event) and returns the data of `fromSchemaVersion + 1`. Other events pass through unchanged.
 */
export function defineUpcaster<OldData, NewData>(
  type: string,
  fromSchemaVersion: number,
  transform: (data: OldData, event: RecordedEvent) => NewData,
): Upcaster {
  if (!Number.isSafeInteger(fromSchemaVersion) || fromSchemaVersion < 1) {
    throw new RangeError(`defineUpcaster('${type}'): fromSchemaVersion must be a positive integer`);
  }
  return (event) => {
    if (event.type !== type || event.schemaVersion !== fromSchemaVersion) return event;
    return { ...event, data: transform(event.data as OldData, event), schemaVersion: fromSchemaVersion + 1 };
  };
}

export type { AllPosition, AppendResult, ExpectedVersion, NewEvent, RecordedEvent, Upcaster } from './event-store.types.js';
export { EventIdConflictError, EventStoreInputError, WrongExpectedVersionError } from './event-store.errors.js';
export { allPositionOf, compareAllPositions, formatAllPosition, parseAllPosition, START } from './all-position.js';
export {
  MAX_READ_ALL_COUNT,
  PostgresEventStore,
  type PostgresEventStoreOptions,
  type ReadAllOptions,
  type ReadAllResult,
  type StoredSnapshot,
  type ReadStreamOptions,
  type StreamAppend,
} from './postgres-event-store.js';
export { CatchUpSubscription, type CatchUpSubscriptionOptions, type SubscriptionStatus } from './catch-up-subscription.js';
export { aggregateStream, type AggregatedStream, type AggregateStreamOptions, type SnapshotPolicy } from './aggregate-stream.js';
export { applyUpcasters, defineUpcaster } from './upcasting.js';
export { categoryOf, MAX_EVENTS_PER_APPEND } from './event-validation.js';
export { DEFAULT_EVENT_STORE_SCHEMA, eventStoreMigrations, EVENT_STORE_MIGRATIONS_DIRECTORY } from './event-store-migrations.js';
export { APPENDED_NOTIFICATION_CHANNEL, appendedNotificationPayload, notificationConcerns } from './event-store.sql.js';

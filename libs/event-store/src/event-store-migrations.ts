import { fileURLToPath } from 'node:url';
import type { MigrationSet } from '@clearline/postgres';
import { assertValidSchemaName } from './event-validation.js';

export const DEFAULT_EVENT_STORE_SCHEMA = 'event_store';

/** The directory of the event store's SQL migrations (one DDL source for every schema it is installed into). */
export const EVENT_STORE_MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * The migration set that creates the event store in `schema` (default 'event_store'), for
 * `migrate(pool, [eventStoreMigrations()])`. Each schema is its own owner in schema_migrations, so a
 * test schema has its own migration history.
 */
export function eventStoreMigrations(options: { schema?: string } = {}): MigrationSet {
  const schema = options.schema ?? DEFAULT_EVENT_STORE_SCHEMA;
  assertValidSchemaName(schema);
  return {
    owner: schema === DEFAULT_EVENT_STORE_SCHEMA ? 'event-store' : `event-store:${schema}`,
    directory: EVENT_STORE_MIGRATIONS_DIRECTORY,
    placeholders: { schema },
  };
}

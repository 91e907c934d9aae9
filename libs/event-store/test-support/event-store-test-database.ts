// Gives an integration test file an event store of its own: a fresh PostgreSQL schema (so $all
// holds only that file's events), migrated from the real DDL, dropped again afterwards.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool, migrate } from '@clearline/postgres';
import { eventStoreMigrations } from '../src/event-store-migrations.js';
import { PostgresEventStore, type PostgresEventStoreOptions } from '../src/postgres-event-store.js';

export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';

export interface TestEventStore {
  pool: Pool;
  schema: string;
  store: PostgresEventStore;
  /** Another store over the same schema, with different options (upcasters, notify). */
  storeWith: (options: Omit<PostgresEventStoreOptions, 'schema'>) => PostgresEventStore;
  dispose: () => Promise<void>;
}

export function uniqueSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}

export async function createTestEventStore(options: { maxConnections?: number; applicationName?: string } = {}): Promise<TestEventStore> {
  const pool = createPool({ connectionString: TEST_DATABASE_URL, max: options.maxConnections ?? 10, applicationName: options.applicationName ?? 'event-store-int-spec' });
  const schema = `event_store_test_${uniqueSuffix()}`;
  const migrations = eventStoreMigrations({ schema });
  await migrate(pool, [migrations]);
  return {
    pool,
    schema,
    store: new PostgresEventStore(pool, { schema }),
    storeWith: (storeOptions) => new PostgresEventStore(pool, { ...storeOptions, schema }),
    dispose: async () => {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.query('delete from public.schema_migrations where owner = $1', [migrations.owner]);
      await pool.end();
    },
  };
}

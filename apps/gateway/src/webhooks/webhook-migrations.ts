import type { MigrationSet } from '@clearline/postgres';
import { fileURLToPath } from 'node:url';

/**
 * The gateway's SQL (apps/gateway/migrations) for `migrate(pool, [gatewayMigrations()])`, found from
 * this module's place: src/webhooks under Jest, dist/webhooks when built. Each schema is its own
 * owner in schema_migrations, so a test schema has its own history; tools/migrate.mjs names the same.
 */
export function gatewayMigrations(schema = 'gateway'): MigrationSet {
  return {
    owner: schema === 'gateway' ? 'gateway' : `gateway:${schema}`,
    directory: fileURLToPath(new URL('../../migrations', import.meta.url)),
    placeholders: { schema },
  };
}

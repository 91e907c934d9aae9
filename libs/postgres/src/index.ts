export { createPool, databaseUrlFromEnvironment, DEFAULT_DATABASE_URL, type CreatePoolOptions } from './create-pool.js';
export { withTransaction, type IsolationLevel, type TransactionOptions } from './with-transaction.js';
export { migrate, type AppliedMigration, type MigrateOptions, type MigrationSet } from './migrate.js';
export {
  MigrationError,
  MIGRATION_FILE_PATTERN,
  migrationChecksum,
  planMigrationFiles,
  quoteIdentifier,
  substitutePlaceholders,
  type MigrationFile,
} from './migration-files.js';
export type { Pool, PoolClient } from 'pg';
export { preparedStatement, type PreparedStatement } from './prepared-statement.js';

// Applies every versioned SQL migration of the platform to DATABASE_URL (default: the local
// `clearline` database). Runs on the built libraries: `npm run db:migrate` builds first.
import { eventStoreMigrations } from '@clearline/event-store';
import { messagingMigrations } from '@clearline/messaging';
import { createPool, migrate } from '@clearline/postgres';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every owner of SQL schema in the platform, in the order they must be applied. */
export const PLATFORM_MIGRATIONS = [
  eventStoreMigrations(),
  messagingMigrations,
  { owner: 'analytics', directory: join(root, 'apps/analytics/migrations') },
  { owner: 'gateway', directory: join(root, 'apps/gateway/migrations'), placeholders: { schema: 'gateway' } },
  { owner: 'ledger', directory: join(root, 'apps/ledger/migrations') },
  { owner: 'payments', directory: join(root, 'apps/payments/migrations') },
  { owner: 'risk', directory: join(root, 'apps/risk/migrations') },
];

const pool = createPool({ applicationName: 'clearline-migrate', max: 2 });
try {
  const applied = await migrate(pool, PLATFORM_MIGRATIONS, { log: (line) => console.log(`  ${line}`) });
  const database = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearline').pathname.slice(1);
  console.log(`migrations: ${applied.length} applied to ${database}`);
} catch (error) {
  console.error(`migrations failed: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  await pool.end();
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { MigrationError, planMigrationFiles, substitutePlaceholders, type MigrationFile } from './migration-files.js';
import { withTransaction } from './with-transaction.js';

export interface MigrationSet {
  /** Who owns these migrations, e.g. 'event-store' or 'ledger'; versions are numbered per owner. */
  owner: string;
  /** Directory holding `NNNN_description.sql` files. */
  directory: string;
  /** Values for psql-style identifier placeholders (`:"schema"`) used in the files. */
  placeholders?: Readonly<Record<string, string>>;
}

export interface AppliedMigration {
  owner: string;
  version: number;
  name: string;
  checksum: string;
  durationMs: number;
}

export interface MigrateOptions {
  log?: (line: string) => void;
}

/** One key for every migration run against this database, so runs from many processes queue up. */
const MIGRATION_LOCK_KEY = 7_207_617_353_106_412n;

const CREATE_MIGRATIONS_TABLE = `
  create table public.schema_migrations (
    owner text not null,
    version int not null,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now(),
    primary key (owner, version)
  )`;

interface RecordedMigration {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Applies every migration not yet recorded in `public.schema_migrations`, set by set in the order
 * given and file by file in version order, each file in its own transaction together with its
 * record. All runs hold the same transaction-scoped advisory lock, so concurrent runs (several
 * replicas starting at once) apply each file exactly once. An applied file whose text changed, or
 * a recorded migration whose file is gone, is a hard error: the database would no longer match the
 * code that describes it. Returns what this run applied.
 */
export async function migrate(pool: Pool, migrationSets: readonly MigrationSet[], options: MigrateOptions = {}): Promise<AppliedMigration[]> {
  const log = options.log ?? (() => undefined);
  assertDistinctOwners(migrationSets);
  // Read and check every file before touching the database.
  const plans = await Promise.all(migrationSets.map(async (set) => ({ set, files: await loadMigrationFiles(set) })));
  const applied: AppliedMigration[] = [];
  for (const { set, files } of plans) {
    await verifyRecorded(pool, set.owner, files);
    for (const file of files) {
      const result = await applyIfPending(pool, set, file);
      if (result === undefined) continue;
      applied.push(result);
      log(`migrate: applied ${set.owner} ${file.name} in ${result.durationMs} ms`);
    }
  }
  if (applied.length === 0) log('migrate: database is up to date');
  return applied;
}

function assertDistinctOwners(migrationSets: readonly MigrationSet[]): void {
  const owners = new Set<string>();
  for (const set of migrationSets) {
    if (set.owner.trim() === '') throw new MigrationError('migrate: a migration set has an empty owner');
    if (owners.has(set.owner)) throw new MigrationError(`migrate: owner '${set.owner}' is listed twice`);
    owners.add(set.owner);
  }
}

async function loadMigrationFiles(set: MigrationSet): Promise<MigrationFile[]> {
  const names = await readdir(set.directory);
  const files = await Promise.all(
    names.filter((name) => name.endsWith('.sql')).map(async (name) => ({ name, sql: await readFile(join(set.directory, name), 'utf8') })),
  );
  const migrations = planMigrationFiles(set.owner, files);
  // Substitute once up front so a missing placeholder fails before anything is applied.
  for (const migration of migrations) substitutePlaceholders(migration.sql, set.placeholders ?? {}, migration.name);
  return migrations;
}

async function lockAndReadRecorded(client: PoolClient, owner: string): Promise<Map<number, RecordedMigration>> {
  await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  const exists = await client.query<{ exists: boolean }>(`select to_regclass('public.schema_migrations') is not null as exists`);
  if (exists.rows[0]?.exists !== true) await client.query(CREATE_MIGRATIONS_TABLE);
  const result = await client.query<RecordedMigration>(
    'select version, name, checksum from public.schema_migrations where owner = $1 order by version',
    [owner],
  );
  return new Map(result.rows.map((row) => [row.version, row]));
}

async function verifyRecorded(pool: Pool, owner: string, files: readonly MigrationFile[]): Promise<void> {
  const recorded = await withTransaction(pool, (client) => lockAndReadRecorded(client, owner));
  const byVersion = new Map(files.map((file) => [file.version, file]));
  for (const row of recorded.values()) {
    const file = byVersion.get(row.version);
    if (file === undefined) {
      throw new MigrationError(`migrate: '${owner}' migration ${row.version} (${row.name}) is recorded as applied but its file is missing`);
    }
    assertSameChecksum(owner, file, row);
  }
}

function assertSameChecksum(owner: string, file: MigrationFile, row: RecordedMigration): void {
  if (row.checksum !== file.checksum) {
    throw new MigrationError(
      `migrate: '${owner}' migration ${file.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… recorded, ` +
        `${file.checksum.slice(0, 12)}… on disk); add a new migration instead of editing an applied one`,
    );
  }
}

async function applyIfPending(pool: Pool, set: MigrationSet, file: MigrationFile): Promise<AppliedMigration | undefined> {
  return withTransaction(pool, async (client) => {
    const recorded = await lockAndReadRecorded(client, set.owner);
    const existing = recorded.get(file.version);
    if (existing !== undefined) {
      // Another run applied it while this one waited for the lock.
      assertSameChecksum(set.owner, file, existing);
      return undefined;
    }
    const started = performance.now();
    const sql = set.placeholders === undefined ? file.sql : substitutePlaceholders(file.sql, set.placeholders, file.name);
    try {
      await client.query(sql);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new MigrationError(`migrate: '${set.owner}' migration ${file.name} failed: ${reason}`, { cause: error });
    }
    await client.query('insert into public.schema_migrations (owner, version, name, checksum) values ($1, $2, $3, $4)', [
      set.owner,
      file.version,
      file.name,
      file.checksum,
    ]);
    const durationMs = Math.round(performance.now() - started);
    return { owner: set.owner, version: file.version, name: file.name, checksum: file.checksum, durationMs };
  });
}

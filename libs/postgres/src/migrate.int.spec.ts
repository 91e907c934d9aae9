// Proves migrate() against a real PostgreSQL: files apply once each, in version order, each in its
// own transaction with its record; reruns are no-ops; an edited or vanished applied file is a hard
// error; a failing file leaves nothing behind; concurrent runs apply every file exactly once.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createPool } from './create-pool.js';
import { migrate, type MigrationSet } from './migrate.js';
import { MigrationError } from './migration-files.js';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';

let pool: Pool;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  pool = createPool({ connectionString: databaseUrl, max: 8, applicationName: 'postgres-migrate-int-spec' });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await pool.end();
});

/** A throw-away owner with its own directory and schema, removed after the test. */
async function scratchSet(): Promise<{ set: MigrationSet; schema: string; write: (name: string, sql: string) => Promise<void> }> {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 12);
  const schema = `migrate_test_${suffix}`;
  const directory = await mkdtemp(join(tmpdir(), 'clearline-migrate-'));
  const set: MigrationSet = { owner: `test-${suffix}`, directory };
  cleanups.push(async () => {
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.query('delete from public.schema_migrations where owner = $1', [set.owner]);
    await rm(directory, { recursive: true, force: true });
  });
  return { set, schema, write: (name, sql) => writeFile(join(directory, name), sql) };
}

async function recordedVersions(owner: string): Promise<number[]> {
  const result = await pool.query<{ version: number }>('select version from public.schema_migrations where owner = $1 order by version', [owner]);
  return result.rows.map((row) => row.version);
}

describe('migrate', () => {
  it('applies pending files once, in version order, and a rerun applies nothing', async () => {
    const { set, schema, write } = await scratchSet();
    // 0002 and 0010 only work if 0001 ran first; the log table records the order they ran in.
    await write('0010_third.sql', `insert into ${schema}.log (step) values ('0010');`);
    await write('0001_first.sql', `create schema ${schema}; create table ${schema}.log (position serial, step text);`);
    await write('0002_second.sql', `insert into ${schema}.log (step) values ('0002');`);

    const lines: string[] = [];
    const first = await migrate(pool, [set], { log: (line) => lines.push(line) });
    expect(first.map((migration) => migration.name)).toEqual(['0001_first.sql', '0002_second.sql', '0010_third.sql']);
    expect(lines).toHaveLength(3);

    const log = await pool.query<{ step: string }>(`select step from ${schema}.log order by position`);
    expect(log.rows.map((row) => row.step)).toEqual(['0002', '0010']);
    expect(await recordedVersions(set.owner)).toEqual([1, 2, 10]);

    expect(await migrate(pool, [set])).toEqual([]);
    const again = await pool.query(`select count(*)::int as count from ${schema}.log`);
    expect(again.rows[0].count).toBe(2);
  });

  it('applies only the file added since the last run', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', `create schema ${schema};`);
    await migrate(pool, [set]);
    await write('0002_table.sql', `create table ${schema}.accounts (id text primary key);`);
    const applied = await migrate(pool, [set]);
    expect(applied.map((migration) => migration.version)).toEqual([2]);
  });

  it('refuses to run when an applied file was edited, and applies nothing new', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', `create schema ${schema};`);
    await migrate(pool, [set]);
    await write('0001_schema.sql', `create schema ${schema}; -- edited`);
    await write('0002_table.sql', `create table ${schema}.accounts (id text primary key);`);
    await expect(migrate(pool, [set])).rejects.toThrow(MigrationError);
    await expect(migrate(pool, [set])).rejects.toThrow(/was changed after it was applied/);
    expect(await recordedVersions(set.owner)).toEqual([1]);
  });

  it('refuses to run when an applied file has disappeared', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', `create schema ${schema};`);
    await migrate(pool, [set]);
    await unlink(join(set.directory, '0001_schema.sql'));
    await expect(migrate(pool, [set])).rejects.toThrow(/recorded as applied but its file is missing/);
  });

  it('rolls back a failing file completely and keeps the ones before it', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', `create schema ${schema};`);
    await write('0002_broken.sql', `create table ${schema}.half (id int); select * from no_such_table;`);
    await write('0003_never.sql', `create table ${schema}.never (id int);`);
    await expect(migrate(pool, [set])).rejects.toThrow(/0002_broken.sql failed: relation "no_such_table" does not exist/);
    expect(await recordedVersions(set.owner)).toEqual([1]);
    const tables = await pool.query(`select table_name from information_schema.tables where table_schema = $1`, [schema]);
    expect(tables.rows).toEqual([]);
  });

  it('substitutes placeholders given with the set', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', 'create schema :"schema"; create table :"schema".things (id int);');
    await migrate(pool, [{ ...set, placeholders: { schema } }]);
    const tables = await pool.query(`select table_name from information_schema.tables where table_schema = $1`, [schema]);
    expect(tables.rows).toEqual([{ table_name: 'things' }]);
  });

  it('applies every file exactly once when several runs start together', async () => {
    const { set, schema, write } = await scratchSet();
    await write('0001_schema.sql', `create schema ${schema}; create table ${schema}.runs (id serial);`);
    for (let version = 2; version <= 6; version += 1) {
      await write(`000${version}_step.sql`, `insert into ${schema}.runs default values;`);
    }
    const runs = await Promise.all(Array.from({ length: 5 }, () => migrate(pool, [set])));
    expect(runs.flat().map((migration) => migration.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const count = await pool.query(`select count(*)::int as count from ${schema}.runs`);
    expect(count.rows[0].count).toBe(5);
  });

  it('refuses the same owner twice in one call', async () => {
    const { set } = await scratchSet();
    await expect(migrate(pool, [set, set])).rejects.toThrow(/listed twice/);
  });
});

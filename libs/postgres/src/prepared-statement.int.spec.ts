// Proves prepared statements against a real PostgreSQL: parsed once per connection and reused, with
// fresh values at every call, and still correct after the table under them is altered.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from './create-pool.js';
import { preparedStatement } from './prepared-statement.js';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const table = `prepared_statement_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

let pool: Pool;

beforeAll(async () => {
  pool = createPool({ connectionString: databaseUrl, max: 1 });
  await pool.query(`create table public.${table} (id int primary key, label text not null)`);
  await pool.query(`insert into public.${table} select n, 'label ' || n from generate_series(1, 20) n`);
});

afterAll(async () => {
  await pool.query(`drop table if exists public.${table}`);
  await pool.end();
});

describe('preparedStatement', () => {
  it('is prepared once on a connection and answers each call with its own values', async () => {
    const byId = preparedStatement(`select id, label from public.${table} where id = $1`);
    const client = await pool.connect();
    try {
      for (let id = 1; id <= 10; id += 1) {
        const { rows } = await client.query({ ...byId, values: [id] });
        expect(rows).toEqual([{ id, label: `label ${id}` }]);
      }
      const prepared = await client.query<{ count: number }>('select count(*)::int as count from pg_prepared_statements where name = $1', [byId.name]);
      expect(prepared.rows[0]?.count).toBe(1);
    } finally {
      client.release();
    }
  });

  it('keeps working after an index and a column are added to its table', async () => {
    const byLabel = preparedStatement(`select id from public.${table} where label = $1`);
    expect((await pool.query({ ...byLabel, values: ['label 3'] })).rows).toEqual([{ id: 3 }]);
    await pool.query(`create index on public.${table} (label)`);
    await pool.query(`alter table public.${table} add column note text`);
    expect((await pool.query({ ...byLabel, values: ['label 4'] })).rows).toEqual([{ id: 4 }]);
  });
});

// Proves withTransaction against a real PostgreSQL: work commits on success, rolls back on a
// throw, runs at the requested isolation level, and the connection always returns to the pool.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createPool } from './create-pool.js';
import { withTransaction } from './with-transaction.js';

const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const table = `with_transaction_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

let pool: Pool;

beforeAll(async () => {
  pool = createPool({ connectionString: databaseUrl, max: 2 });
  await pool.query(`create table public.${table} (id text primary key)`);
});

afterAll(async () => {
  await pool.query(`drop table if exists public.${table}`);
  await pool.end();
});

async function exists(id: string): Promise<boolean> {
  const result = await pool.query(`select 1 from public.${table} where id = $1`, [id]);
  return result.rowCount === 1;
}

describe('withTransaction', () => {
  it('commits the work and returns its result', async () => {
    const id = randomUUID();
    const result = await withTransaction(pool, async (client) => {
      await client.query(`insert into public.${table} (id) values ($1)`, [id]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await exists(id)).toBe(true);
  });

  it('rolls back when the work throws and rethrows the same error', async () => {
    const id = randomUUID();
    const failure = new Error('domain says no');
    await expect(
      withTransaction(pool, async (client) => {
        await client.query(`insert into public.${table} (id) values ($1)`, [id]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await exists(id)).toBe(false);
  });

  it('runs at the requested isolation level', async () => {
    const level = await withTransaction(
      pool,
      async (client) => (await client.query<{ transaction_isolation: string }>('show transaction_isolation')).rows[0]?.transaction_isolation,
      { isolation: 'serializable', readOnly: true },
    );
    expect(level).toBe('serializable');
  });

  it('returns the connection to the pool after successes and failures alike', async () => {
    for (let round = 0; round < 10; round += 1) {
      await withTransaction(pool, async () => undefined);
      await withTransaction(pool, async () => {
        throw new Error('fail');
      }).catch(() => undefined);
    }
    // max is 2: a leaked connection would make the pool run dry long before 20 rounds.
    expect(pool.waitingCount).toBe(0);
    expect(pool.totalCount).toBeLessThanOrEqual(2);
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  it('destroys a connection whose session died instead of pooling it', async () => {
    await expect(
      withTransaction(pool, async (client) => {
        await client.query('select pg_terminate_backend(pg_backend_pid())');
      }),
    ).rejects.toThrow();
    expect(await withTransaction(pool, async (client) => (await client.query('select 1 as one')).rows[0].one)).toBe(1);
  });
});

import type { PoolClient } from 'pg';

/**
 * Set-based writes for the batched projections: one statement per table and batch, whatever the
 * batch size, with the rows passed as one array per column (`unnest`), so PostgreSQL plans once and
 * the round trips do not grow with the events.
 */

export interface ColumnSpec {
  name: string;
  /** The array's SQL type, e.g. 'text[]', 'numeric[]', 'timestamptz[]'. */
  arrayType: string;
}

/** The columns as parallel arrays, in the order of `columns`. */
function columnArrays(columns: readonly ColumnSpec[], rows: readonly unknown[][]): unknown[][] {
  return columns.map((_, index) => rows.map((row) => row[index]));
}

function unnestSelect(columns: readonly ColumnSpec[]): string {
  return `select * from unnest(${columns.map((column, index) => `$${index + 1}::${column.arrayType}`).join(', ')})`;
}

/** Inserts or replaces whole rows by key: the projection folded the row's complete new state in memory. */
export async function upsertRows(client: PoolClient, table: string, key: readonly string[], columns: readonly ColumnSpec[], rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((column) => column.name);
  const updates = names.filter((name) => !key.includes(name)).map((name) => `${name} = excluded.${name}`);
  await client.query(
    `insert into ${table} (${names.join(', ')}) ${unnestSelect(columns)}
     on conflict (${key.join(', ')}) do update set ${updates.join(', ')}`,
    columnArrays(columns, rows),
  );
}

/**
 * Adds counters to rows by key (creating missing rows): `counters` are summed into the stored values.
 * Keys must be unique within `rows` (the projection sums per key first), as ON CONFLICT DO UPDATE
 * cannot touch one row twice in a statement.
 */
export async function addToCounters(client: PoolClient, table: string, key: readonly string[], columns: readonly ColumnSpec[], rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const names = columns.map((column) => column.name);
  const updates = names.filter((name) => !key.includes(name)).map((name) => `${name} = stored.${name} + excluded.${name}`);
  await client.query(
    `insert into ${table} as stored (${names.join(', ')}) ${unnestSelect(columns)}
     on conflict (${key.join(', ')}) do update set ${updates.join(', ')}`,
    columnArrays(columns, rows),
  );
}

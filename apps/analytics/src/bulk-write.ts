import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { WriteMode } from './read-model-fold.js';

/**
 * Set-based writes for the batched projections: one statement per table and batch, whatever the
 * batch size, so the round trips do not grow with the events. Merges (the live projection) pass the
 * rows as one array per column (`unnest`), so PostgreSQL plans once; inserts into a table that holds
 * none of the rows (a rebuild's fresh shadow) stream them with COPY.
 */

export interface ColumnSpec {
  name: string;
  /** The array's SQL type, e.g. 'text[]', 'numeric[]', 'timestamptz[]'. */
  arrayType: string;
}

/**
 * The columns as parallel arrays, in the order of `columns`, each as its array literal: node-postgres
 * would serialise them too, element by element through its generic value preparation, which cost a
 * rebuild more CPU than its projections. Built column by column straight from the rows.
 */
export function columnArrays(columns: readonly ColumnSpec[], rows: readonly unknown[][]): string[] {
  const literals: string[] = [];
  const elements = new Array<string>(rows.length);
  for (let column = 0; column < columns.length; column += 1) {
    for (let index = 0; index < rows.length; index += 1) elements[index] = elementLiteral((rows[index] as unknown[])[column]);
    literals.push(`{${elements.join(',')}}`);
  }
  return literals;
}

const NEEDS_ESCAPE = /["\\]/;

/**
 * PostgreSQL's text form of a one-dimensional array: NULL for null or undefined, every other element
 * quoted (quotes and backslashes escaped). Dates as ISO 8601 UTC (the same instant node-postgres
 * sends), arrays as their own literal (cast back with `::text[]`), other objects as JSON text (jsonb).
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index += 1) {
    if (index > 0) literal += ',';
    literal += elementLiteral(values[index]);
  }
  return `${literal}}`;
}

function elementLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = elementText(value);
  return `"${NEEDS_ESCAPE.test(text) ? text.replaceAll('\\', '\\\\').replaceAll('"', '\\"') : text}"`;
}

function elementText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}

function unnestSelect(columns: readonly ColumnSpec[]): string {
  return `select * from unnest(${columns.map((column, index) => `$${index + 1}::${column.arrayType}`).join(', ')})`;
}

/** Whole rows by key: inserted into a table that holds none of their keys ('insert'), else upserted. */
export async function writeRows(client: PoolClient, mode: WriteMode, table: string, key: readonly string[], columns: readonly ColumnSpec[], rows: readonly unknown[][]): Promise<void> {
  await (mode === 'insert' ? insertRows(client, table, columns, rows) : upsertRows(client, table, key, columns, rows));
}

/** Counters by key: inserted as they are into a table that holds none of their keys ('insert'), else added to the stored ones. */
export async function writeCounters(client: PoolClient, mode: WriteMode, table: string, key: readonly string[], columns: readonly ColumnSpec[], rows: readonly unknown[][]): Promise<void> {
  await (mode === 'insert' ? insertRows(client, table, columns, rows) : addToCounters(client, table, key, columns, rows));
}

/** Rows of COPY text sent per chunk: large enough to stream well, small enough not to hold a table's text at once. */
const COPY_ROWS_PER_CHUNK = 2_000;
const COPY_NEEDS_ESCAPE = /[\\\t\n\r]/;

/**
 * Inserts rows the table holds none of (a rebuild's fresh shadow table): no conflict to look for, so
 * they are streamed with COPY, which PostgreSQL parses row by row into the table (no array literals
 * to parse and unnest), in chunks built while the ones before are sent. Each value goes in as the
 * column type's text input, the same text the array literals carry.
 */
export async function insertRows(client: PoolClient, table: string, columns: readonly ColumnSpec[], rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const copy = client.query(copyFrom(`copy ${table} (${columns.map((column) => column.name).join(', ')}) from stdin`));
  await pipeline(Readable.from(copyChunks(rows, columns.length)), copy);
}

function* copyChunks(rows: readonly unknown[][], width: number): Generator<string> {
  const lines = new Array<string>(Math.min(COPY_ROWS_PER_CHUNK, rows.length));
  const fields = new Array<string>(width);
  let held = 0;
  for (const row of rows) {
    for (let column = 0; column < width; column += 1) fields[column] = copyField(row[column]);
    lines[held] = fields.join('\t');
    held += 1;
    if (held === lines.length) {
      yield `${lines.join('\n')}\n`;
      held = 0;
    }
  }
  if (held > 0) yield `${lines.slice(0, held).join('\n')}\n`;
}

/** A value in COPY's text format: \N for null or undefined, else its text with backslash, tab and line breaks escaped. */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = elementText(value);
  return COPY_NEEDS_ESCAPE.test(text) ? text.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n').replaceAll('\r', '\\r') : text;
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

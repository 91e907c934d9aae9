// Proves the read models' bulk writes on real PostgreSQL: rows inserted with COPY into an empty table
// (a rebuild's shadow) and rows upserted from array literals (the live projection) store exactly the
// same values, whatever the text holds (tabs, line breaks, backslashes, quotes, braces, commas, the
// word NULL, non-ASCII), nulls, JSON, numbers beyond 2^63 and times to the microsecond; an array
// column given its literal (as the ledger's transfers give their legs) reads back element for
// element; COPY streams tables larger than one chunk and fails as a whole on a refused row.
import { createPool, type Pool } from '@clearline/postgres';
import { randomUUID } from 'node:crypto';
import { arrayLiteral, insertRows, upsertRows, type ColumnSpec } from './bulk-write.js';

const SCHEMA = `bulk_write_it_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
const COLUMNS: ColumnSpec[] = [
  { name: 'id', arrayType: 'integer[]' },
  { name: 'label', arrayType: 'text[]' },
  { name: 'tags', arrayType: 'text[]' },
  { name: 'document', arrayType: 'jsonb[]' },
  { name: 'amount_minor', arrayType: 'numeric[]' },
  { name: 'at', arrayType: 'timestamptz[]' },
  { name: 'flag', arrayType: 'boolean[]' },
];
const AWKWARD_TEXTS = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', 'dou"ble', "sin'gle", '{braces}', 'a,b', 'NULL', '\\N', ' padded ', 'Grüße 東京', ''];

let pool: Pool;

/** Row i with awkward values in every column; every seventh has nulls. */
function rowAt(index: number): unknown[] {
  const text = AWKWARD_TEXTS[index % AWKWARD_TEXTS.length]!;
  if (index % 7 === 6) return [index, null, null, null, null, null, null];
  return [
    index,
    `${text}#${index}`,
    arrayLiteral([text, `leg "${index}" \\ ${index}`, 'NULL']),
    { text, nested: { index, list: [text, null] } },
    (10n ** 30n + BigInt(index)).toString(),
    `2026-11-27T12:00:00.${String(index % 1_000_000).padStart(6, '0')}Z`,
    index % 2 === 0,
  ];
}

async function createTable(name: string): Promise<string> {
  const table = `${SCHEMA}.${name}`;
  await pool.query(`create table ${table} (id integer primary key, label text, tags text[], document jsonb, amount_minor numeric(38, 0), at timestamptz, flag boolean)`);
  return table;
}

async function contents(table: string): Promise<unknown[]> {
  const { rows } = await pool.query(`select id, label, tags, document, amount_minor::text, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at, flag from ${table} order by id`);
  return rows;
}

beforeAll(async () => {
  pool = createPool({ max: 2, applicationName: 'bulk-write-it' });
  await pool.query(`create schema ${SCHEMA}`);
});

afterAll(async () => {
  await pool?.query(`drop schema if exists ${SCHEMA} cascade`);
  await pool?.end();
});

describe('insertRows (COPY) and upsertRows (array literals)', () => {
  it('store the same values, awkward text, nulls, arrays, JSON, big numbers and microseconds included', async () => {
    const rows = Array.from({ length: 40 }, (_, index) => rowAt(index));
    const copied = await createTable('copied');
    const upserted = await createTable('upserted');
    // The generic upsert takes no array column (the ledger's transfers cast theirs in their own statement).
    const scalarColumns = COLUMNS.filter((column) => column.name !== 'tags');
    const client = await pool.connect();
    try {
      await insertRows(client, copied, COLUMNS, rows);
      await upsertRows(client, upserted, ['id'], scalarColumns, rows.map((row) => row.filter((_, index) => COLUMNS[index]!.name !== 'tags')));
    } finally {
      client.release();
    }
    const stored = await contents(copied);
    const withoutTags = (table: unknown[]): unknown[] => table.map((row) => ({ ...(row as object), tags: undefined }));
    expect(withoutTags(stored)).toEqual(withoutTags(await contents(upserted)));
    expect(stored[3]).toEqual({
      id: 3, label: 'back\\slash#3', tags: ['back\\slash', 'leg "3" \\ 3', 'NULL'], document: { text: 'back\\slash', nested: { index: 3, list: ['back\\slash', null] } },
      amount_minor: '1000000000000000000000000000003', at: '2026-11-27T12:00:00.000003Z', flag: false,
    });
    expect(stored[1]).toMatchObject({ label: 'line\nbreak#1', tags: ['line\nbreak', 'leg "1" \\ 1', 'NULL'] });
    expect(stored[6]).toEqual({ id: 6, label: null, tags: null, document: null, amount_minor: null, at: null, flag: null });
    // The string 'NULL' and an empty string stay strings.
    expect(stored[8]).toMatchObject({ label: 'NULL#8' });
    expect(stored[12]).toMatchObject({ label: '#12', tags: ['', 'leg "12" \\ 12', 'NULL'] });
  });

  it('streams a table larger than one chunk of COPY text, and writes nothing for no rows', async () => {
    const table = await createTable('large');
    const rows = Array.from({ length: 4_500 }, (_, index) => rowAt(index));
    const client = await pool.connect();
    try {
      await insertRows(client, table, COLUMNS, []);
      await insertRows(client, table, COLUMNS, rows);
    } finally {
      client.release();
    }
    const { rows: [summary] } = await pool.query(`select count(*)::int as count, min(id) as first, max(id) as last, count(label)::int as labelled from ${table}`);
    expect(summary).toEqual({ count: 4_500, first: 0, last: 4_499, labelled: rows.filter((row) => row[1] !== null).length });
  });

  it('fails as a whole on a row the table refuses, and the connection stays usable', async () => {
    const table = await createTable('refusing');
    const client = await pool.connect();
    try {
      await client.query('begin');
      await expect(insertRows(client, table, COLUMNS, [rowAt(0), rowAt(0)])).rejects.toThrow(/duplicate key/);
      await client.query('rollback');
      await insertRows(client, table, COLUMNS, [rowAt(1)]);
    } finally {
      client.release();
    }
    expect((await contents(table)).map((row) => (row as { id: number }).id)).toEqual([1]);
  });
});

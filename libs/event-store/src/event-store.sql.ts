import { preparedStatement, quoteIdentifier } from '@clearline/postgres';
import type { AllPosition } from './event-store.types.js';

/** The channel appends notify on commit (named again in migration 0004); see appendedNotificationPayload. */
export const APPENDED_NOTIFICATION_CHANNEL = 'event_store_appended';

/** Past this the categories are not named and the payload is the bare schema (NOTIFY allows < 8,000 bytes). */
const MAX_NAMED_CATEGORIES_LENGTH = 1_000;

/**
 * NOTIFY's payload after an append: the schema, then the categories written, `ledger:account,hold`.
 * A reader of some categories wakes only for its own: with every relay and projection woken by every
 * append in the database, reads that find nothing new were half of PostgreSQL's statements under load.
 * A bare schema (a writer from before categories were named, or too many to name) wakes every reader.
 */
export function appendedNotificationPayload(schema: string, categories: Iterable<string>): string {
  const named = [...new Set(categories)].sort().join(',');
  return named === '' || named.length > MAX_NAMED_CATEGORIES_LENGTH ? schema : `${schema}:${named}`;
}

/** Whether a NOTIFY payload may announce events for a reader of `schema` and `categories` (all when undefined). */
export function notificationConcerns(payload: string, schema: string, categories: readonly string[] | undefined): boolean {
  if (payload === schema) return true;
  if (!payload.startsWith(`${schema}:`)) return false;
  if (categories === undefined) return true;
  const appended = payload.slice(schema.length + 1).split(',');
  return categories.some((category) => appended.includes(category));
}

/**
 * recorded_at travels as whole epoch milliseconds (floored, exactly what node-postgres' timestamptz
 * parser kept of the microseconds): parsing the timestamp text was a third of the cost of reading $all.
 */
const RECORDED_COLUMNS = `message_id, message_type, schema_version, data, metadata, stream_id, stream_version, category,
  global_position, transaction_id, floor(extract(epoch from recorded_at) * 1000)::int8 as recorded_at_ms`;

/**
 * Every statement the store runs, for one schema. Kept together so the locking and ordering rules
 * they rely on can be read in one place.
 */
export function eventStoreStatements(schema: string) {
  const s = quoteIdentifier(schema);
  // The horizon below which $all is final: every transaction with a lower id has ended (committed
  // or rolled back), and no transaction can start with a lower id. Evaluated once per statement,
  // from the same snapshot the statement reads rows with.
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())';
  return {
    // Locking, idempotency, the expected-version check, the insert and NOTIFY: see migration 0004.
    // The fixed statements are prepared (see preparedStatement): parsed and planned once per connection.
    appendEvents: preparedStatement(`select row_kind, stream_id, stream_version, first_position, last_position, message_id
      from ${s}.append_events($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[], $6::uuid[], $7::jsonb, $8::text)`),

    notifyAppended: `select pg_notify('${APPENDED_NOTIFICATION_CHANNEL}', $1)`,

    streamVersions: preparedStatement(`select stream_id, version from ${s}.streams where stream_id = any($1::text[])`),

    readStreamForwards: preparedStatement(`select ${RECORDED_COLUMNS} from ${s}.messages
      where stream_id = $1 and stream_version >= $2 order by stream_version limit $3`),
    readStreamBackwards: preparedStatement(`select ${RECORDED_COLUMNS} from ${s}.messages
      where stream_id = $1 and stream_version <= $2 order by stream_version desc limit $3`),

    readAll: (after: AllPosition, maxCount: number, categories: readonly string[] | undefined): string => {
      const afterCondition = `(transaction_id, global_position) > ('${after.transactionId}'::xid8, ${after.globalPosition}::bigint)`;
      const query =
        categories === undefined
          ? `select ${RECORDED_COLUMNS} from ${s}.messages
             where ${afterCondition} and transaction_id < ${horizon}
             order by transaction_id, global_position limit ${maxCount}`
          : // One bounded index range per category, merged in order (Merge Append): reads maxCount rows in all,
            // whatever the number of categories, and never sorts.
            `select * from (${categories
              .map((category) => `(select ${RECORDED_COLUMNS} from ${s}.messages
                 where category = ${quoteLiteral(category)} and ${afterCondition} and transaction_id < ${horizon}
                 order by transaction_id, global_position limit ${maxCount})`)
              .join(' union all ')}) m
             order by m.transaction_id, m.global_position limit ${maxCount}`;
      // Catching up must walk the index in order and stop after maxCount rows. Left to its
      // estimates (the horizon is unknown at plan time) the planner may prefer a bitmap scan that
      // sorts every remaining row on each page, which turns a catch-up quadratic. Disabling sorts
      // also keeps the category read a merge of its index ranges, and JIT (100 ms of compiling for
      // a 1 ms query, when costs look large) is off too. The settings hold for this query string
      // only: a multi-statement simple query is one implicit transaction, so they are reset at its
      // end, error or not.
      // Values are inlined (a simple query takes no parameters); all are validated bigints,
      // integers and category names before they get here.
      return `set local enable_bitmapscan = off; set local enable_sort = off; set local jit = off; ${query}`;
    },
  };
}

export type EventStoreStatements = ReturnType<typeof eventStoreStatements>;

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A row of RECORDED_COLUMNS as node-postgres returns it in rowMode 'array' (int8 and xid8 as
 * strings), in the columns' order: no object per row to build, a tenth less of a read's time.
 */
export type RecordedEventRow = [
  messageId: string,
  messageType: string,
  schemaVersion: number,
  data: unknown,
  metadata: Record<string, unknown>,
  streamId: string,
  streamVersion: string,
  category: string,
  globalPosition: string,
  transactionId: string,
  /** Epoch milliseconds, as a decimal string. */
  recordedAtMs: string,
];

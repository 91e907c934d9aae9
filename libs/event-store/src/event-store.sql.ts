import { quoteIdentifier } from '@clearline/postgres';
import type { AllPosition } from './event-store.types.js';

/** The channel appends notify on commit; the payload is the schema name. */
export const APPENDED_NOTIFICATION_CHANNEL = 'event_store_appended';

const RECORDED_COLUMNS = `message_id, message_type, schema_version, data, metadata, stream_id, stream_version, category,
  global_position, transaction_id, recorded_at`;

/**
 * Every statement the store runs, for one schema. Kept together so the locking and ordering rules
 * they rely on can be read in one place.
 */
export function eventStoreStatements(schema: string, notifyOnAppend: boolean) {
  const s = quoteIdentifier(schema);
  // The horizon below which $all is final: every transaction with a lower id has ended (committed
  // or rolled back), and no transaction can start with a lower id. Evaluated once per statement,
  // from the same snapshot the statement reads rows with.
  const horizon = 'pg_snapshot_xmin(pg_current_snapshot())';
  return {
    // Row locks in stream_id order (LockRows runs above the sort), so appenders that write several
    // streams cannot deadlock on each other.
    lockStreams: `select stream_id, version, last_transaction_id from ${s}.streams
      where stream_id = any($1::text[]) order by stream_id for update`,

    // A concurrent creator makes ON CONFLICT wait for its outcome; the rows it created are not
    // returned here and are locked by the next lockStreams instead.
    createStreams: `insert into ${s}.streams (stream_id, category, version, last_transaction_id)
      select stream_id, category, -1, '0'::xid8 from unnest($1::text[], $2::text[]) as t(stream_id, category) order by stream_id
      on conflict (stream_id) do nothing returning stream_id`,

    findStoredEvents: `select message_id, stream_id, stream_version, global_position from ${s}.messages
      where message_id = any($1::uuid[])`,

    // One statement per append call, whatever the number of events and streams. Rows are inserted
    // in input order, so global positions increase with stream versions. transaction_id is raised
    // to the stream's previous transaction_id so it never decreases along a stream.
    insertEvents: `with new_events as (
        select * from unnest($1::text[], $2::bigint[], $3::text[], $4::uuid[], $5::text[], $6::int[], $7::text[], $8::text[], $9::xid8[])
          with ordinality as e(stream_id, stream_version, category, message_id, message_type, schema_version, data, metadata,
                               previous_transaction_id, ordinal)
      ),
      inserted as (
        insert into ${s}.messages (transaction_id, stream_id, stream_version, category, message_id, message_type, schema_version, data, metadata)
        select greatest(pg_current_xact_id(), e.previous_transaction_id), e.stream_id, e.stream_version, e.category, e.message_id,
               e.message_type, e.schema_version, e.data::jsonb, e.metadata::jsonb
        from new_events e order by e.ordinal
        returning stream_id, stream_version, global_position
      ),
      -- The new heads arrive as parameters rather than from 'inserted', whose size the planner
      -- cannot know: the repeated stream_id = any(...) keeps this an index lookup, never a scan
      -- of every stream.
      heads as (
        update ${s}.streams s
        set version = h.version, last_transaction_id = greatest(s.last_transaction_id, pg_current_xact_id()), updated_at = now()
        from unnest($10::text[], $11::bigint[]) as h(stream_id, version)
        where s.stream_id = h.stream_id and s.stream_id = any($10::text[])
        returning s.stream_id
      )${notifyOnAppend ? `,\n      notified as materialized (select pg_notify('${APPENDED_NOTIFICATION_CHANNEL}', ${quoteLiteral(schema)}))` : ''}
      select i.stream_id, max(i.stream_version) as last_version, min(i.global_position) as first_position, max(i.global_position) as last_position,
             (select count(*) from heads) as heads_updated
      from inserted i${notifyOnAppend ? ' cross join notified' : ''}
      group by i.stream_id`,

    streamVersions: `select stream_id, version from ${s}.streams where stream_id = any($1::text[])`,

    readStreamForwards: `select ${RECORDED_COLUMNS} from ${s}.messages
      where stream_id = $1 and stream_version >= $2 order by stream_version limit $3`,
    readStreamBackwards: `select ${RECORDED_COLUMNS} from ${s}.messages
      where stream_id = $1 and stream_version <= $2 order by stream_version desc limit $3`,

    readAll: (after: AllPosition, maxCount: number, categories: readonly string[] | undefined): string => {
      const afterCondition = `(transaction_id, global_position) > ('${after.transactionId}'::xid8, ${after.globalPosition}::bigint)`;
      const query =
        categories === undefined
          ? `select ${RECORDED_COLUMNS} from ${s}.messages
             where ${afterCondition} and transaction_id < ${horizon}
             order by transaction_id, global_position limit ${maxCount}`
          : // One bounded index range per category, merged: never sorts more than categories x maxCount rows.
            `select m.* from unnest(array[${categories.map(quoteLiteral).join(', ')}]::text[]) as c(category)
             cross join lateral (
               select ${RECORDED_COLUMNS} from ${s}.messages
               where category = c.category and ${afterCondition} and transaction_id < ${horizon}
               order by transaction_id, global_position limit ${maxCount}
             ) m
             order by m.transaction_id, m.global_position limit ${maxCount}`;
      // Catching up must walk the index in order and stop after maxCount rows. Left to its
      // estimates (the horizon is unknown at plan time, a lateral category is a parameter) the
      // planner may prefer a bitmap scan that sorts every remaining row on each page, which turns
      // a catch-up quadratic. Disabling sorts inflates the cost of the unavoidable merge sort of
      // the category read into JIT territory, so JIT (100 ms of compiling for a 1 ms query) is
      // off too. The settings hold for this query string only: a multi-statement
      // simple query is one implicit transaction, so they are reset at its end, error or not.
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

/** A row of RECORDED_COLUMNS as node-postgres returns it (int8 and xid8 as strings). */
export interface RecordedEventRow {
  message_id: string;
  message_type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  stream_id: string;
  stream_version: string;
  category: string;
  global_position: string;
  transaction_id: string;
  recorded_at: Date;
}

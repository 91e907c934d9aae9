import { createHash } from 'node:crypto';

/** A query config node-postgres sends as a named statement: `client.query({ ...statement, values })`. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/**
 * A statement PostgreSQL parses once per connection and, after five executions, usually runs from a
 * cached generic plan, instead of parsing and planning it at every call: on the hot paths (inbox,
 * appends, timers) planning was over a quarter of the database's statement time in bench:e2e. The
 * name is a digest of the text, so one text has one name and two texts never share one (node-postgres
 * refuses a name reused for another text on the same connection).
 *
 * Only for fixed texts with explicit column lists: a cached `select *` fails ("cached plan must not
 * change result type") once a migration adds a column under a running service. Behind PgBouncer in
 * transaction mode this needs its protocol-level prepared statements (1.21+, max_prepared_statements).
 */
export function preparedStatement(text: string): PreparedStatement {
  return { name: `cl_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text };
}

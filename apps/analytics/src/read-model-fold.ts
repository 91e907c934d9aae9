import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';

/**
 * A read model's rows folded in memory from its events, then written with one statement per table.
 * The live projection folds one batch at a time over the rows that batch continues (load, apply,
 * write 'merge'); a rebuild keeps one fold across the whole replay and writes each row once, with
 * plain inserts into its empty shadow tables ('insert'), unless the fold grows past its memory
 * budget, when it is written and started afresh (later folds load what they continue and merge).
 * Either way a row is a pure function of its events: any split into folds writes the same bytes.
 */
export interface ReadModelFold<Table extends string = string> {
  /** Rows held in memory (loaded, created or counted): what a rebuild bounds. */
  readonly heldRows: number;
  /** Loads the stored rows `events` continue that the fold does not hold yet. */
  load(events: readonly RecordedEvent[], client: PoolClient, tables: Record<Table, string>): Promise<void>;
  /** Applies one event, in $all order. Pure: no I/O. */
  apply(event: RecordedEvent): void;
  /** Writes every row the fold changed since it began. */
  write(client: PoolClient, tables: Record<Table, string>, mode: WriteMode): Promise<void>;
}

/**
 * 'merge': over whatever the tables hold (upserts, counters added). 'insert': the tables hold none
 * of the fold's keys (a rebuild's fresh shadow tables), so rows are inserted as they are.
 */
export type WriteMode = 'merge' | 'insert';

/** The live projection of one batch: load the rows it continues, fold, merge. */
export async function projectWithFold<Table extends string>(
  fold: ReadModelFold<Table>, events: readonly RecordedEvent[], client: PoolClient, tables: Record<Table, string>,
): Promise<void> {
  if (events.length === 0) return;
  await fold.load(events, client, tables);
  for (const event of events) fold.apply(event);
  await fold.write(client, tables, 'merge');
}

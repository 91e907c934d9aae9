// One lane of a rebuild in a worker thread (read-model-rebuild.ts, "lanes"): read models whose
// categories no other lane reads, replayed from a read of their own into their fresh shadow tables,
// on a pool of its own, so that a second core parses and folds while the main thread does the same
// for the other lane. Reports each page's events and, last, where it stopped.
import { formatAllPosition, PostgresEventStore, START } from '@clearline/event-store';
import { createPool } from '@clearline/postgres';
import { parentPort, workerData } from 'node:worker_threads';
import { readModelNamed } from './read-model-catalog.js';
import { replay, type ReplayTarget } from './read-model-rebuild.js';

/** What the main thread hands a lane. */
export interface LaneWork {
  connectionString: string;
  storeSchema: string;
  targets: { model: string; tables: Record<string, string> }[];
  pageSize: number;
  maxHeldRows: number | undefined;
}

/** What a lane tells the main thread: each page's events, then its end (or its failure, as a thrown error). */
export type LaneMessage =
  | { kind: 'page'; events: number }
  | { kind: 'done'; position: string; perModel: Record<string, { events: number; applyMs: number }> };

const work = workerData as LaneWork;
const port = parentPort;
if (port === null) throw new Error('replay-lane.worker.ts runs as a worker thread (read-model-rebuild.ts starts it)');

const pool = createPool({ connectionString: work.connectionString, max: work.targets.length + 2, applicationName: 'clearline-analytics-rebuild-lane' });
try {
  const store = new PostgresEventStore(pool, { schema: work.storeSchema });
  const targets: ReplayTarget[] = work.targets.map((target) => ({ model: readModelNamed(target.model), tables: target.tables }));
  const perModel = Object.fromEntries(targets.map((target) => [target.model.name, { events: 0, applyMs: 0 }]));
  const position = await replay({
    pool, store, targets, after: START, pageSize: work.pageSize, maxHeldRows: work.maxHeldRows, freshTables: true, perModel,
    onPage: (events) => port.postMessage({ kind: 'page', events } satisfies LaneMessage),
  });
  port.postMessage({ kind: 'done', position: formatAllPosition(position), perModel } satisfies LaneMessage);
} finally {
  await pool.end();
}

// npm run analytics:rebuild [read model ...] — rebuilds read models by replaying the event store into
// shadow tables, then swaps them in atomically (apps/analytics/src/read-model-rebuild.ts; docs/analytics.md).
// With no name: every read model of the catalog; the named ones are rebuilt from one read of the event
// store and swapped in together. The analytics service may keep running: its queries are
// answered from the live tables throughout, and its projection resumes from the swapped-in checkpoint.
// Progress (events/s, ETA) goes to stderr; one JSON line per read model to stdout (`events`: those of its categories).
// --max-held-rows=N bounds the rows each read model folds in memory before writing them (default 200,000).
import { PostgresEventStore } from '@clearline/event-store';
import { createPool } from '@clearline/postgres';
import { READ_MODELS, readModelNamed } from '../apps/analytics/dist/read-model-catalog.js';
import { DEFAULT_MAX_HELD_ROWS, rebuildReadModels } from '../apps/analytics/dist/read-model-rebuild.js';

const names = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
let models;
let maxHeldRows;
try {
  models = names.length === 0 ? READ_MODELS : names.map(readModelNamed);
  for (const option of process.argv.slice(2).filter((argument) => argument.startsWith('-'))) {
    const match = /^--max-held-rows=(\d+)$/.exec(option);
    if (match === null || Number(match[1]) < 1) throw new Error(`unknown option '${option}': the one option is --max-held-rows=<positive integer> (default ${DEFAULT_MAX_HELD_ROWS})`);
    maxHeldRows = Number(match[1]);
  }
} catch (error) {
  console.error(error.message);
  process.exit(2);
}

// One connection per read model (they are written at once) and one for the read ahead.
const pool = createPool({ applicationName: 'clearline-analytics-rebuild', max: models.length + 2 });
const store = new PostgresEventStore(pool);
const interactive = process.stderr.isTTY;
const label = models.map((model) => model.name).join(', ');
try {
  let lastDrawn = 0;
  const result = await rebuildReadModels({
    pool, store, models, maxHeldRows,
    onProgress: ({ events, totalEstimate, elapsedMs }) => {
      const now = performance.now();
      if (now - lastDrawn < 200 && events < totalEstimate) return;
      lastDrawn = now;
      process.stderr.write(`${interactive ? '\r' : ''}${progressLine(label, events, totalEstimate, elapsedMs)}${interactive ? '' : '\n'}`);
    },
  });
  if (interactive) process.stderr.write('\n');
  console.error(`${label}: ${result.events.toLocaleString('en-US')} events replayed and swapped in, in ${(result.elapsedMs / 1000).toFixed(1)} s`);
  for (const model of models) {
    const position = `${result.positions[model.name].transactionId}:${result.positions[model.name].globalPosition}`;
    console.log(JSON.stringify({ readModel: model.name, events: result.perModel[model.name].events, seconds: Math.round(result.elapsedMs) / 1000, position }));
  }
} catch (error) {
  if (interactive) process.stderr.write('\n');
  console.error(`rebuild failed: ${error instanceof Error ? error.message : error} (the live tables are untouched; the shadow tables are dropped by the next rebuild)`);
  process.exitCode = 1;
} finally {
  await pool.end();
}

/** `payment-flow [##########..........]  52% 104,000/200,000 events  98,000 events/s  ETA 1.0 s` */
function progressLine(name, events, total, elapsedMs) {
  const fraction = total === 0 ? 1 : Math.min(1, events / total);
  const width = 30;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? (events / elapsedMs) * 1000 : 0;
  const etaSeconds = rate > 0 ? Math.max(0, (total - events) / rate) : 0;
  return `${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% `
    + `${events.toLocaleString('en-US')}/${total.toLocaleString('en-US')} events  ${Math.round(rate).toLocaleString('en-US')} events/s  ETA ${etaSeconds.toFixed(1)} s`;
}

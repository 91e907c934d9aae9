// Replay speed of the analytics read models (docs/benchmarks.md, "Replay"): generates N events of
// simulated payment traffic (apps/analytics/dist/simulated-traffic.js: payment, risk and settlement
// streams) into an event store of its own, then rebuilds every read model of the catalog from it with
// the same code as `npm run analytics:rebuild` (one read of the store in pages of 10,000 events, each
// page written into every read model's shadow tables at once, swap), several times. Prints a table and,
// last, one line of JSON with `replay_events_per_s`: the median of the store's events replayed (each
// counted once, whatever the number of read models it feeds) per second of the whole rebuild.
//
//   npm run bench:replay                 # 200,000 events, 3 repetitions
//   npm run bench:replay -- --quick      # 50,000 events, 1 repetition
//   node tools/bench/replay.bench.mjs --events=500000 --reps=5   # apps and libs built, PostgreSQL up
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchSize, fmt, median, postgresSettings, printTable } from './bench-support.mjs';

const SERVER_URL = (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const BENCH_DATABASE = 'clearline_bench';
const DATABASE_URL = `${SERVER_URL}/${BENCH_DATABASE}`;
/** This benchmark's own schemas in the shared benchmark database, reset at the start of every run. */
const STORE_SCHEMA = 'replay_bench_store';
const READ_MODEL_SCHEMA = 'replay_bench_analytics';
const SIZES = { full: { events: 200_000, reps: 3 }, quick: { events: 50_000, reps: 1 } };
/** Recorded times are spread as if the traffic had arrived over hours: buckets and latencies look real. */
const EVENT_SPACING_MS = 40;

async function prepareDatabase(pg) {
  const admin = new pg.Client({ connectionString: `${SERVER_URL}/postgres` });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [BENCH_DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${STORE_SCHEMA} cascade; drop schema if exists ${READ_MODEL_SCHEMA} cascade`);
    await client.query(`do $$ begin
        if to_regclass('public.schema_migrations') is not null then delete from public.schema_migrations where owner = 'event-store:${STORE_SCHEMA}'; end if;
      end $$`);
    return await postgresSettings(client);
  } finally {
    await client.end();
  }
}

async function generate(store, pool, simulatedTraffic, maxEventsPerAppend, eventCount) {
  const started = performance.now();
  let appended = 0;
  for (const round of simulatedTraffic({ seed: 8, merchants: 200, paymentsPerRound: 800 })) {
    // A round that closes the settlement batches carries more events than one append may.
    for (const appends of withinAppendLimit(round, maxEventsPerAppend)) await store.appendToStreams(appends);
    appended += round.reduce((sum, append) => sum + append.events.length, 0);
    process.stderr.write(`\rgenerating: ${appended.toLocaleString('en-US')} / ${eventCount.toLocaleString('en-US')} events`);
    if (appended >= eventCount) break;
  }
  process.stderr.write('\n');
  await pool.query(`update ${STORE_SCHEMA}.messages set recorded_at = timestamptz '2026-11-01T00:00:00Z' + global_position * interval '${EVENT_SPACING_MS} milliseconds'`);
  await pool.query(`vacuum analyze ${STORE_SCHEMA}.messages`);
  return { appended, seconds: (performance.now() - started) / 1000 };
}

/** The round's appends in order, in groups of at most `limit` events (a stream's events stay together). */
function* withinAppendLimit(appends, limit) {
  let group = [];
  let events = 0;
  for (const append of appends) {
    if (events + append.events.length > limit && group.length > 0) {
      yield group;
      group = [];
      events = 0;
    }
    group.push(append);
    events += append.events.length;
  }
  if (group.length > 0) yield group;
}

async function main(argv) {
  const { quick, size } = benchSize(argv, SIZES);
  const eventsArgument = argv.find((argument) => argument.startsWith('--events='));
  if (eventsArgument !== undefined) size.events = Number.parseInt(eventsArgument.slice('--events='.length), 10);
  const { default: pg } = await import('pg');
  const { createPool, migrate } = await import('@clearline/postgres');
  const { eventStoreMigrations, MAX_EVENTS_PER_APPEND, PostgresEventStore } = await import('@clearline/event-store');
  const { simulatedTraffic } = await import('../../apps/analytics/dist/simulated-traffic.js');
  const { READ_MODELS, tableNames } = await import('../../apps/analytics/dist/read-model-catalog.js');
  const { createReadModelTables, rebuildReadModels, tableDigests } = await import('../../apps/analytics/dist/read-model-rebuild.js');

  const server = await prepareDatabase(pg);
  const pool = createPool({ connectionString: DATABASE_URL, max: 6, applicationName: 'bench-replay' });
  try {
    await migrate(pool, [eventStoreMigrations({ schema: STORE_SCHEMA })]);
    await createReadModelTables(pool, READ_MODEL_SCHEMA);
    const store = new PostgresEventStore(pool, { schema: STORE_SCHEMA });
    const generated = await generate(store, pool, simulatedTraffic, MAX_EVENTS_PER_APPEND, size.events);
    const machine = {
      cpus: os.availableParallelism(), cpu_model: os.cpus()[0]?.model ?? 'unknown', node: process.version,
      postgres: server.version, fsync: server.fsync, synchronous_commit: server.synchronous_commit, shared_buffers: server.shared_buffers,
      load_average_at_start: os.loadavg().map((value) => Math.round(value * 100) / 100),
    };
    console.log(`replay benchmark: ${generated.appended.toLocaleString('en-US')} events generated in ${generated.seconds.toFixed(1)} s; node ${machine.node}, PostgreSQL ${machine.postgres}, ${machine.cpus} CPUs`);
    const runs = [];
    let digests;
    for (let rep = 1; rep <= size.reps; rep += 1) {
      await pool.query('checkpoint');
      const result = await rebuildReadModels({
        pool, store, models: READ_MODELS, schema: READ_MODEL_SCHEMA,
        onProgress: ({ events: done, totalEstimate, elapsedMs }) => {
          process.stderr.write(`\rrep ${rep}: ${done.toLocaleString('en-US')}/${totalEstimate.toLocaleString('en-US')} events, ${Math.round((done / elapsedMs) * 1000).toLocaleString('en-US')} events/s   `);
        },
      });
      process.stderr.write('\n');
      const seconds = result.elapsedMs / 1000;
      const perModel = Object.fromEntries(READ_MODELS.map((model) => {
        const { events, applyMs } = result.perModel[model.name];
        return [model.name, { events, apply_seconds: applyMs / 1000, apply_events_per_s: Math.round(events / (applyMs / 1000)) }];
      }));
      const modelEvents = Object.values(perModel).reduce((sum, model) => sum + model.events, 0);
      // Every repetition must build the same tables: the replay is deterministic.
      const repDigests = {};
      for (const model of READ_MODELS) Object.assign(repDigests, await tableDigests(pool, tableNames(model, READ_MODEL_SCHEMA)));
      if (digests !== undefined && JSON.stringify(digests) !== JSON.stringify(repDigests)) throw new Error('two replays of the same events built different tables');
      digests = repDigests;
      runs.push({
        events: result.events, seconds, events_per_s: Math.round(result.events / seconds),
        model_events: modelEvents, model_events_per_s: Math.round(modelEvents / seconds), per_model: perModel,
      });
    }
    const lines = READ_MODELS.map((model) => [
      `${model.name}: its events / time in its projection (events/s)`, fmt(median(runs.map((run) => run.per_model[model.name].apply_events_per_s))),
      runs.map((run) => fmt(run.per_model[model.name].apply_events_per_s)).join(' / '),
    ]);
    const medianRate = median(runs.map((run) => run.events_per_s));
    lines.push(['events of each read model, summed / rebuild time (events/s)', fmt(median(runs.map((run) => run.model_events_per_s))), runs.map((run) => fmt(run.model_events_per_s)).join(' / ')]);
    lines.push(['all read models: store events / rebuild time (events/s)', fmt(medianRate), runs.map((run) => fmt(run.events_per_s)).join(' / ')]);
    printTable(['row', 'median', 'runs'], lines);
    console.log(JSON.stringify({
      benchmark: 'replay', quick, events: generated.appended, reps: size.reps, replay_events_per_s: Math.round(medianRate),
      goal_events_per_s: 100_000, goal_met: medianRate >= 100_000, runs, table_digests: digests, machine,
    }));
  } finally {
    await pool.end();
  }
}

await main(process.argv.slice(2));

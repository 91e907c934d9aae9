// Benchmark: Clearline's PostgresEventStore (@clearline/event-store) against Emmett's PostgreSQL
// event store (@event-driven-io/emmett-postgresql), same PostgreSQL, same workload, same run.
//
//   npm run bench:event-store              # builds, `infra up`, then this script
//   npm run bench:event-store -- --quick   # smaller counts (a smoke run, ~40 s)
//   node tools/bench/event-store.bench.mjs [--quick] [--reps=N]   # when libs are built and PostgreSQL is up
//
// Layout: this process (the coordinator) owns the database `clearline_bench` (created if missing,
// both stores' schemas dropped and recreated at the start of every run) and forks one worker
// process per store. Only one worker runs a measurement at a time; repetitions alternate which
// store goes first, so slow phases of the machine hit both. Each row is repeated and the MEDIAN
// is reported. Separate processes are required, not a nicety: Emmett's SQL layer (dumbo) replaces
// node-postgres' *global* type parsers when its first pool is created (int8 -> BigInt, jsonb ->
// JSON.parse with a bigint reviver), which would change how our store parses rows if both lived
// in one process.
//
// Output: a progress line per row, a table (row | ours | Emmett | ratio), then ONE final
// line of JSON on stdout (the last line), for CI to pick up. See docs/benchmarks.md.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { benchSize, fmt, median, percentile, postgresSettings, printTable, round } from './bench-support.mjs';

const SERVER_URL = (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const BENCH_DATABASE = 'clearline_bench';
const DATABASE_URL = `${SERVER_URL}/${BENCH_DATABASE}`;
/**
 * Emmett creates its tables and functions in the first schema of the search path; this keeps them
 * in a schema of their own, so the reset below never touches `public` (which other benchmarks
 * sharing clearline_bench use, e.g. tools/bench/messaging.bench.mjs and its schema_migrations).
 */
const EMMETT_SCHEMA = 'emmett';
const EMMETT_DATABASE_URL = `${DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${EMMETT_SCHEMA}`)}`;
/** A measurement that has not finished by then has hung: fail the run rather than wait forever. */
const MEASUREMENT_TIMEOUT_MS = 120_000;
/** Both stores get pools of this size (node-postgres' default, which is also what Emmett's dumbo uses). */
const POOL_SIZE = 10;
const READ_PAGE_SIZE = 1_000;
const BATCH_SIZE = 100;
const WRITERS = 8;

const SIZES = {
  full: {
    reps: 3,
    singleAppends: 500, // row 1: appends by one writer, round-robin over singleStreams streams
    singleStreams: 50,
    concurrentAppendsPerWriter: 150, // row 2: 8 writers x this
    concurrentStreamsPerWriter: 10,
    batchedAppends: 60, // row 3: x 100 events
    catchUpEvents: 10_000, // row 5: the first N events of $all
    lagRatePerSecond: 100, // row 6: one single-event append every 10 ms ...
    lagDurationMs: 3_000, // ... for this long
  },
  quick: {
    reps: 3,
    singleAppends: 120,
    singleStreams: 12,
    concurrentAppendsPerWriter: 40,
    concurrentStreamsPerWriter: 5,
    batchedAppends: 20,
    catchUpEvents: 3_000,
    lagRatePerSecond: 100,
    lagDurationMs: 1_500,
  },
};

// ------------------------------------------------------------------------------------ events ---

let sequence = 0;

/** A payment event: ~330 bytes of JSON data, plus correlation metadata. Unique paymentId (the lag key). */
function paymentEvent() {
  sequence += 1;
  const paymentId = randomUUID();
  return {
    type: 'PaymentCaptured',
    data: {
      paymentId,
      merchantId: 'mer_01J9ZK4T7Q2M8V3X',
      amount: { minorUnits: String(1_000 + ((sequence * 7_919) % 990_000)), currency: 'EUR' },
      method: { type: 'card', network: 'visa', last4: '4242', expiry: '12/29' },
      captureId: `cap_${String(sequence).padStart(10, '0')}`,
      reference: `order-2026-${String(sequence).padStart(8, '0')}`,
      capturedAt: new Date(1_767_225_600_000 + sequence * 1_000).toISOString(),
      status: 'captured',
    },
    metadata: { correlationId: paymentId, causationId: randomUUID() },
  };
}

const paymentStreamId = () => `payment-${randomUUID()}`;

// ----------------------------------------------------------------------------------- workers ---

/**
 * What every row needs from a store. `append` returns the next expected version in the store's own
 * terms; `expected === undefined` means "the stream must not exist yet".
 */
async function oursAdapter() {
  const { CatchUpSubscription, PostgresEventStore, START } = await import('@clearline/event-store');
  const { createPool } = await import('@clearline/postgres');
  const pool = createPool({ connectionString: DATABASE_URL, max: POOL_SIZE, applicationName: 'bench-ours' });
  const store = new PostgresEventStore(pool); // defaults: schema event_store, notifyOnAppend: true
  return {
    prepare: (event) => ({ id: randomUUID(), ...event }),
    async append(streamId, events, expected) {
      const result = await store.appendToStream(streamId, events, { expectedVersion: expected ?? 'no_stream' });
      return result.nextExpectedVersion;
    },
    async readAll(pageSize) {
      let after = START;
      let count = 0;
      for (;;) {
        const page = await store.readAll({ after, maxCount: pageSize });
        count += page.events.length;
        after = page.lastPosition;
        if (page.events.length < pageSize) return count;
      }
    },
    /** The global positions of the first n events of $all, in $all order (setup, untimed). */
    async firstPositions(n) {
      const { rows } = await pool.query(
        'select global_position::text as position from event_store.messages order by transaction_id, global_position limit $1',
        [n],
      );
      return rows.map((row) => row.position);
    },
    /** A new subscription from the start of $all until `until` resolves; returns when it started. */
    async catchUp(onEvent, until) {
      const subscription = new CatchUpSubscription({
        store,
        pool,
        subscriptionId: `bench-catch-up-${randomUUID()}`, // defaults: batchSize 500, LISTEN on, poll 1 s
        handle: async (events) => {
          for (const event of events) onEvent(String(event.globalPosition));
        },
      });
      const started = performance.now();
      await subscription.start();
      await until;
      await subscription.stop();
      return started;
    },
    /** Subscribes from the current end of $all, then runs `appendLoop` while recording receipt times. */
    async follow(onEvent, appendLoop) {
      const subscriptionId = `bench-lag-${randomUUID()}`;
      // Start at the current end of $all: the checkpoint row an operator would write (the
      // subscription API has no "from the end" option).
      await pool.query(
        `insert into event_store.subscription_checkpoints (subscription_id, transaction_id, global_position)
         select $1, coalesce(max(transaction_id), '0'::xid8), coalesce(max(global_position), 0) from event_store.messages`,
        [subscriptionId],
      );
      const subscription = new CatchUpSubscription({
        store,
        pool,
        subscriptionId,
        handle: async (events) => {
          const now = performance.now();
          for (const event of events) onEvent(event.data.paymentId, now);
        },
      });
      await subscription.start();
      try {
        return await appendLoop();
      } finally {
        await subscription.stop();
      }
    },
    close: () => pool.end(),
  };
}

async function emmettAdapter() {
  const { defaultTag, getPostgreSQLEventStore, readMessagesBatch } = await import('@event-driven-io/emmett-postgresql');
  const { dumbo, rawSql } = await import('@event-driven-io/dumbo');
  // One dumbo pool (a node-postgres Pool, default size 10) shared by the store, its consumers
  // and the $all reader. Default store options otherwise (schema autoMigration 'CreateOrUpdate').
  const pool = dumbo({ connectionString: EMMETT_DATABASE_URL });
  const store = getPostgreSQLEventStore(EMMETT_DATABASE_URL, { connectionOptions: { dumbo: pool } });
  await store.schema.migrate(); // otherwise the first append would create the schema
  return {
    prepare: (event) => event,
    async append(streamId, events, expected) {
      // Emmett stream positions start at 1; expected 0n = the stream must not exist (enforced by
      // the unique key of emt_streams). Its STREAM_DOES_NOT_EXIST constant is *not* enforced by
      // the PostgreSQL append (it is turned into "no check"), so it is not used here.
      const result = await store.appendToStream(streamId, events, { expectedStreamVersion: expected ?? 0n });
      return result.nextExpectedStreamVersion;
    },
    async readAll(pageSize) {
      // Emmett 0.42 has no public read-all on the event store; readMessagesBatch is what its
      // message batch puller (consumers, processors, projections) pages $all with.
      let after = 0n;
      let count = 0;
      for (;;) {
        const page = await readMessagesBatch(pool.execute, { after, batchSize: pageSize });
        count += page.messages.length;
        after = page.currentGlobalPosition;
        if (!page.areMessagesLeft) return count;
      }
    },
    async firstPositions(n) {
      const result = await pool.execute.query(
        rawSql(`select global_position::text as position from emt_messages where partition = '${defaultTag}' and is_archived = false
                order by transaction_id, global_position limit ${Number(n)}`),
      );
      return result.rows.map((row) => row.position);
    },
    async catchUp(onEvent, until) {
      // Defaults: pulling batchSize 100, pullingFrequencyInMs 50; the reactor stores its checkpoint
      // (emt_processors) after every message, in one transaction per batch.
      const consumer = store.consumer();
      consumer.reactor({
        processorId: `bench-catch-up-${randomUUID()}`,
        eachMessage: async (message) => onEvent(String(message.metadata.globalPosition)),
      });
      const started = performance.now();
      const running = consumer.start();
      await Promise.race([until, running.then(() => Promise.reject(new Error('Emmett consumer stopped before catching up')))]);
      await consumer.stop(); // not close(): that would also close the store's pool
      await running;
      return started;
    },
    async follow(onEvent, appendLoop) {
      // startFrom 'END' cannot be used: Emmett 0.42 resolves it with readLastMessageGlobalPosition,
      // whose query orders ascending (LIMIT 1), i.e. it returns the FIRST event's position and the
      // processor replays all of $all. So start from an explicit checkpoint at the current end.
      const end = await pool.execute.query(
        rawSql(`select coalesce(max(global_position), 0)::text as position from emt_messages where partition = '${defaultTag}'`),
      );
      const consumer = store.consumer(); // default polling (see docs/benchmarks.md)
      consumer.reactor({
        processorId: `bench-lag-${randomUUID()}`,
        startFrom: { lastCheckpoint: BigInt(end.rows[0].position) },
        eachMessage: async (message) => onEvent(message.data.paymentId, performance.now()),
      });
      const running = consumer.start();
      try {
        return await appendLoop();
      } finally {
        await consumer.stop();
        await running;
      }
    },
    close: () => store.close(),
  };
}

/** The workloads, identical for both stores, given an adapter. Each returns its figure. */
function workloads(store) {
  return {
    /** Warms connections and JIT; its events stay in $all for both stores alike. */
    async warmUp() {
      for (let i = 0; i < 20; i += 1) await store.append(paymentStreamId(), [store.prepare(paymentEvent())]);
      await store.append(paymentStreamId(), Array.from({ length: BATCH_SIZE }, () => store.prepare(paymentEvent())));
      await store.readAll(READ_PAGE_SIZE);
      return {};
    },

    /** Row 1: one writer, one event per append, round-robin over `streams` streams, with expected versions. */
    async singleAppends({ appends, streams }) {
      const ids = Array.from({ length: streams }, paymentStreamId);
      const versions = new Array(streams).fill(undefined);
      const events = Array.from({ length: appends }, () => store.prepare(paymentEvent()));
      const started = performance.now();
      for (let i = 0; i < appends; i += 1) {
        const s = i % streams;
        versions[s] = await store.append(ids[s], [events[i]], versions[s]);
      }
      const seconds = (performance.now() - started) / 1_000;
      return { value: appends / seconds };
    },

    /** Row 2: `writers` concurrent writers, each as row 1 over its own streams. */
    async concurrentAppends({ writers, appendsPerWriter, streamsPerWriter }) {
      const plans = Array.from({ length: writers }, () => ({
        ids: Array.from({ length: streamsPerWriter }, paymentStreamId),
        versions: new Array(streamsPerWriter).fill(undefined),
        events: Array.from({ length: appendsPerWriter }, () => store.prepare(paymentEvent())),
      }));
      const started = performance.now();
      await Promise.all(
        plans.map(async ({ ids, versions, events }) => {
          for (let i = 0; i < events.length; i += 1) {
            const s = i % ids.length;
            versions[s] = await store.append(ids[s], [events[i]], versions[s]);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1_000;
      return { value: (writers * appendsPerWriter) / seconds };
    },

    /** Row 3: one writer, `appends` appends of 100 events, each a new stream. */
    async batchedAppends({ appends, batchSize }) {
      const batches = Array.from({ length: appends }, () => Array.from({ length: batchSize }, () => store.prepare(paymentEvent())));
      const started = performance.now();
      for (const batch of batches) await store.append(paymentStreamId(), batch);
      const seconds = (performance.now() - started) / 1_000;
      return { value: (appends * batchSize) / seconds };
    },

    /** Row 4: everything in $all, in pages. */
    async readAll({ pageSize }) {
      const started = performance.now();
      const count = await store.readAll(pageSize);
      const seconds = (performance.now() - started) / 1_000;
      return { value: count / seconds, count };
    },

    /**
     * Row 5: a new subscription from the start of $all until its handler has passed the first
     * `events` events of $all: it received all of them, or an event that comes after them (a
     * subscriber that loses events never receives all; `lost` counts those it skipped).
     */
    async catchUp({ events }) {
      const firstN = new Set(await store.firstPositions(events));
      let delivered = 0;
      let passed = false;
      let doneAt;
      let signalDone;
      const until = new Promise((resolve) => (signalDone = resolve));
      const onEvent = (position) => {
        if (firstN.has(position)) delivered += 1;
        else passed = true;
        if ((delivered >= firstN.size || passed) && doneAt === undefined) {
          doneAt = performance.now();
          signalDone();
        }
      };
      const started = await store.catchUp(onEvent, until);
      return { value: firstN.size / ((doneAt - started) / 1_000), events: firstN.size, lost: firstN.size - delivered };
    },

    /** Row 6: single-event appends at a steady rate while a subscription follows; lag p99 (ms). */
    async liveLag({ ratePerSecond, durationMs }) {
      const total = Math.round((ratePerSecond * durationMs) / 1_000);
      const intervalMs = 1_000 / ratePerSecond;
      const events = Array.from({ length: total }, () => store.prepare(paymentEvent()));
      const committedAt = new Map();
      const receivedAt = new Map();
      let allReceived;
      const everything = new Promise((resolve) => (allReceived = resolve));
      const onEvent = (key, at) => {
        if (receivedAt.has(key)) return;
        receivedAt.set(key, at);
        if (receivedAt.size === total) allReceived();
      };
      await store.follow(onEvent, async () => {
        await sleep(500); // both subscriptions are idle and polling/listening before the first append
        const started = performance.now();
        for (let i = 0; i < total; i += 1) {
          const wait = started + i * intervalMs - performance.now();
          if (wait > 0) await sleep(wait);
          await store.append(paymentStreamId(), [events[i]]);
          committedAt.set(events[i].data.paymentId, performance.now());
        }
        await Promise.race([everything, sleep(10_000)]);
      });
      const lags = [...committedAt].map(([key, at]) => (receivedAt.get(key) ?? Number.POSITIVE_INFINITY) - at).sort((a, b) => a - b);
      const missing = lags.filter((lag) => lag === Number.POSITIVE_INFINITY).length;
      if (missing > 0) throw new Error(`live lag: ${missing} of ${total} events never reached the subscriber within 10 s`);
      return { value: percentile(lags, 0.99), p50: percentile(lags, 0.5), max: lags.at(-1), samples: lags.length };
    },
  };
}

async function runWorker(kind) {
  const adapter = kind === 'ours' ? await oursAdapter() : await emmettAdapter();
  const run = workloads(adapter);
  process.on('message', async ({ id, op, params }) => {
    try {
      if (op === 'close') {
        await adapter.close();
        process.send({ id, ok: true, result: {} }, () => process.exit(0));
        return;
      }
      const result = await run[op](params);
      process.send({ id, ok: true, result });
    } catch (error) {
      process.send({ id, ok: false, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    }
  });
  // The coordinator gone (crashed, Ctrl-C): do not linger holding connections.
  process.on('disconnect', () => process.exit(1));
  process.send({ ready: true });
}

// ------------------------------------------------------------------------------- coordinator ---

function startWorker(kind) {
  // The worker's stdout goes to our stderr, so that stdout ends with the JSON line.
  const child = fork(fileURLToPath(import.meta.url), ['--worker', kind], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  child.stdout.pipe(process.stderr);
  let nextId = 0;
  const pending = new Map();
  let ready;
  const readyPromise = new Promise((resolve, reject) => {
    ready = { resolve, reject };
  });
  child.on('message', (message) => {
    if (message.ready) return ready.resolve();
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.ok) waiter?.resolve(message.result);
    else waiter?.reject(new Error(`${kind} worker: ${message.error}`));
  });
  child.on('exit', (code) => {
    const error = new Error(`${kind} worker exited with code ${code}`);
    ready.reject(error);
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });
  return {
    kind,
    ready: readyPromise,
    call(op, params = {}) {
      const id = (nextId += 1);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          child.kill();
          reject(new Error(`${kind} worker: ${op} did not finish within ${MEASUREMENT_TIMEOUT_MS / 1_000} s`));
        }, MEASUREMENT_TIMEOUT_MS);
        const settle = (fn) => (value) => {
          clearTimeout(timer);
          fn(value);
        };
        pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
        child.send({ id, op, params });
      });
    },
  };
}

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
    // Our store lives in schema event_store (its migration records in public.schema_migrations,
    // owner 'event-store'); Emmett's tables, functions and dumbo migration records in schema
    // emmett. Dropping both makes every run start from empty tables; nothing else is touched.
    await client.query(`drop schema if exists event_store cascade; drop schema if exists ${EMMETT_SCHEMA} cascade; create schema ${EMMETT_SCHEMA};`);
    await client.query(`do $$ begin
        if to_regclass('public.schema_migrations') is not null then delete from public.schema_migrations where owner = 'event-store'; end if;
      end $$`);
    // Emmett creates each function only if no function of that name exists in *any* schema
    // (pg_proc by name), so copies elsewhere in this database would leave its schema without them.
    const stray = await client.query(
      `select n.nspname || '.' || p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where (p.proname like 'emt\\_%' or p.proname in ('store_processor_checkpoint', 'add_module', 'add_tenant', 'add_module_for_all_tenants',
              'add_tenant_for_all_modules')) and n.nspname <> $1`,
      [EMMETT_SCHEMA],
    );
    if (stray.rowCount > 0) {
      throw new Error(`Emmett functions exist outside schema ${EMMETT_SCHEMA} in ${BENCH_DATABASE} (${stray.rows.map((r) => r.name).join(', ')}); Emmett would not create its own. Drop them first.`);
    }
    return await postgresSettings(client);
  } finally {
    await client.end();
  }
}

async function runCoordinator(argv) {
  const { quick, size } = benchSize(argv, SIZES);

  const { default: pg } = await import('pg');
  const { migrate } = await import('@clearline/postgres');
  const { eventStoreMigrations } = await import('@clearline/event-store');

  const runStarted = performance.now();
  const server = await prepareDatabase(pg);
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await migrate(admin, [eventStoreMigrations()]);

  const machine = {
    cpus: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: server.version,
    fsync: server.fsync,
    synchronous_commit: server.synchronous_commit,
    shared_buffers: server.shared_buffers,
  };
  console.log(
    `event store benchmark${quick ? ' (--quick)' : ''}: ${machine.cpus} cpus, ${machine.memory_gib} GiB, PostgreSQL ${machine.postgres} ` +
      `(fsync ${machine.fsync}, synchronous_commit ${machine.synchronous_commit}), node ${machine.node}, database ${BENCH_DATABASE}, ${size.reps} reps per row`,
  );

  const workers = { ours: startWorker('ours'), emmett: startWorker('emmett') };
  try {
    await Promise.all([workers.ours.ready, workers.emmett.ready]);
    for (const worker of Object.values(workers)) await worker.call('warmUp');

    const rows = [
      { key: 'single_append_1_writer', label: 'single-event appends, 1 writer', unit: 'appends/s', op: 'singleAppends',
        params: { appends: size.singleAppends, streams: size.singleStreams } },
      { key: 'single_append_8_writers', label: `single-event appends, ${WRITERS} writers`, unit: 'appends/s', op: 'concurrentAppends',
        params: { writers: WRITERS, appendsPerWriter: size.concurrentAppendsPerWriter, streamsPerWriter: size.concurrentStreamsPerWriter } },
      { key: 'batched_append', label: `batched appends (${BATCH_SIZE}/append)`, unit: 'events/s', op: 'batchedAppends',
        params: { appends: size.batchedAppends, batchSize: BATCH_SIZE } },
      { key: 'read_all', label: `$all read (pages of ${READ_PAGE_SIZE})`, unit: 'events/s', op: 'readAll', params: { pageSize: READ_PAGE_SIZE },
        before: 'vacuum analyze' },
      { key: 'catch_up', label: `catch-up subscription (${size.catchUpEvents} events)`, unit: 'events/s', op: 'catchUp',
        params: { events: size.catchUpEvents } },
      { key: 'live_lag_p99', label: `live lag p99 (${size.lagRatePerSecond}/s appends)`, unit: 'ms', lowerIsBetter: true, op: 'liveLag',
        params: { ratePerSecond: size.lagRatePerSecond, durationMs: size.lagDurationMs } },
    ];

    for (const [index, row] of rows.entries()) {
      if (row.before !== undefined) await admin.query(row.before);
      if (row.op === 'catchUp') {
        // Fewer than $all holds, so that there is an event after them (a --quick run writes fewer).
        const read = rows.find((other) => other.op === 'readAll');
        row.params.events = Math.min(row.params.events, Math.floor(0.8 * Math.min(...read.details.ours.map((d) => d.count))));
        row.label = `catch-up subscription (${row.params.events} events)`;
      }
      row.runs = { ours: [], emmett: [] };
      row.details = { ours: [], emmett: [] };
      for (let rep = 0; rep < size.reps; rep += 1) {
        const order = rep % 2 === 0 ? ['ours', 'emmett'] : ['emmett', 'ours'];
        for (const kind of order) {
          await admin.query('checkpoint'); // flush dirty pages now rather than in the middle of a measurement
          const result = await workers[kind].call(row.op, row.params);
          row.runs[kind].push(result.value);
          row.details[kind].push(result);
        }
      }
      row.ours = median(row.runs.ours);
      row.emmett = median(row.runs.emmett);
      // Always "> 1 means ours is better": ours/Emmett for throughput, Emmett/ours for lag.
      row.ratio = row.lowerIsBetter ? row.emmett / row.ours : row.ours / row.emmett;
      const lost = row.op === 'catchUp' ? `  (events skipped by the subscriber: ours ${row.details.ours.map((d) => d.lost).join('/')}, Emmett ${row.details.emmett.map((d) => d.lost).join('/')})` : '';
      const extra = lost + (row.op === 'liveLag' ? `  (p50 ours ${fmt(median(row.details.ours.map((d) => d.p50)))} ms, Emmett ${fmt(median(row.details.emmett.map((d) => d.p50)))} ms)` : '');
      console.log(
        `[${index + 1}/${rows.length}] ${row.label}: ours ${fmt(row.ours)} ${row.unit} [${row.runs.ours.map(fmt).join(', ')}], ` +
          `Emmett ${fmt(row.emmett)} ${row.unit} [${row.runs.emmett.map(fmt).join(', ')}], ratio ${row.ratio.toFixed(2)}${extra}`,
      );
    }

    const totalEvents = rows.find((row) => row.op === 'readAll').details;
    // Heap + indexes + TOAST per stored event (informational: what each store writes per event).
    const storage = (
      await admin.query(
        `select (select pg_total_relation_size('event_store.messages'))::float8 / greatest((select count(*) from event_store.messages), 1) as ours,
                (select sum(pg_total_relation_size(relid)) from pg_partition_tree('${EMMETT_SCHEMA}.emt_messages'))::float8
                  / greatest((select count(*) from ${EMMETT_SCHEMA}.emt_messages), 1) as emmett`,
      )
    ).rows[0];
    printRows(rows);
    console.log(`storage per event (messages table + its indexes): ours ${Math.round(storage.ours)} B, Emmett ${Math.round(storage.emmett)} B`);
    const byKey = Object.fromEntries(rows.map((row) => [row.key, row]));
    const minRatio = Math.min(...rows.map((row) => row.ratio));
    const goals = {
      batched_append_ge_50000: byKey.batched_append.ours >= 50_000,
      read_all_ge_200000: byKey.read_all.ours >= 200_000,
      ahead_of_emmett_on_every_row: minRatio > 1,
    };
    console.log(
      `goals: batched append >= 50,000 events/s: ${goals.batched_append_ge_50000 ? 'MET' : 'NOT MET'}; ` +
        `$all read >= 200,000 events/s: ${goals.read_all_ge_200000 ? 'MET' : 'NOT MET'}; ` +
        `ahead of Emmett on every row: ${goals.ahead_of_emmett_on_every_row ? 'MET' : 'NOT MET'} (lowest ratio ${minRatio.toFixed(2)})`,
    );
    const summary = {
      benchmark: 'event-store',
      quick,
      reps: size.reps,
      batched_append_events_per_s: round(byKey.batched_append.ours),
      read_all_events_per_s: round(byKey.read_all.ours),
      min_ratio_vs_emmett: Math.round(minRatio * 100) / 100,
      ratio_note: 'ours/Emmett for throughput rows, Emmett/ours for live_lag_p99 (lower is better there): > 1 always means ours is better',
      goals,
      rows: Object.fromEntries(
        rows.map((row) => [
          row.key,
          {
            unit: row.unit,
            ours: round(row.ours),
            emmett: round(row.emmett),
            ratio: Math.round(row.ratio * 100) / 100,
            runs: { ours: row.runs.ours.map(round), emmett: row.runs.emmett.map(round) },
            ...(row.op === 'catchUp'
              ? { events: row.params.events, skipped_by_subscriber: { ours: row.details.ours.map((d) => d.lost), emmett: row.details.emmett.map((d) => d.lost) } }
              : {}),
            ...(row.op === 'liveLag'
              ? {
                  p50_ms: { ours: round(median(row.details.ours.map((d) => d.p50))), emmett: round(median(row.details.emmett.map((d) => d.p50))) },
                  samples_per_run: row.details.ours[0].samples,
                }
              : {}),
          },
        ]),
      ),
      storage_bytes_per_event: { ours: Math.round(storage.ours), emmett: Math.round(storage.emmett) },
      events_read_all: { ours: totalEvents.ours[0].count, emmett: totalEvents.emmett[0].count },
      machine,
      elapsed_s: Math.round((performance.now() - runStarted) / 100) / 10,
    };
    for (const worker of Object.values(workers)) await worker.call('close');
    console.log(JSON.stringify(summary));
  } finally {
    await admin.end();
  }
}

function printRows(rows) {
  const header = ['row', 'ours', 'Emmett', 'ratio'];
  const lines = rows.map((row) => [
    `${row.label} (${row.unit})`,
    fmt(row.ours),
    fmt(row.emmett),
    `${row.ratio.toFixed(2)}${row.lowerIsBetter ? ' (Emmett/ours)' : ''}`,
  ]);
  printTable(header, lines);
}

const workerIndex = process.argv.indexOf('--worker');
if (workerIndex !== -1) {
  await runWorker(process.argv[workerIndex + 1]);
} else {
  try {
    await runCoordinator(process.argv.slice(2));
  } catch (error) {
    console.error(`event store benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    process.exit(1);
  }
  process.exit(0);
}

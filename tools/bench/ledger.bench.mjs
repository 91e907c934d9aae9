// Benchmark: the hot-account ledger writer (apps/ledger LedgerBatchWriter: single writer, state in
// memory, one event-store append per batch) against the design most teams would pick instead (a
// `balances` table, one transaction per transfer with SELECT ... FOR UPDATE on both accounts in id
// order, from a pool of concurrent workers), on the same PostgreSQL, in the same run.
//
//   npm run bench:ledger               # builds, `infra up`, then this script
//   npm run bench:ledger -- --quick    # shorter rows (a smoke run)
//   node tools/bench/ledger.bench.mjs [--quick] [--reps=N]   # when everything is built and PostgreSQL is up
//
// Workload: 10,000 funded customer wallets (EUR, debits must not exceed credits) and one merchant
// account; each transfer debits a random wallet and credits the merchant with probability 0.8,
// another random wallet otherwise (1-100 minor units, so funds never run out).
// Rows, each repeated `reps` times (median reported), the two designs alternating:
//   (a) batch writer, saturation: a closed loop keeps `SATURATION_IN_FLIGHT` transfers submitted;
//       transfers committed per second.
//   (b) batch writer, latency at a fixed offered rate (5,000/s, or 80 % of (a) when (a) is below
//       5,500/s): an open loop submits on a schedule; latency = result resolved (append committed)
//       - scheduled submit time (so a late submit counts against us). p50 / p99.
//   (c) row locks: ROW_LOCK_WORKERS workers, each a loop of one transaction per transfer.
//   (d) the ledger service's command path through Kafka (MessageConsumer as apps/ledger runs it,
//       LedgerCommandHandler, the same writer): `kafkaTransfers` published first, then consumed;
//       transfers committed per second from the first handled to the last.
//   (e) the same at a fixed offered rate (5,000/s, or 50 % of (d): the publisher now shares the
//       process; or --kafka-rate=N): latency = result committed - scheduled publish time (publish,
//       broker, fetch, chunk, batch, append).
// Output: progress lines, a table, where the batch writer's time goes, then ONE final line of JSON
// on stdout (the last line). See docs/benchmarks.md ("Ledger").
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { benchSize, fmt, median, percentile, postgresSettings, printTable, round } from './bench-support.mjs';

const SERVER_URL = (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const BENCH_DATABASE = 'clearline_bench';
const DATABASE_URL = `${SERVER_URL}/${BENCH_DATABASE}`;
/** Our event store lives here (its own schema, dropped at the start of each run); the row-lock design in the next. */
const STORE_SCHEMA = 'ledger_bench_store';
const ROW_LOCK_SCHEMA = 'ledger_bench_row_lock';
const ACCOUNTS = 10_000;
const HOT_SHARE = 0.8;
const FUNDING_MINOR = 100_000_000n;
const TARGET_RATE_PER_S = 5_000;
const SATURATION_IN_FLIGHT = 8_000;
const ROW_LOCK_WORKERS = 16;
const POOL_SIZE = 20;

const SIZES = {
  full: { reps: 3, saturationMs: 15_000, latencyMs: 10_000, rowLockMs: 15_000, kafkaTransfers: 30_000 },
  quick: { reps: 1, saturationMs: 4_000, latencyMs: 3_000, rowLockMs: 4_000, kafkaTransfers: 6_000 },
};

const walletId = (index) => `w${String(index).padStart(5, '0')}`;
const MERCHANT = 'merchant-hot';
const FUNDING = 'funding';

// ------------------------------------------------------------------------------- workload ---

/** A small seeded generator, so both designs see the same sequence of transfers. */
function generator(seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
  return () => {
    const debit = Math.floor(next() * ACCOUNTS);
    let credit = -1; // the merchant
    if (next() >= HOT_SHARE) {
      credit = Math.floor(next() * ACCOUNTS);
      if (credit === debit) credit = (credit + 1) % ACCOUNTS;
    }
    return { debit, credit, amountMinor: 1 + Math.floor(next() * 100) };
  };
}

const transferCommand = ({ debit, credit, amountMinor }) => ({
  type: 'PostTransfer',
  data: {
    transferId: randomUUID(),
    debitAccountId: walletId(debit),
    creditAccountId: credit < 0 ? MERCHANT : walletId(credit),
    amount: { amountMinor: String(amountMinor), currency: 'EUR' },
  },
});

// ----------------------------------------------------------------------------- batch writer ---

async function setUpBatchWriter(pool) {
  const { PostgresEventStore } = await import('@clearline/event-store');
  const { LedgerBatchWriter } = await import('../../apps/ledger/dist/ledger-batch-writer.js');
  const store = new PostgresEventStore(pool, { schema: STORE_SCHEMA });
  const writer = new LedgerBatchWriter({ pool, store, partition: `bench-${randomUUID()}`, maxBatchCommands: 1_000, maxQueuedCommands: 10_000 });
  await writer.start();
  return { store, writer };
}

async function submitAll(writer, commands, inFlight = 5_000) {
  const pending = new Set();
  const results = [];
  for (const command of commands) {
    const promise = writer.submit(command).then((result) => {
      results.push(result);
      pending.delete(promise);
    });
    pending.add(promise);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  return results;
}

async function openAndFund(writer) {
  const open = (accountId, kind, extra = {}) => ({ type: 'OpenAccount', data: { accountId, ownerId: accountId, kind, currency: 'EUR', ...extra } });
  const opens = [open(FUNDING, 'funding', { allowNegativeBalance: true }), open(MERCHANT, 'merchant')];
  for (let index = 0; index < ACCOUNTS; index += 1) opens.push(open(walletId(index), 'customer_wallet'));
  const opened = await submitAll(writer, opens);
  if (opened.some((result) => result.status === 'rejected')) throw new Error('opening the accounts failed');
  console.log(`setup: ${opened.length.toLocaleString('en-US')} accounts opened`);
  const funds = Array.from({ length: ACCOUNTS }, (_, index) => ({
    type: 'PostTransfer',
    data: { transferId: randomUUID(), debitAccountId: FUNDING, creditAccountId: walletId(index), amount: { amountMinor: String(FUNDING_MINOR), currency: 'EUR' } },
  }));
  const funded = await submitAll(writer, funds);
  const refused = funded.filter((result) => result.status !== 'accepted');
  if (refused.length > 0) throw new Error(`funding the accounts failed: ${refused.length} refused, e.g. ${JSON.stringify(refused[0].reasonCode)}`);
}

/** (a) Closed loop: keep `inFlight` transfers submitted for `durationMs`; transfers committed per second. */
async function saturation(writer, next, durationMs) {
  const before = writer.stats();
  let committed = 0;
  let rejected = 0;
  let failed = 0;
  const pending = new Set();
  const started = performance.now();
  const deadline = started + durationMs;
  while (performance.now() < deadline) {
    while (pending.size < SATURATION_IN_FLIGHT) {
      const promise = writer.submit(transferCommand(next())).then(
        (result) => {
          if (result.status === 'accepted') committed += 1;
          else rejected += 1;
        },
        () => {
          failed += 1;
        },
      ).finally(() => pending.delete(promise));
      pending.add(promise);
    }
    await Promise.race(pending);
  }
  const countedAt = performance.now();
  const countedCommitted = committed;
  await Promise.all(pending);
  const drainedAt = performance.now();
  const seconds = (countedAt - started) / 1_000;
  // The breakdown covers everything submitted, so it runs until the last in-flight batch committed.
  return { value: countedCommitted / seconds, rejected, failed, breakdown: breakdownOf(before, writer.stats(), drainedAt - started) };
}

/** (b) Open loop at `ratePerSecond`: latency from the scheduled submit to the committed result. */
async function fixedRate(writer, next, ratePerSecond, durationMs) {
  const latencies = [];
  let failed = 0;
  const total = Math.round((ratePerSecond * durationMs) / 1_000);
  const pending = new Set();
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - started) * ratePerSecond) / 1_000) + 1);
    for (; sent < due; sent += 1) {
      const scheduledAt = started + (sent * 1_000) / ratePerSecond;
      const promise = writer.submit(transferCommand(next())).then(
        () => latencies.push(performance.now() - scheduledAt),
        () => {
          failed += 1;
        },
      ).finally(() => pending.delete(promise));
      pending.add(promise);
    }
    await sleep(1);
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1), samples: latencies.length, failed };
}

function breakdownOf(before, after, wallMs) {
  const delta = (key) => after[key] - before[key];
  const commands = delta('commands');
  const batches = delta('batches');
  return {
    batches,
    commands_per_batch: batches === 0 ? 0 : Math.round(commands / batches),
    events_per_transfer: commands === 0 ? 0 : Math.round((delta('events') / commands) * 100) / 100,
    conflicts: delta('conflicts'),
    streams_loaded: delta('streamsLoaded'),
    ms: {
      wall: Math.round(wallMs),
      load: Math.round(delta('loadMs')),
      decide: Math.round(delta('decideMs')),
      prepare: Math.round(delta('prepareMs')),
      append_and_commit: Math.round(delta('appendMs')),
      snapshot: Math.round(delta('snapshotMs')),
    },
    us_per_transfer: commands === 0 ? {} : {
      decide: round((delta('decideMs') * 1_000) / commands),
      prepare: round((delta('prepareMs') * 1_000) / commands),
      append_and_commit: round((delta('appendMs') * 1_000) / commands),
    },
    appended_events_per_s_while_appending: delta('appendMs') === 0 ? 0 : Math.round(delta('events') / (delta('appendMs') / 1_000)),
  };
}

// -------------------------------------------------------------------------------- row locks ---

async function setUpRowLocks(pool) {
  await pool.query(`
    create table ${ROW_LOCK_SCHEMA}.balances (account_id text primary key, balance_minor bigint not null, may_overdraw boolean not null);
    create table ${ROW_LOCK_SCHEMA}.transfers (transfer_id uuid primary key, debit_account_id text not null, credit_account_id text not null,
      amount_minor bigint not null, created_at timestamptz not null default now());
    insert into ${ROW_LOCK_SCHEMA}.balances (account_id, balance_minor, may_overdraw) values ('${FUNDING}', 0, true), ('${MERCHANT}', 0, false);
    insert into ${ROW_LOCK_SCHEMA}.balances (account_id, balance_minor, may_overdraw)
      select 'w' || lpad(i::text, 5, '0'), ${FUNDING_MINOR}, false from generate_series(0, ${ACCOUNTS - 1}) i;
    update ${ROW_LOCK_SCHEMA}.balances set balance_minor = -${FUNDING_MINOR * BigInt(ACCOUNTS)} where account_id = '${FUNDING}';`);
  await pool.query(`vacuum analyze ${ROW_LOCK_SCHEMA}.balances`);
}

/** One transfer as most teams write it: lock both rows in id order, check, update both, record the transfer. */
async function rowLockTransfer(client, { debit, credit, amountMinor }) {
  const debitId = walletId(debit);
  const creditId = credit < 0 ? MERCHANT : walletId(credit);
  await client.query('begin');
  try {
    const { rows } = await client.query(
      `select account_id, balance_minor, may_overdraw from ${ROW_LOCK_SCHEMA}.balances where account_id = any($1) order by account_id for update`,
      [[debitId, creditId]],
    );
    const debitRow = rows.find((row) => row.account_id === debitId);
    if (!debitRow.may_overdraw && BigInt(debitRow.balance_minor) < BigInt(amountMinor)) {
      await client.query('rollback');
      return false;
    }
    await client.query(`update ${ROW_LOCK_SCHEMA}.balances set balance_minor = balance_minor - $2 where account_id = $1`, [debitId, amountMinor]);
    await client.query(`update ${ROW_LOCK_SCHEMA}.balances set balance_minor = balance_minor + $2 where account_id = $1`, [creditId, amountMinor]);
    await client.query(`insert into ${ROW_LOCK_SCHEMA}.transfers (transfer_id, debit_account_id, credit_account_id, amount_minor) values ($1, $2, $3, $4)`,
      [randomUUID(), debitId, creditId, amountMinor]);
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** (c) ROW_LOCK_WORKERS workers, each on its own connection, one transaction per transfer, for `durationMs`. */
async function rowLocks(pool, next, durationMs) {
  const latencies = [];
  let committed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(Array.from({ length: ROW_LOCK_WORKERS }, async () => {
    const client = await pool.connect();
    try {
      while (performance.now() < deadline) {
        const began = performance.now();
        if (await rowLockTransfer(client, next())) committed += 1;
        latencies.push(performance.now() - began);
      }
    } finally {
      client.release();
    }
  }));
  const seconds = (performance.now() - started) / 1_000;
  latencies.sort((a, b) => a - b);
  return { value: committed / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

// ---------------------------------------------------------------------------- through Kafka ---

const KAFKA_PARTITIONS = 3;
const PUBLISH_CHUNK = 1_000;

/**
 * The ledger service's own command path, in this process: PostTransfer envelopes on a Kafka topic
 * of the run's own (3 partitions, like ledger.commands), a MessageConsumer as apps/ledger configures
 * it (inbox, chunks of up to 100, handlerConcurrency 'chunk', 3 partitions at once) and the
 * service's LedgerCommandHandler submitting to the same writer as rows (a) and (b).
 */
async function setUpKafkaPath(pool) {
  const messaging = await import('@clearline/messaging');
  const { contractFor } = await import('@clearline/contracts');
  const { LedgerCommandHandler } = await import('../../apps/ledger/dist/ledger-command.handler.js');
  await (await import('@clearline/postgres')).migrate(pool, [messaging.messagingMigrations]);
  const settings = { ...messaging.kafkaSettingsFromEnv('clearline-bench-ledger'), logLevel: 'nothing' };
  const handler = new LedgerCommandHandler(messaging.silentLogger);
  const topics = [];
  const groups = [];
  const schemaVersion = contractFor('PostTransfer').schemaVersion;
  const envelopeOf = (command) => {
    const id = randomUUID();
    return { id, type: command.type, schemaVersion, data: command.data, metadata: { correlationId: id, causationId: id, occurredAt: new Date().toISOString(), producer: 'bench-ledger' } };
  };

  /** A fresh topic with a publisher to it, and a consumer of it (started on demand) that calls `onResult`. */
  async function lane(writer, onResult) {
    const topic = `bench.ledger.${randomUUID().slice(0, 8)}`;
    await messaging.ensureTopics(settings, [topic], { partitions: KAFKA_PARTITIONS });
    topics.push(topic);
    const groupId = `bench-ledger-${randomUUID().slice(0, 8)}`;
    groups.push(groupId);
    const publisher = new messaging.MessagePublisher({ settings, producerName: 'bench-ledger', logger: messaging.silentLogger, metrics: new Registry(), topicOverride: () => topic });
    await publisher.connect();
    const consumer = new messaging.MessageConsumer({
      settings, groupId, topics: [topic], pool, logger: messaging.silentLogger, metrics: new Registry(),
      handlerConcurrency: 'chunk', partitionsConsumedConcurrently: KAFKA_PARTITIONS,
      handle: async (envelope) => {
        const result = await handler.handle(envelope, writer);
        onResult(envelope, result);
      },
    });
    return {
      publisher,
      consumer,
      close: async () => {
        await consumer.stop();
        await publisher.disconnect();
      },
    };
  }

  async function cleanUp() {
    if (topics.length > 0) await messaging.deleteTopics(settings, topics).catch(() => undefined);
    if (groups.length > 0) await pool.query('delete from messaging.inbox where consumer_group = any($1)', [groups]);
  }
  return { lane, envelopeOf, cleanUp };
}

/** (d) `count` transfers published first, then consumed: transfers committed per second, first handled to last. */
async function kafkaSaturation(kafka, writer, next, count) {
  let handled = 0;
  let accepted = 0;
  let firstAt;
  let lastAt;
  let done;
  const allHandled = new Promise((resolve) => {
    done = resolve;
  });
  const { publisher, consumer, close } = await kafka.lane(writer, (_, result) => {
    const now = performance.now();
    firstAt ??= now;
    lastAt = now;
    handled += 1;
    if (result.status === 'accepted') accepted += 1;
    if (handled === count) done();
  });
  try {
    for (let sent = 0; sent < count; sent += PUBLISH_CHUNK) {
      const envelopes = [];
      for (let index = sent; index < Math.min(count, sent + PUBLISH_CHUNK); index += 1) envelopes.push(kafka.envelopeOf(transferCommand(next())));
      await publisher.publish(envelopes);
    }
    const before = writer.stats();
    await consumer.start();
    await allHandled;
    const seconds = (lastAt - firstAt) / 1_000;
    return { value: (handled - 1) / seconds, accepted, breakdown: breakdownOf(before, writer.stats(), lastAt - firstAt) };
  } finally {
    await close();
  }
}

/** (e) Open loop through Kafka at `ratePerSecond`: latency from the scheduled publish to the committed result. */
async function kafkaFixedRate(kafka, writer, next, ratePerSecond, durationMs) {
  const scheduled = new Map();
  const latencies = [];
  const { publisher, consumer, close } = await kafka.lane(writer, (envelope) => {
    const at = scheduled.get(envelope.id);
    if (at === undefined) return;
    scheduled.delete(envelope.id);
    latencies.push(performance.now() - at);
  });
  try {
    await consumer.start();
    const total = Math.round((ratePerSecond * durationMs) / 1_000);
    const started = performance.now();
    let sent = 0;
    // One publish in flight; what falls due meanwhile goes in the next one (a producer's linger),
    // since a publish per due message would measure kafkajs' request queue, not the ledger.
    let publishing = Promise.resolve();
    let waiting = [];
    const flush = () => {
      const envelopes = waiting;
      waiting = [];
      return publisher.publish(envelopes);
    };
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * ratePerSecond) / 1_000) + 1);
      for (; sent < due; sent += 1) {
        const envelope = kafka.envelopeOf(transferCommand(next()));
        scheduled.set(envelope.id, started + (sent * 1_000) / ratePerSecond);
        waiting.push(envelope);
      }
      if (waiting.length > 0) publishing = publishing.then(() => (waiting.length > 0 ? flush() : undefined));
      await sleep(1);
    }
    await publishing;
    const deadline = performance.now() + 30_000;
    while (latencies.length < total && performance.now() < deadline) await sleep(20);
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1), samples: latencies.length, missing: total - latencies.length };
  } finally {
    await close();
  }
}

// ------------------------------------------------------------------------------ coordinator ---

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
    // Only this benchmark's schemas (and its store's migration records) are reset; other benchmarks share the database.
    await client.query(`drop schema if exists ${STORE_SCHEMA} cascade; drop schema if exists ${ROW_LOCK_SCHEMA} cascade; create schema ${ROW_LOCK_SCHEMA};`);
    await client.query(`do $$ begin
        if to_regclass('public.schema_migrations') is not null then delete from public.schema_migrations where owner = 'event-store:${STORE_SCHEMA}'; end if;
      end $$`);
    return await postgresSettings(client);
  } finally {
    await client.end();
  }
}

async function main(argv) {
  const { quick, size } = benchSize(argv, SIZES);
  // --kafka-rate=N: row (e) at N transfers/s instead of 5,000 or 50 % of (d).
  const kafkaRateArgument = argv.find((argument) => argument.startsWith('--kafka-rate='));
  const kafkaRateOption = kafkaRateArgument === undefined ? undefined : Number(kafkaRateArgument.slice('--kafka-rate='.length));
  if (kafkaRateOption !== undefined && !(Number.isInteger(kafkaRateOption) && kafkaRateOption > 0)) throw new RangeError(`--kafka-rate must be a positive integer, got '${kafkaRateArgument}'`);

  const { default: pg } = await import('pg');
  const { createPool, migrate } = await import('@clearline/postgres');
  const { eventStoreMigrations } = await import('@clearline/event-store');
  const runStarted = performance.now();
  const server = await prepareDatabase(pg);
  const pool = createPool({ connectionString: DATABASE_URL, max: POOL_SIZE, applicationName: 'bench-ledger' });
  try {
    await migrate(pool, [eventStoreMigrations({ schema: STORE_SCHEMA })]);
    const machine = {
      cpus: os.availableParallelism(),
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      load_average_at_start: os.loadavg().map((value) => Math.round(value * 100) / 100),
      node: process.version,
      postgres: server.version,
      fsync: server.fsync,
      synchronous_commit: server.synchronous_commit,
      shared_buffers: server.shared_buffers,
    };
    console.log(
      `ledger benchmark${quick ? ' (--quick)' : ''}: ${machine.cpus} cpus, load ${machine.load_average_at_start.join(' ')}, PostgreSQL ${machine.postgres} ` +
        `(fsync ${machine.fsync}, synchronous_commit ${machine.synchronous_commit}), node ${machine.node}, database ${BENCH_DATABASE}, ${size.reps} reps per row`,
    );

    const setupStarted = performance.now();
    const { writer } = await setUpBatchWriter(pool);
    try {
      await openAndFund(writer);
      await setUpRowLocks(pool);
    } catch (error) {
      await writer.stop(); // it holds a pooled session (its lock) that pool.end() would wait for
      throw error;
    }
    const setupSeconds = (performance.now() - setupStarted) / 1_000;
    console.log(`setup: ${ACCOUNTS.toLocaleString('en-US')} wallets opened and funded through the batch writer, and the balances table, in ${setupSeconds.toFixed(1)} s`);

    const kafka = await setUpKafkaPath(pool);
    const runs = { saturation: [], latency: [], rowLock: [], kafkaSaturation: [], kafkaLatency: [] };
    for (let rep = 0; rep < size.reps; rep += 1) {
      const next = generator(1_000 + rep);
      const order = rep % 2 === 0 ? ['ours', 'rowLock'] : ['rowLock', 'ours'];
      for (const design of order) {
        await pool.query('checkpoint');
        if (design === 'rowLock') {
          const result = await rowLocks(pool, next, size.rowLockMs);
          runs.rowLock.push(result);
          console.log(`[rep ${rep + 1}/${size.reps}] (c) row locks, ${ROW_LOCK_WORKERS} workers: ${fmt(result.value)} transfers/s (transaction p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms)`);
          continue;
        }
        const saturated = await saturation(writer, next, size.saturationMs);
        runs.saturation.push(saturated);
        console.log(
          `[rep ${rep + 1}/${size.reps}] (a) batch writer at saturation: ${fmt(saturated.value)} transfers/s ` +
            `(${saturated.breakdown.commands_per_batch} per batch, ${saturated.breakdown.events_per_transfer} events per transfer, ${saturated.breakdown.conflicts} conflicts, ${saturated.failed} failed)`,
        );
        const rate = saturated.value >= TARGET_RATE_PER_S * 1.1 ? TARGET_RATE_PER_S : Math.floor((saturated.value * 0.8) / 100) * 100;
        await pool.query('checkpoint');
        const latency = await fixedRate(writer, next, rate, size.latencyMs);
        runs.latency.push({ ...latency, rate });
        console.log(`[rep ${rep + 1}/${size.reps}] (b) batch writer at ${fmt(rate)}/s offered: p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms, max ${fmt(latency.max)} ms (${latency.samples} transfers, ${latency.failed} failed)`);
        await pool.query('checkpoint');
        const viaKafka = await kafkaSaturation(kafka, writer, next, size.kafkaTransfers);
        runs.kafkaSaturation.push(viaKafka);
        console.log(
          `[rep ${rep + 1}/${size.reps}] (d) through Kafka at saturation: ${fmt(viaKafka.value)} transfers/s ` +
            `(${fmt(size.kafkaTransfers)} published first, ${viaKafka.breakdown.commands_per_batch} per batch, ${viaKafka.accepted} accepted)`,
        );
        // Half of (d): in (e) the publisher runs beside the consumer on the same two cores, which (d) spared it.
        const kafkaRate = kafkaRateOption ?? (viaKafka.value >= TARGET_RATE_PER_S * 2 ? TARGET_RATE_PER_S : Math.floor((viaKafka.value * 0.5) / 100) * 100);
        await pool.query('checkpoint');
        const kafkaLatency = await kafkaFixedRate(kafka, writer, next, kafkaRate, size.latencyMs);
        runs.kafkaLatency.push({ ...kafkaLatency, rate: kafkaRate });
        console.log(
          `[rep ${rep + 1}/${size.reps}] (e) through Kafka at ${fmt(kafkaRate)}/s offered: p50 ${fmt(kafkaLatency.p50)} ms, p99 ${fmt(kafkaLatency.p99)} ms, ` +
            `max ${fmt(kafkaLatency.max)} ms (${kafkaLatency.samples} transfers, ${kafkaLatency.missing} missing)`,
        );
      }
    }
    const stats = writer.stats();
    await writer.stop();
    await kafka.cleanUp();

    const transfersPerSecond = median(runs.saturation.map((run) => run.value));
    const rowLockPerSecond = median(runs.rowLock.map((run) => run.value));
    const latencyRate = Math.min(...runs.latency.map((run) => run.rate));
    const p50 = median(runs.latency.map((run) => run.p50));
    const p99 = median(runs.latency.map((run) => run.p99));
    const ratio = transfersPerSecond / rowLockPerSecond;
    const kafkaPerSecond = median(runs.kafkaSaturation.map((run) => run.value));
    const kafkaLatencyRate = Math.min(...runs.kafkaLatency.map((run) => run.rate));
    const kafkaP50 = median(runs.kafkaLatency.map((run) => run.p50));
    const kafkaP99 = median(runs.kafkaLatency.map((run) => run.p99));
    const breakdown = runs.saturation[Math.floor(runs.saturation.length / 2)].breakdown;
    const rows = [
      ['(a) batch writer, saturation (transfers/s)', fmt(transfersPerSecond), runs.saturation.map((run) => fmt(run.value)).join(' / ')],
      [`(b) batch writer, p50 at ${fmt(latencyRate)}/s (ms)`, fmt(p50), runs.latency.map((run) => fmt(run.p50)).join(' / ')],
      [`(b) batch writer, p99 at ${fmt(latencyRate)}/s (ms)`, fmt(p99), runs.latency.map((run) => fmt(run.p99)).join(' / ')],
      [`(c) row locks, ${ROW_LOCK_WORKERS} workers (transfers/s)`, fmt(rowLockPerSecond), runs.rowLock.map((run) => fmt(run.value)).join(' / ')],
      ['ratio (a) / (c)', ratio.toFixed(2), ''],
      ['(d) through Kafka, saturation (transfers/s)', fmt(kafkaPerSecond), runs.kafkaSaturation.map((run) => fmt(run.value)).join(' / ')],
      [`(e) through Kafka, p50 at ${fmt(kafkaLatencyRate)}/s (ms)`, fmt(kafkaP50), runs.kafkaLatency.map((run) => fmt(run.p50)).join(' / ')],
      [`(e) through Kafka, p99 at ${fmt(kafkaLatencyRate)}/s (ms)`, fmt(kafkaP99), runs.kafkaLatency.map((run) => fmt(run.p99)).join(' / ')],
    ];
    printTable(['row', 'median', 'runs'], rows);
    const ms = breakdown.ms;
    console.log(
      `where the batch writer's time goes (a, median run, ${fmt(ms.wall)} ms wall): append+commit ${fmt(ms.append_and_commit)} ms, decide ${fmt(ms.decide)} ms, ` +
        `prepare events ${fmt(ms.prepare)} ms, load ${fmt(ms.load)} ms, snapshots ${fmt(ms.snapshot)} ms; per transfer: ${JSON.stringify(breakdown.us_per_transfer)} µs; ` +
        `${fmt(breakdown.appended_events_per_s_while_appending)} events/s while appending`,
    );
    const goals = {
      transfers_per_s_ge_20000: transfersPerSecond >= 20_000,
      p99_lt_50ms_at_5000: latencyRate >= TARGET_RATE_PER_S && p99 < 50,
      ratio_vs_row_lock_ge_10: ratio >= 10,
    };
    console.log(
      `goals: >= 20,000 transfers/s: ${goals.transfers_per_s_ge_20000 ? 'MET' : 'NOT MET'}; p99 < 50 ms at 5,000/s: ${goals.p99_lt_50ms_at_5000 ? 'MET' : latencyRate < TARGET_RATE_PER_S ? `NOT MEASURABLE (saturation below 5,500/s; measured at ${latencyRate}/s)` : 'NOT MET'}; ` +
        `>= 10x row locks: ${goals.ratio_vs_row_lock_ge_10 ? 'MET' : 'NOT MET'} (${ratio.toFixed(2)}x)`,
    );
    const summary = {
      benchmark: 'ledger',
      quick,
      reps: size.reps,
      accounts: ACCOUNTS,
      hot_share: HOT_SHARE,
      transfers_per_s: round(transfersPerSecond),
      p50_ms_at_5000: latencyRate === TARGET_RATE_PER_S ? round(p50) : null,
      p99_ms_at_5000: latencyRate === TARGET_RATE_PER_S ? round(p99) : null,
      latency_rate_per_s: latencyRate,
      p50_ms_at_rate: round(p50),
      p99_ms_at_rate: round(p99),
      row_lock_transfers_per_s: round(rowLockPerSecond),
      ratio_vs_row_lock: Math.round(ratio * 100) / 100,
      kafka_transfers_per_s: round(kafkaPerSecond),
      kafka_latency_rate_per_s: kafkaLatencyRate,
      kafka_p50_ms_at_rate: round(kafkaP50),
      kafka_p99_ms_at_rate: round(kafkaP99),
      goals,
      runs: {
        saturation: runs.saturation.map((run) => round(run.value)),
        latency: runs.latency.map((run) => ({ rate: run.rate, p50: round(run.p50), p99: round(run.p99), max: round(run.max) })),
        row_lock: runs.rowLock.map((run) => ({ transfers_per_s: round(run.value), p50_ms: round(run.p50), p99_ms: round(run.p99) })),
        kafka_saturation: runs.kafkaSaturation.map((run) => ({ transfers_per_s: round(run.value), commands_per_batch: run.breakdown.commands_per_batch })),
        kafka_latency: runs.kafkaLatency.map((run) => ({ rate: run.rate, p50: round(run.p50), p99: round(run.p99), max: round(run.max), missing: run.missing })),
      },
      breakdown_saturation_median_run: breakdown,
      writer_totals: { batches: stats.batches, commands: stats.commands, events: stats.events, conflicts: stats.conflicts },
      setup_s: round(setupSeconds),
      machine,
      elapsed_s: Math.round((performance.now() - runStarted) / 100) / 10,
    };
    console.log(JSON.stringify(summary));
  } finally {
    await pool.end();
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(`ledger benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  process.exit(1);
}
process.exit(0);

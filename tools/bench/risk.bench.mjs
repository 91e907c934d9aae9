// Benchmark: risk decisions (apps/risk), in-process and through Kafka.
//
//   npm run bench:risk               # builds, `infra up`, then this script
//   npm run bench:risk -- --quick    # shorter rows (a smoke run)
//   node tools/bench/risk.bench.mjs [--quick] [--reps=N] [--kafka-rate=N] [--kafka-only]   # when built and the infrastructure is up
//   (--kafka-only skips rows (a) and (b): for a CPU profile of the Kafka path, `node --cpu-prof ...`)
//
// Traffic: the seeded transaction simulator's payments (libs/risk-domain), so payers, devices and IPs
// repeat as in real traffic and the Lua script touches warm and cold keys alike; each repetition uses
// fresh Redis keys (its own prefix) and fresh payment ids. The shipped rule set and model decide,
// with 10,000 managed list entries loaded.
// Rows, each repeated `reps` times (median reported):
//   (a) in-process latency: one payment at a time, RedisFeatureStore.observe (the service's one Lua
//       script on the local Redis) + decideRisk; p50 / p99 per decision.
//   (b) in-process throughput: 64 payments in flight (Redis pipelines them); decisions/s.
//   (c) through Kafka at a fixed offered rate (2,000/s, or --kafka-rate=N): PaymentRequested envelopes
//       published on a schedule to a topic of 3 partitions; the service's own path consumes them
//       (MessageConsumer with the options apps/risk uses, inbox, RiskAssessor: Redis, decision,
//       append of RiskAssessed + inputs to the event store) and its outbox relay publishes
//       RiskAssessed to a second topic, where a listener reads it. Latency = RiskAssessed received -
//       scheduled publish time (a late publish counts against us). p50 / p99, and decisions/s.
//       Beside it, per decision: PostgreSQL statements by kind (node-postgres' Client.query counted in
//       this process), Redis commands and `evalsha` µs per call (INFO commandstats before and after:
//       the server's own counts, so other clients of the same Redis count too), the consumer's chunk
//       sizes (payments handed to the assessor in one tick on one connection) and the relay's batches,
//       and where a decision's time goes: p50 / p99 of each step (published, handed to the handler,
//       committed, read by the relay, acknowledged by the broker, received), in `steps_ms`.
// Database: `clearline_bench_risk` (dropped and created at every run; BENCH_POSTGRES_URL overrides the
// server): the event store, the inbox and the risk schema are migrated into it. Topics are created
// per run and deleted at the end. Output: progress lines, a table, then ONE final line of JSON on
// stdout (the last line). See docs/benchmarks.md ("Risk").
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { benchSize, fmt, median, percentile, postgresSettings, printTable, round } from './bench-support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const BENCH_DATABASE = 'clearline_bench_risk';
const SERVER_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const DATABASE_URL = `${SERVER_URL.replace(/\/+$/, '')}/${BENCH_DATABASE}`;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const GOALS = { p99_ms_in_process: 5, p99_ms_kafka_at_2000: 25 };
const KAFKA_RATE = 2_000;
const KAFKA_PARTITIONS = 3;
const THROUGHPUT_IN_FLIGHT = 64;
const LIST_ENTRIES = 10_000;
const SIZES = {
  full: { reps: 3, sequential: 10_000, throughput: 20_000, kafkaSeconds: 15, warmup: 2_000 },
  quick: { reps: 1, sequential: 2_000, throughput: 5_000, kafkaSeconds: 5, warmup: 500 },
};

/** Statements sent by every node-postgres client of this process, by kind (the first words that tell them apart). */
const statementCounts = new Map();
function countStatements(pg) {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text ?? '';
    const kind = /append_events/.test(text) ? 'append' : /select stream_id, version from/.test(text) ? 'stream version'
      : /messaging\.inbox/.test(text) ? 'inbox' : /^\s*(begin|commit|rollback)\b/i.test(text) ? 'begin/commit'
        : /from \S+\.messages/.test(text) && /xid8/.test(text) ? 'relay read' : /checkpoint/i.test(text) ? 'relay checkpoint' : 'other';
    statementCounts.set(kind, (statementCounts.get(kind) ?? 0) + 1);
    return query.call(this, config, ...rest);
  };
}

async function commandStats(redis) {
  const stats = new Map();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line);
    if (match) stats.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/** Per decision: statements by kind, Redis commands (scripts' inner calls included) and evalsha µs per call. */
function costPerDecision(statementsBefore, redisBefore, redisAfter, decisions) {
  const hundredths = (value) => Math.round(value * 100) / 100;
  const statements = Object.fromEntries([...statementCounts].map(([kind, count]) => [kind, hundredths((count - (statementsBefore.get(kind) ?? 0)) / decisions)]));
  const delta = (name) => ({ calls: (redisAfter.get(name)?.calls ?? 0) - (redisBefore.get(name)?.calls ?? 0), usec: (redisAfter.get(name)?.usec ?? 0) - (redisBefore.get(name)?.usec ?? 0) });
  let redisCommands = 0;
  for (const name of redisAfter.keys()) if (!['evalsha', 'eval', 'info'].includes(name)) redisCommands += delta(name).calls;
  const evalsha = delta('evalsha');
  return {
    pg_statements: statements,
    pg_statements_total: hundredths(Object.values(statements).reduce((sum, count) => sum + count, 0)),
    redis_commands: round(redisCommands / decisions),
    evalsha_per_decision: round(evalsha.calls / decisions),
    evalsha_usec_per_call: evalsha.calls === 0 ? null : round(evalsha.usec / evalsha.calls),
  };
}

async function prepareDatabase(pg) {
  const admin = new pg.Client({ connectionString: `${SERVER_URL.replace(/\/+$/, '')}/postgres` });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${BENCH_DATABASE} with (force)`);
    await admin.query(`create database ${BENCH_DATABASE}`);
    return await postgresSettings(admin);
  } finally {
    await admin.end();
  }
}

/** Simulated payments as PaymentRequested data would give them, with new ids and times per repetition. */
function paymentsFor(simulated, count, rep) {
  const payments = [];
  const base = Date.now();
  const first = simulated[0].payment.requestedAtMs;
  for (let index = 0; index < count; index += 1) {
    const { payment } = simulated[index % simulated.length];
    // The simulated day compressed 1,000-fold, in whole milliseconds as PaymentRequested carries them.
    payments.push({ ...payment, paymentId: randomUUID(), requestedAtMs: base + Math.floor((payment.requestedAtMs - first) / 1_000), payerAccountId: `${payment.payerAccountId}-r${rep}` });
  }
  return payments;
}

async function inProcessRows(domain, store, scorer, payments, warmup) {
  for (const payment of payments.slice(0, warmup)) domain.decideRisk({ payment, features: await store.observe(payment) }, scorer);
  const measured = payments.slice(warmup);
  const latencies = new Float64Array(measured.length);
  for (let index = 0; index < measured.length; index += 1) {
    const started = performance.now();
    const features = await store.observe(measured[index]);
    domain.decideRisk({ payment: measured[index], features }, scorer);
    latencies[index] = performance.now() - started;
  }
  latencies.sort();
  return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), count: measured.length };
}

async function throughputRow(domain, store, scorer, payments) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: THROUGHPUT_IN_FLIGHT }, async () => {
    while (next < payments.length) {
      const payment = payments[next++];
      domain.decideRisk({ payment, features: await store.observe(payment) }, scorer);
    }
  }));
  return payments.length / ((performance.now() - started) / 1_000);
}

function requestedEnvelope(payment) {
  return {
    id: randomUUID(), type: 'PaymentRequested', schemaVersion: 1,
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'bench-risk' },
    data: {
      paymentId: payment.paymentId, channel: payment.channel, merchantId: payment.merchantId, merchantAccountId: `${payment.merchantId}-account`,
      payerAccountId: payment.payerAccountId, amount: { amountMinor: payment.amountMinor.toString(), currency: payment.currency }, method: payment.method,
      riskContext: { ...(payment.ipAddress ? { ipAddress: payment.ipAddress } : {}), ...(payment.deviceId ? { deviceId: payment.deviceId } : {}) },
      requestedAt: new Date().toISOString(),
    },
  };
}

const STEPS = ['due', 'published', 'handed', 'committed', 'relayed', 'acknowledged', 'received'];

/**
 * Median and p99 of each step of a decision's path, from the previous step's mark: due -> published
 * (the open loop's own lateness), -> handed (Kafka in, the consumer's fetch), -> committed (Redis,
 * decision, append and the chunk's commit), -> relayed (the relay's wake-up and read), -> acknowledged
 * (the relay's produce), -> received (the listener's fetch).
 */
function stepPercentiles(marks) {
  const steps = {};
  for (let index = 1; index < STEPS.length; index += 1) {
    const [from, to] = [STEPS[index - 1], STEPS[index]];
    const spans = [...marks.values()].filter((payment) => payment[from] !== undefined && payment[to] !== undefined).map((payment) => payment[to] - payment[from]);
    const sorted = Float64Array.from(spans).sort();
    steps[`${from}_to_${to}`] = { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)) };
  }
  return steps;
}

/** The service's path (consumer -> assessor -> event store -> outbox relay) between two bench topics. */
async function kafkaRow({ messaging, serviceRuntime, risk, store, pool, redis, redisFeatures, controls, settings, payments, rate, seconds }) {
  const run = randomUUID().slice(0, 8);
  const inTopic = `bench.risk.${run}.payments`;
  const outTopic = `bench.risk.${run}.assessed`;
  await messaging.ensureTopics(settings, [inTopic, outTopic], { partitions: KAFKA_PARTITIONS });
  const logger = messaging.silentLogger;
  const assessor = new risk.assessor.RiskAssessor(store, redisFeatures, controls, logger);
  const chunkSizes = new Map();
  const chunks = [];
  // Where a decision's time goes: performance.now() at each step, per payment id.
  const marks = new Map();
  const mark = (paymentId, step) => {
    const payment = marks.get(paymentId);
    if (payment !== undefined && payment[step] === undefined) payment[step] = performance.now();
  };
  const consumer = new messaging.MessageConsumer({
    settings, groupId: `bench-risk-${run}`, topics: [inTopic], pool, logger, metrics: new Registry(), ...risk.worker.RISK_CONSUMER_OPTIONS,
    handle: (envelope, context) => {
      const handedOver = chunkSizes.get(context.client);
      if (handedOver === undefined) {
        chunkSizes.set(context.client, 1);
        queueMicrotask(() => {
          chunks.push(chunkSizes.get(context.client));
          chunkSizes.delete(context.client);
        });
      } else {
        chunkSizes.set(context.client, handedOver + 1);
      }
      const paymentId = envelope.data.paymentId;
      mark(paymentId, 'handed');
      context.afterCommit(() => mark(paymentId, 'committed'));
      return assessor.handle(envelope, context.client);
    },
  });
  const relayBatches = [];
  const relayPublisher = new messaging.MessagePublisher({ settings, producerName: `bench-risk-relay-${run}`, logger, metrics: new Registry(), topicOverride: () => outTopic });
  const relayPublish = relayPublisher.publish.bind(relayPublisher);
  relayPublisher.publish = (envelopes, options) => {
    relayBatches.push(envelopes.length);
    const assessed = envelopes.filter((envelope) => envelope.type === 'RiskAssessed').map((envelope) => envelope.data.paymentId);
    for (const paymentId of assessed) mark(paymentId, 'relayed');
    const published = relayPublish(envelopes, options);
    published.then(() => assessed.forEach((paymentId) => mark(paymentId, 'acknowledged')), () => undefined);
    return published;
  };
  const relay = new serviceRuntime.OutboxRelay({ name: `bench-risk-${run}`, categories: ['risk'], store, pool, publisher: relayPublisher, logger });
  const publisher = new messaging.MessagePublisher({ settings, producerName: `bench-risk-${run}`, logger, metrics: new Registry(), topicOverride: () => inTopic });
  const scheduled = new Map();
  const latencies = [];
  let firstAt = 0;
  let lastAt = 0;
  const listener = messaging.createKafka(settings, logger).consumer({ groupId: `bench-risk-listener-${run}`, maxWaitTimeInMs: 10 });
  try {
    await Promise.all([relayPublisher.connect(), publisher.connect()]);
    await relay.start();
    await consumer.start();
    await listener.connect();
    await listener.subscribe({ topic: outTopic, fromBeginning: true });
    await listener.run({
      eachMessage: async ({ message }) => {
        const now = performance.now();
        const envelope = JSON.parse(message.value.toString());
        const due = scheduled.get(envelope.data.paymentId);
        if (due === undefined) return;
        scheduled.delete(envelope.data.paymentId);
        latencies.push(now - due);
        const steps = marks.get(envelope.data.paymentId);
        if (steps !== undefined) steps.received = now;
        if (firstAt === 0) firstAt = now;
        lastAt = now;
      },
    });
    // Warm-up: a few payments through the whole path, so group joins and first fetches are not measured.
    const warm = payments.slice(0, 50).map(requestedEnvelope);
    for (const envelope of warm) scheduled.set(envelope.data.paymentId, performance.now());
    await publisher.publish(warm);
    const warmDeadline = performance.now() + 60_000;
    while (scheduled.size > 0 && performance.now() < warmDeadline) await sleep(20);
    latencies.length = 0;
    firstAt = 0;
    chunks.length = 0;
    relayBatches.length = 0;
    const statementsBefore = new Map(statementCounts);
    const redisBefore = await commandStats(redis);

    // Open loop: every tick publishes what fell due, in one call (one publish in flight at a time).
    const total = Math.min(rate * seconds, payments.length - 50);
    const envelopes = payments.slice(50, 50 + total).map(requestedEnvelope);
    const intervalMs = 1_000 / rate;
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const dueCount = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      if (dueCount > sent) {
        const batch = envelopes.slice(sent, dueCount);
        batch.forEach((envelope, offset) => {
          const due = started + (sent + offset) * intervalMs;
          scheduled.set(envelope.data.paymentId, due);
          marks.set(envelope.data.paymentId, { due });
        });
        sent = dueCount;
        const publishedAt = performance.now();
        for (const envelope of batch) marks.get(envelope.data.paymentId).published = publishedAt;
        await publisher.publish(batch);
      } else {
        await sleep(1);
      }
    }
    const deadline = performance.now() + 60_000;
    while (scheduled.size > 0 && performance.now() < deadline) await sleep(20);
    const cost = costPerDecision(statementsBefore, redisBefore, await commandStats(redis), Math.max(1, latencies.length));
    const sorted = Float64Array.from(latencies).sort();
    const mean = (values) => (values.length === 0 ? null : round(values.reduce((sum, value) => sum + value, 0) / values.length));
    return {
      ...cost,
      steps_ms: stepPercentiles(marks),
      chunk_size_mean: mean(chunks),
      chunks: chunks.length,
      relay_batch_mean: mean(relayBatches),
      relay_batches: relayBatches.length,
      offered: rate,
      sent: total,
      received: latencies.length,
      lost: scheduled.size,
      decisionsPerSecond: latencies.length / ((lastAt - started) / 1_000),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
    };
  } finally {
    await listener.disconnect().catch(() => undefined);
    await consumer.stop().catch(() => undefined);
    await relay.stop().catch(() => undefined);
    await Promise.all([publisher.disconnect(), relayPublisher.disconnect()]).catch(() => undefined);
    await messaging.deleteTopics(settings, [inTopic, outTopic]).catch(() => undefined);
  }
}

async function main(argv) {
  const { quick, size } = benchSize(argv, SIZES);
  const rateArgument = argv.find((argument) => argument.startsWith('--kafka-rate='));
  const kafkaOnly = argv.includes('--kafka-only');
  const rate = rateArgument === undefined ? KAFKA_RATE : Number(rateArgument.slice('--kafka-rate='.length));
  if (!(Number.isInteger(rate) && rate > 0)) throw new RangeError(`--kafka-rate must be a positive integer, got '${rateArgument}'`);
  process.env.DATABASE_URL = DATABASE_URL;

  const { default: pg } = await import('pg');
  const { Redis } = await import('ioredis');
  const { createPool, migrate } = await import('@clearline/postgres');
  const { eventStoreMigrations, PostgresEventStore } = await import('@clearline/event-store');
  const messaging = await import('@clearline/messaging');
  const serviceRuntime = await import('@clearline/service-runtime');
  const domain = await import('@clearline/risk-domain');
  const risk = {
    assessor: await import('../../apps/risk/dist/risk-assessor.js'),
    worker: await import('../../apps/risk/dist/risk.worker.js'),
    configuration: await import('../../apps/risk/dist/risk-configuration.js'),
    controls: await import('../../apps/risk/dist/risk-controls.js'),
    features: await import('../../apps/risk/dist/redis-feature-store.js'),
  };

  countStatements(pg);
  const server = await prepareDatabase(pg);
  const pool = createPool({ connectionString: DATABASE_URL, max: 10, applicationName: 'bench-risk' });
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const prefix = `bench-risk-${randomUUID().slice(0, 8)}`;
  try {
    await migrate(pool, [eventStoreMigrations(), messaging.messagingMigrations, { owner: 'risk', directory: join(root, 'apps/risk/migrations') }]);
    // Lists as an analyst team would have them: loaded from the table like the service does.
    await pool.query(
      `insert into risk.list_entries (kind, field, value, reason, added_by)
       select case when n % 10 = 0 then 'allow' else 'block' end, (array['payerAccountId','deviceId','ipAddress'])[1 + n % 3], 'bench-listed-' || n, 'bench', 'bench'
       from generate_series(1, ${LIST_ENTRIES}) n`,
    );
    await pool.query(`update risk.revisions set revision = revision + 1 where name = 'lists'`);
    const logger = messaging.silentLogger;
    const configuration = risk.configuration.loadRiskConfiguration(logger);
    const controls = new risk.controls.RiskControls(configuration, pool, logger);
    await controls.refresh();
    const scorer = controls.scorers().live;
    const machine = {
      cpus: os.availableParallelism(), cpu_model: os.cpus()[0]?.model ?? 'unknown', load_average_at_start: os.loadavg().map((value) => round(value)),
      node: process.version, postgres: server.version, fsync: server.fsync, synchronous_commit: server.synchronous_commit,
    };
    console.log(`risk benchmark${quick ? ' (--quick)' : ''}: ${machine.cpus} cpus, load ${machine.load_average_at_start.join(' ')}, node ${machine.node}, PostgreSQL ${machine.postgres}, rule set ${scorer.ruleSet.version}, model ${scorer.model?.version ?? 'none'}, ${LIST_ENTRIES.toLocaleString('en-US')} list entries, ${size.reps} reps per row`);

    const simulated = domain.simulateTraffic({ ...domain.DEFAULT_SIMULATION, seed: 11, payers: 2_000, warmupDays: 2, labelledDays: 1 });
    const settings = messaging.kafkaSettingsFromEnv('bench-risk');
    const runs = { sequential: [], throughput: [], kafka: [] };
    for (let rep = 0; rep < size.reps; rep += 1) {
      if (!kafkaOnly) {
        const store = new risk.features.RedisFeatureStore(redis, `${prefix}:${rep}`);
        const sequential = await inProcessRows(domain, store, scorer, paymentsFor(simulated, size.sequential + size.warmup, rep), size.warmup);
        runs.sequential.push(sequential);
        console.log(`rep ${rep + 1}: (a) in-process p50 ${sequential.p50.toFixed(3)} ms, p99 ${sequential.p99.toFixed(3)} ms over ${sequential.count} decisions`);
        const throughput = await throughputRow(domain, store, scorer, paymentsFor(simulated, size.throughput, rep + 100));
        runs.throughput.push(throughput);
        console.log(`rep ${rep + 1}: (b) in-process, ${THROUGHPUT_IN_FLIGHT} in flight: ${fmt(throughput)} decisions/s`);
      }
      await pool.query('checkpoint');
      const kafka = await kafkaRow({
        messaging, serviceRuntime, risk, store: new PostgresEventStore(pool), pool, redis, controls, settings,
        redisFeatures: new risk.features.RedisFeatureStore(redis, `${prefix}:kafka:${rep}`),
        payments: paymentsFor(simulated, rate * size.kafkaSeconds + 50, rep + 200), rate, seconds: size.kafkaSeconds,
      });
      runs.kafka.push(kafka);
      console.log(`rep ${rep + 1}: (c) through Kafka at ${rate}/s offered: ${kafka.received}/${kafka.sent} received, ${fmt(kafka.decisionsPerSecond)} decisions/s, p50 ${kafka.p50.toFixed(1)} ms, p99 ${kafka.p99.toFixed(1)} ms, max ${kafka.max.toFixed(1)} ms`);
      console.log(`rep ${rep + 1}: (c) steps, p50 / p99 ms: ${Object.entries(kafka.steps_ms).map(([step, span]) => `${step.replaceAll('_', ' ')} ${span.p50} / ${span.p99}`).join(', ')}`);
      console.log(`rep ${rep + 1}: (c) per decision: ${kafka.pg_statements_total} PostgreSQL statements ${JSON.stringify(kafka.pg_statements)}, ${kafka.redis_commands} Redis commands, evalsha ${kafka.evalsha_usec_per_call} µs/call; consumer chunks of ${kafka.chunk_size_mean} payments (${kafka.chunks}), relay batches of ${kafka.relay_batch_mean} (${kafka.relay_batches})`);
    }

    const result = {
      p99_ms_in_process: round(median(runs.sequential.map((entry) => entry.p99))),
      p50_ms_in_process: round(median(runs.sequential.map((entry) => entry.p50))),
      decisions_per_s_in_process: Math.round(median(runs.throughput)),
      p99_ms_kafka_at_2000: rate === KAFKA_RATE ? round(median(runs.kafka.map((entry) => entry.p99))) : null,
      kafka_rate_per_s: rate,
      p50_ms_kafka_at_rate: round(median(runs.kafka.map((entry) => entry.p50))),
      p99_ms_kafka_at_rate: round(median(runs.kafka.map((entry) => entry.p99))),
      kafka_decisions_per_s: Math.round(median(runs.kafka.map((entry) => entry.decisionsPerSecond))),
      kafka_lost: runs.kafka.reduce((sum, entry) => sum + entry.lost, 0),
    };
    const goals = {
      p99_ms_in_process: { goal: GOALS.p99_ms_in_process, met: result.p99_ms_in_process < GOALS.p99_ms_in_process },
      p99_ms_kafka_at_2000: { goal: GOALS.p99_ms_kafka_at_2000, met: result.p99_ms_kafka_at_2000 !== null && result.p99_ms_kafka_at_2000 < GOALS.p99_ms_kafka_at_2000 },
    };
    printTable(['row', 'median', 'runs'], [
      ['(a) in-process p50 (ms)', String(result.p50_ms_in_process), runs.sequential.map((entry) => round(entry.p50)).join(' / ')],
      ['(a) in-process p99 (ms)', String(result.p99_ms_in_process), runs.sequential.map((entry) => round(entry.p99)).join(' / ')],
      [`(b) in-process, ${THROUGHPUT_IN_FLIGHT} in flight (decisions/s)`, fmt(result.decisions_per_s_in_process), runs.throughput.map(fmt).join(' / ')],
      [`(c) Kafka at ${rate}/s p50 (ms)`, String(result.p50_ms_kafka_at_rate), runs.kafka.map((entry) => round(entry.p50)).join(' / ')],
      [`(c) Kafka at ${rate}/s p99 (ms)`, String(result.p99_ms_kafka_at_rate), runs.kafka.map((entry) => round(entry.p99)).join(' / ')],
      [`(c) Kafka decisions/s`, fmt(result.kafka_decisions_per_s), runs.kafka.map((entry) => fmt(entry.decisionsPerSecond)).join(' / ')],
    ]);
    console.log(`goals: in-process p99 < ${GOALS.p99_ms_in_process} ms ${goals.p99_ms_in_process.met ? 'met' : 'NOT met'}; Kafka p99 at 2,000/s < ${GOALS.p99_ms_kafka_at_2000} ms ${goals.p99_ms_kafka_at_2000.met ? 'met' : 'NOT met'}`);
    console.log(JSON.stringify({ benchmark: 'risk', quick, reps: size.reps, ...result, goals, machine, load_average_at_end: os.loadavg().map((value) => round(value)), runs }));
  } finally {
    const keys = await redis.keys(`${prefix}*`).catch(() => []);
    for (let index = 0; index < keys.length; index += 1_000) await redis.del(...keys.slice(index, index + 1_000)).catch(() => undefined);
    await redis.quit();
    await pool.end();
  }
}

await main(process.argv.slice(2));

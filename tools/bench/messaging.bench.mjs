// `npm run bench:messaging [-- --quick] [-- --reps=N]`: Kafka throughput of our wrappers
// (MessagePublisher, MessageConsumer with its PostgreSQL inbox, one transaction per chunk of up to
// 100 records of a partition) against bare kafkajs and bare
// @platformatic/kafka, in one run, on fresh topics of 3 partitions (deleted at the end, with the
// consumer groups and inbox rows of the run). docs/benchmarks.md (## Messaging) explains the rows.
//
// Every row sends or reads the same records: a contract-valid RiskAssessed envelope as JSON
// (about 450 bytes: four uuids and the metadata put a real envelope well above 300), keyed by
// payment id, with our seven message headers. Every producer is idempotent and waits for all
// in-sync replicas (acks = -1), and sends batches of BATCH records, one awaited call at a time, as
// the outbox relay does; the producers take turns in slices of 10 batches. Each consumer joins a
// fresh group and reads the records our publisher wrote in that repetition. Rows run REPS times
// (order rotated) and the MEDIAN of each is reported. The inbox lives in the PostgreSQL database
// `clearline_bench` (BENCH_DATABASE_URL, or BENCH_POSTGRES_URL for the server; created and
// migrated when missing), so dev and test data are never touched.
//
// Progress and tables go to stdout; the last stdout line is one JSON object (`summary` below).
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { assertValidEnvelope, contractFor, validateEnvelope } from '@clearline/contracts';
import {
  createKafka,
  deleteTopics,
  ensureTopics,
  envelopeHeaders,
  MessageConsumer,
  MessagePublisher,
  messagingMetrics,
  messagingMigrations,
  parseMessage,
} from '@clearline/messaging';
import { createPool, migrate } from '@clearline/postgres';
import { Consumer as PlatformaticConsumer, ProduceAcks, Producer as PlatformaticProducer, stringSerializers } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { pino } from 'pino';
import { Registry } from 'prom-client';

const { Kafka, Partitioners, logLevel } = kafkajs;

// ------------------------------------------------------------------------------ settings ---
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const REPS = Number(argv.find((argument) => argument.startsWith('--reps='))?.split('=')[1] ?? 3);
if (!Number.isInteger(REPS) || REPS < 1 || REPS > 9) throw new RangeError(`--reps must be 1..9, got ${REPS}`);
/** Records per produce row, and per consume row of the consumers that do no database work. */
const N_PRODUCE = QUICK ? 5_000 : 30_000;
/**
 * Records per consume row of our consumer with the real inbox. Since it commits a chunk of up to 100
 * records per transaction it reads as many as the other rows (it read 2,000 when it committed each).
 */
const N_INBOX = N_PRODUCE;
/** Records per producer call: the outbox relay's default batch. */
const BATCH = 500;
const PARTITIONS = 3;
const ROW_TIMEOUT_MS = QUICK ? 30_000 : 60_000;
/** Messages for the in-process breakdowns (no I/O) and transactions for the PostgreSQL ones. */
const MICRO_CPU = QUICK ? 3_000 : 10_000;
const MICRO_DB = QUICK ? 300 : 1_000;
const GOAL_PCT = 20;

const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((broker) => broker.trim()).filter(Boolean);
/** BENCH_DATABASE_URL names the database; else BENCH_POSTGRES_URL the server (as for the event-store bench). */
const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? `${(process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '')}/clearline_bench`;
const RUN = `bench-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
const settings = { clientId: 'clearline-bench', brokers: BROKERS, logLevel: 'warn' };

// Services hand our wrappers a pino logger at info; so does the bench (to /dev/null: the cost of
// the per-message child loggers is part of the wrapper, the console is not).
const logger = pino({ level: 'info', base: undefined }, pino.destination({ dest: '/dev/null', sync: false }));
const metrics = new Registry();
/** Bare kafkajs prints only errors, to stderr. */
const bareKafkajsLog = () => ({ namespace, log }) => process.stderr.write(`[kafkajs ${namespace}] ${log.message}\n`);

const log = (line) => process.stdout.write(`${line}\n`);
/** With `node --expose-gc` (the npm script), each row starts from a collected heap: less noise. */
const collectGarbage = () => globalThis.gc?.();
const median = (values) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const round = (value, digits = 0) => (value === null || value === undefined ? null : Number(value.toFixed(digits)));
const fmtRate = (value) => (value === null ? 'n/a' : Math.round(value).toLocaleString('en-US'));
/** How much slower `rate` is than `baseline`, in % of the baseline (negative: faster). */
const slowerPct = (baseline, rate) => (baseline && rate !== null ? ((baseline - rate) / baseline) * 100 : null);

// ------------------------------------------------------------------------------ messages ---
const DECISIONS = ['approve', 'review', 'decline'];

/** A contract-valid RiskAssessed envelope (validated by MessagePublisher and MessageConsumer). */
function riskAssessed(index) {
  return {
    id: randomUUID(),
    type: 'RiskAssessed',
    schemaVersion: 1,
    data: {
      paymentId: randomUUID(),
      payerAccountId: `acct-payer-${String(index % 100_000).padStart(6, '0')}`,
      score: index % 101,
      decision: DECISIONS[index % 3],
      reasons: index % 3 === 0 ? [] : ['velocity_payer_1m'],
      ruleSetVersion: 'rules-2026.11',
    },
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'risk' },
  };
}

function envelopes(count) {
  return Array.from({ length: count }, (_, index) => riskAssessed(index));
}

/**
 * The record a bare client user would send for an envelope: JSON value, partition key and the same
 * headers as ours (written out here, not taken from our library), so every row puts the same bytes
 * on the wire. No validation, no metrics.
 */
function bareRecord(envelope) {
  return {
    key: envelope.data.paymentId,
    value: JSON.stringify(envelope),
    headers: {
      'message-id': envelope.id,
      'message-type': envelope.type,
      'schema-version': String(envelope.schemaVersion),
      'correlation-id': envelope.metadata.correlationId,
      'causation-id': envelope.metadata.causationId,
      producer: envelope.metadata.producer,
      'content-type': 'application/json',
    },
  };
}

function batches(items) {
  const chunks = [];
  for (let start = 0; start < items.length; start += BATCH) chunks.push(items.slice(start, start + BATCH));
  return chunks;
}

// ---------------------------------------------------------------------------- PostgreSQL ---
async function prepareDatabase() {
  const target = new URL(BENCH_DATABASE_URL);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(BENCH_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) {
      try {
        await client.query(`create database "${name.replaceAll('"', '""')}"`);
        log(`created database ${name}`);
      } catch (error) {
        if (error?.code !== '42P04') throw error; // created meanwhile by another run
      }
    }
  } finally {
    await client.end();
  }
  const pool = createPool({ connectionString: BENCH_DATABASE_URL, max: 4, applicationName: 'clearline-bench' });
  await migrate(pool, [messagingMigrations]);
  const { rows } = await pool.query(`select current_setting('synchronous_commit') as sc, current_setting('fsync') as fs, version() as v`);
  // The consumers' own pool (the one MessageConsumer checks connections out of), apart from the admin one.
  const consumerPool = createPool({ connectionString: BENCH_DATABASE_URL, max: 4, applicationName: 'clearline-bench-consumer' });
  return { pool, consumerPool, name, synchronousCommit: rows[0].sc, fsync: rows[0].fs, version: rows[0].v.split(' ').slice(0, 2).join(' ') };
}

/** Time spent in PostgreSQL by our consumer, by statement, while the row runs. */
let dbStats = null;
const patchedClients = new WeakSet();

/**
 * Messages our consumer's handler has seen in the open transaction of each client. A message counts
 * for a row only when that transaction commits (a chunk commits many at once); a rollback drops them.
 */
const handledInTransaction = new WeakMap();
const countHandled = async (_envelope, { client }) => {
  handledInTransaction.set(client, (handledInTransaction.get(client) ?? 0) + 1);
};
function transactionEnded(client, statement, onCommit) {
  const handled = handledInTransaction.get(client) ?? 0;
  handledInTransaction.delete(client);
  if (statement === 'commit' && handled > 0) onCommit.current(handled);
}

/**
 * The real pool as MessageConsumer sees it (it only calls `connect()`), timing `connect` and every
 * `query` of the clients it hands out.
 */
function instrumentedPool(pool, onCommit) {
  return {
    async connect() {
      const started = performance.now();
      const client = await pool.connect();
      if (dbStats) dbStats.connectMs += performance.now() - started;
      if (!patchedClients.has(client)) {
        patchedClients.add(client);
        const query = client.query;
        client.query = function timedQuery(text, values, ...rest) {
          // MessageConsumer uses the promise form; anything else (pg's own callback form) passes through.
          if (rest.length > 0 || typeof values === 'function' || typeof text !== 'string') return query.call(this, text, values, ...rest);
          const begun = performance.now();
          return query.call(this, text, values).then((result) => {
            const statement = text === 'begin' || text === 'commit' || text === 'rollback' ? text : 'insert';
            if (dbStats) dbStats[statement] = (dbStats[statement] ?? 0) + performance.now() - begun;
            if (text === 'commit' || text === 'rollback') transactionEnded(this, text, onCommit);
            return result;
          });
        };
      }
      return client;
    },
  };
}

/**
 * A pool whose transactions cost nothing: our consumer minus PostgreSQL, for a like-for-like row.
 * Every message is new to the inbox: the chunk insert (`… returning "offset"`, the offsets its sixth
 * parameter) answers with all of them, the single-message insert with one row.
 */
function noOpPool(onCommit) {
  const client = {
    query: async (text, values) => {
      if (text === 'commit' || text === 'rollback') transactionEnded(client, text, onCommit);
      if (text.includes('returning "offset"')) return { rowCount: values[5].length, rows: values[5].map((offset) => ({ offset })) };
      return { rowCount: 1, rows: [] };
    },
    on: () => client,
    off: () => client,
    release: () => undefined,
  };
  return { connect: async () => client };
}

// ---------------------------------------------------------------------------- Kafka rows ---
function counter(target) {
  let count = 0;
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  return {
    add(n = 1) {
      count += n;
      if (count >= target) resolveDone(performance.now());
    },
    get count() {
      return count;
    },
    done,
  };
}

async function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ROW_TIMEOUT_MS} ms`)), ROW_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** kafkajs for the bare rows: the same producer configuration as MessagePublisher's. */
const bareKafka = new Kafka({ clientId: 'clearline-bench-bare', brokers: BROKERS, logLevel: logLevel.ERROR, logCreator: bareKafkajsLog });

const producers = {
  async ours() {
    let topic;
    const publisher = new MessagePublisher({ settings, producerName: 'bench', logger, metrics, topicOverride: () => topic });
    await publisher.connect();
    return {
      send: async (toTopic, items) => {
        topic = toTopic;
        for (const batch of batches(items)) await publisher.publish(batch);
      },
      close: async () => publisher.disconnect(),
    };
  },
  async kafkajs() {
    const producer = bareKafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return {
      send: async (topic, items) => {
        for (const batch of batches(items)) {
          await producer.sendBatch({ topicMessages: [{ topic, messages: batch.map(bareRecord) }], acks: -1, timeout: 30_000 });
        }
      },
      close: async () => producer.disconnect(),
    };
  },
  async platformatic() {
    const producer = new PlatformaticProducer({
      clientId: 'clearline-bench-platformatic',
      bootstrapBrokers: BROKERS,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    return {
      send: async (topic, items) => {
        for (const batch of batches(items)) {
          await producer.send({ messages: batch.map((envelope) => ({ topic, ...bareRecord(envelope) })), acks: ProduceAcks.ALL });
        }
      },
      close: async () => producer.close(),
    };
  },
};

/** CPU time of this process (all its threads) in µs, for CPU per message beside the wall-clock rate. */
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/**
 * One repetition of the produce rows. To spread the machine's background noise evenly, the
 * producers take turns in slices of PRODUCE_SLICE batches (order rotated every round) rather than
 * each sending all its records in one go; each producer's rate is its records over the sum of its
 * own slices' wall time. Every producer writes `count` records to its own topic.
 */
const PRODUCE_SLICE = 10;
async function produceRows(names, topicOf, count, rep) {
  const work = names.map((name) => ({ name, topic: topicOf(name), slices: [], ms: 0, cpu: 0 }));
  for (const row of work) {
    const items = envelopes(count); // built before the clock starts: they are the caller's data
    for (let start = 0; start < items.length; start += PRODUCE_SLICE * BATCH) row.slices.push(items.slice(start, start + PRODUCE_SLICE * BATCH));
  }
  const rounds = work[0].slices.length;
  for (let round = 0; round < rounds; round += 1) {
    for (let turn = 0; turn < work.length; turn += 1) {
      const row = work[(turn + round + rep) % work.length];
      collectGarbage();
      const cpuBefore = cpuMicros();
      const begun = performance.now();
      await within(openProducers[row.name].send(row.topic, row.slices[round]), `produce ${row.name}`);
      row.ms += performance.now() - begun;
      row.cpu += cpuMicros() - cpuBefore;
    }
  }
  return Object.fromEntries(work.map((row) => [row.name, { rate: count / (row.ms / 1000), cpuPerMessageUs: row.cpu / count }]));
}

/**
 * Consumer rows. Each joins a fresh group on `topic` (from the earliest offset) and is timed from
 * the moment its start call resolves (group joined, partitions assigned) to its `target`-th record.
 */
const consumers = {
  /** MessageConsumer, counting handler, the real inbox: one PostgreSQL transaction per chunk of up to 100 records. */
  oursInbox: (concurrency) => async (topic, target, context) => {
    const seen = counter(target);
    context.onCommit.current = (count) => seen.add(count);
    const consumer = new MessageConsumer({
      settings,
      groupId: `${RUN}-ours-inbox-${concurrency}-${randomUUID().slice(0, 8)}`,
      topics: [topic],
      pool: instrumentedPool(context.pool, context.onCommit),
      handle: countHandled,
      logger,
      metrics,
      partitionsConsumedConcurrently: concurrency,
    });
    return { consumer, seen, start: () => consumer.start(), stop: () => consumer.stop(), db: true };
  },
  /** MessageConsumer, counting handler, on a pool whose queries do nothing: the wrapper without PostgreSQL. */
  oursNoDb: async (topic, target, context) => {
    const seen = counter(target);
    context.onCommit.current = (count) => seen.add(count);
    const consumer = new MessageConsumer({
      settings,
      groupId: `${RUN}-ours-nodb-${randomUUID().slice(0, 8)}`,
      topics: [topic],
      pool: noOpPool(context.onCommit),
      handle: countHandled,
      logger,
      metrics,
    });
    return { seen, start: () => consumer.start(), stop: () => consumer.stop() };
  },
  /** Bare kafkajs, eachMessage counting (per record: resolve, heartbeat check, commit check, as ours). */
  kafkajs: async (topic, target) => {
    const seen = counter(target);
    const consumer = bareKafka.consumer({ groupId: `${RUN}-kafkajs-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 500, sessionTimeout: 30_000, heartbeatInterval: 3_000, allowAutoTopicCreation: false });
    return {
      seen,
      start: async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ autoCommitInterval: 1_000, autoCommitThreshold: 100, eachMessage: async () => seen.add() });
      },
      stop: () => consumer.disconnect(),
    };
  },
  /** Bare @platformatic/kafka: the message stream, counting 'data' events. */
  platformatic: async (topic, target) => {
    const seen = counter(target);
    const consumer = new PlatformaticConsumer({
      clientId: 'clearline-bench-platformatic',
      bootstrapBrokers: BROKERS,
      groupId: `${RUN}-platformatic-${randomUUID().slice(0, 8)}`,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTime: 500,
      autocreateTopics: false,
    });
    let stream;
    return {
      seen,
      start: async () => {
        stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: 1_000 });
        stream.on('data', () => seen.add());
        stream.on('error', (error) => process.stderr.write(`[platformatic] ${error.message}\n`));
      },
      stop: async () => {
        await stream?.close();
        await consumer.close();
      },
    };
  },
};

async function consumeRow(make, topic, target, context) {
  const row = await make(topic, target, context);
  collectGarbage();
  dbStats = row.db ? { connectMs: 0 } : null;
  try {
    await row.start();
    const cpuBefore = cpuMicros();
    const started = performance.now();
    if (dbStats) {
      // Only the timed window counts.
      dbStats = { connectMs: 0 };
    }
    const finished = await within(row.seen.done, `consume (${row.seen.count}/${target} seen)`);
    const seconds = (finished - started) / 1000;
    const cpuPerMessageUs = (cpuMicros() - cpuBefore) / target;
    const stats = dbStats;
    dbStats = null;
    return { rate: target / seconds, seconds, cpuPerMessageUs, db: stats };
  } finally {
    dbStats = null;
    await row.stop();
  }
}

// ----------------------------------------------------------------- in-process breakdowns ---
/** µs per message of the CPU work each side does around the client, without I/O. */
function cpuBreakdown() {
  const items = envelopes(MICRO_CPU);
  /** Median of 5 rounds after a warm-up round, µs per item. */
  const timeOver = (list, work) => {
    work(list);
    const rounds = [];
    for (let round = 0; round < 5; round += 1) {
      const begun = performance.now();
      work(list);
      rounds.push(((performance.now() - begun) * 1000) / list.length);
    }
    return median(rounds);
  };
  const time = (work) => timeOver(items, work);
  const publishOurs = time((list) => {
    for (const envelope of list) {
      // What MessagePublisher.publish does per envelope before kafkajs sees it.
      const valid = assertValidEnvelope(envelope);
      const contract = contractFor(valid.type);
      void { key: contract.partitionKey(valid.data), value: JSON.stringify(valid), headers: envelopeHeaders(valid) };
    }
  });
  const publishBare = time((list) => {
    for (const envelope of list) void bareRecord(envelope);
  });
  const values = items.map((envelope) => Buffer.from(JSON.stringify(envelope)));
  const timeValues = (work) => timeOver(values, work);
  const parseOurs = timeValues((list) => {
    for (const value of list) if (!parseMessage(value).accepted) throw new Error('bench envelope rejected');
  });
  const parseBare = timeValues((list) => {
    for (const value of list) JSON.parse(value.toString('utf8'));
  });
  const validateOnly = time((list) => {
    for (const envelope of list) if (!validateEnvelope(envelope).valid) throw new Error('bench envelope invalid');
  });
  const childLoggers = time((list) => {
    for (const envelope of list) {
      logger.child({ correlationId: envelope.metadata.correlationId, messageId: envelope.id, messageType: envelope.type, topic: 't', partition: 0, offset: '1' });
    }
  });
  // The three metric updates MessageConsumer made per record before chunks (labels hashed each
  // time), the same updates on label-bound children, and what it does now: one label-bound
  // histogram observation per record, the counter and the lag gauge once per chunk of 100.
  const consumerMetrics = messagingMetrics(new Registry());
  const metricsPerMessage = time((list) => {
    for (let index = 0; index < list.length; index += 1) {
      const end = consumerMetrics.handleDuration.startTimer({ topic: 'bench', group: 'bench' });
      consumerMetrics.consumed.inc({ topic: 'bench', group: 'bench', outcome: 'handled' });
      end();
      consumerMetrics.consumerLag.set({ topic: 'bench', partition: '0', group: 'bench' }, Number(BigInt('1000000') - BigInt(String(index)) - 1n));
    }
  });
  const bound = {
    duration: consumerMetrics.handleDuration.labels('bench', 'bench'),
    consumed: consumerMetrics.consumed.labels('bench', 'bench', 'handled'),
    lag: consumerMetrics.consumerLag.labels('bench', '0', 'bench'),
  };
  const metricsBound = time((list) => {
    for (let index = 0; index < list.length; index += 1) {
      const end = bound.duration.startTimer();
      bound.consumed.inc();
      end();
      bound.lag.set(1_000_000 - index - 1);
    }
  });
  const metricsNow = time((list) => {
    for (let start = 0; start < list.length; start += 100) {
      const end = Math.min(start + 100, list.length);
      bound.consumed.inc(end - start);
      for (let index = start; index < end; index += 1) bound.duration.observe(0.002);
      bound.lag.set(1_000_000 - end);
    }
  });
  return { metricsPerMessage, metricsBound, metricsNow, publishOurs, publishBare, parseOurs, parseBare, validateOnly, childLoggers, valueBytes: values.reduce((sum, value) => sum + value.length, 0) / values.length };
}

const INSERT_INBOX = `insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset")
values ($1, $2, $3, $4, $5, $6) on conflict (consumer_group, message_id) do nothing`;
/** The chunk insert of MessageConsumer (libs/messaging/src/inbox.ts). */
const INSERT_INBOX_MANY = `insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset")
select $1, entry.message_id, entry.message_type, $2, $3, entry."offset"
from unnest($4::uuid[], $5::text[], $6::bigint[]) as entry(message_id, message_type, "offset")
on conflict (consumer_group, message_id) do nothing
returning "offset"::text as "offset"`;

/**
 * The inbox's cost per message on MessageConsumer's per-message path (checkout, begin, insert,
 * commit, release for every record: what it did for every record before chunks) against its chunk
 * path (one transaction per 100 records with one multi-row insert), on the same database, without
 * Kafka.
 */
async function dbBreakdown(pool) {
  const group = `${RUN}-micro`;
  const ids = Array.from({ length: MICRO_DB }, () => randomUUID());
  const parts = { checkout: 0, begin: 0, insert: 0, commit: 0 };
  const cpuBefore = cpuMicros();
  const started = performance.now();
  for (let index = 0; index < ids.length; index += 1) {
    let mark = performance.now();
    const client = await pool.connect();
    const step = (name) => {
      const now = performance.now();
      parts[name] += now - mark;
      mark = now;
    };
    step('checkout');
    try {
      await client.query('begin');
      step('begin');
      await client.query(INSERT_INBOX, [group, ids[index], 'RiskAssessed', 'bench', 0, index]);
      step('insert');
      await client.query('commit');
      step('commit');
    } finally {
      client.release();
    }
  }
  const perMessageUs = ((performance.now() - started) * 1000) / ids.length;
  const perMessageCpuUs = (cpuMicros() - cpuBefore) / ids.length;
  const batchIds = Array.from({ length: MICRO_DB }, () => randomUUID());
  const batchedStarted = performance.now();
  for (let start = 0; start < batchIds.length; start += 100) {
    const chunk = batchIds.slice(start, start + 100);
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(INSERT_INBOX_MANY, [`${group}-batched`, 'bench', 0, chunk, chunk.map(() => 'RiskAssessed'), chunk.map((_, offset) => start + offset)]);
      await client.query('commit');
    } finally {
      client.release();
    }
  }
  const batchedUs = ((performance.now() - batchedStarted) * 1000) / batchIds.length;
  // A batched design that keeps per-message failure isolation: one transaction per 100 records, a
  // savepoint around each record's insert (and handler), one commit (one WAL flush) per 100.
  const savepointIds = Array.from({ length: MICRO_DB }, () => randomUUID());
  const savepointStarted = performance.now();
  for (let start = 0; start < savepointIds.length; start += 100) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      for (let index = start; index < Math.min(start + 100, savepointIds.length); index += 1) {
        await client.query('savepoint message');
        await client.query(INSERT_INBOX, [`${group}-savepoints`, savepointIds[index], 'RiskAssessed', 'bench', 0, index]);
        await client.query('release savepoint message');
      }
      await client.query('commit');
    } finally {
      client.release();
    }
  }
  const savepointUs = ((performance.now() - savepointStarted) * 1000) / savepointIds.length;
  const share = Object.fromEntries(Object.entries(parts).map(([name, ms]) => [name, (ms * 1000) / ids.length]));
  return { perMessageUs, perMessageCpuUs, batchedUs, savepointUs, share };
}

// ---------------------------------------------------------------------------------- main ---
const ROWS = {
  ours: 'ours: MessagePublisher / MessageConsumer + inbox (a transaction per chunk)',
  oursInbox3: 'ours: MessageConsumer + inbox, 3 partitions concurrently',
  oursNoDb: 'ours: MessageConsumer, inbox on a no-op pool (like-for-like)',
  kafkajs: 'bare kafkajs 2.2.4',
  platformatic: 'bare @platformatic/kafka',
};

const results = { produce: { ours: [], kafkajs: [], platformatic: [] }, consume: { ours: [], oursInbox3: [], oursNoDb: [], kafkajs: [], platformatic: [] } };
const dbShares = [];
const cpuUse = { produce: { ours: [], kafkajs: [], platformatic: [] }, consume: { ours: [], oursInbox3: [], oursNoDb: [], kafkajs: [], platformatic: [] } };
const topics = [];
const groupsPrefix = RUN;
let database;
const openProducers = {};
const loadAtStart = loadavg()[0];
const started = performance.now();

/** Runs one clean-up step, bounded: a client that will not close must not hang the bench. */
async function step(what, work, timeoutMs = 15_000) {
  let timer;
  const started = performance.now();
  try {
    await Promise.race([
      (async () => work())(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (process.env.BENCH_DEBUG) log(`  clean-up: ${what} in ${Math.round(performance.now() - started)} ms`);
  } catch (error) {
    log(`warning: clean-up: ${what}: ${error.message}`);
  } finally {
    clearTimeout(timer);
  }
}

async function cleanUp() {
  for (const [name, producer] of Object.entries(openProducers)) await step(`close ${name} producer`, () => producer.close());
  if (topics.length > 0) await step(`delete ${topics.length} topics`, () => deleteTopics(settings, topics, { logger }));
  await step('delete consumer groups', async () => {
    const admin = createKafka({ ...settings, clientId: 'clearline-bench-cleanup' }, logger).admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      const ours = groups.map((group) => group.groupId).filter((groupId) => groupId.startsWith(groupsPrefix));
      if (ours.length > 0) await admin.deleteGroups(ours);
    } finally {
      await admin.disconnect();
    }
  });
  if (database) {
    await step('delete inbox rows', () => database.pool.query('delete from messaging.inbox where consumer_group like $1', [`${groupsPrefix}%`]));
    await step('close the pools', async () => {
      await database.consumerPool.end();
      await database.pool.end();
    });
  }
}

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  log('interrupted; cleaning up');
});

try {
  log(`messaging bench ${RUN}: ${QUICK ? 'quick, ' : ''}${REPS} repetitions; produce ${N_PRODUCE} records per row in batches of ${BATCH}; ` +
    `consume ${N_PRODUCE} (${N_INBOX} with the inbox, in transactions of up to 100); acks -1, idempotent producers, ${PARTITIONS} partitions`);
  log(`${availableParallelism()} CPUs, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}${globalThis.gc ? '' : ' (run with --expose-gc for a collected heap before each row)'}`);
  database = await prepareDatabase();
  log(`PostgreSQL ${database.version}, database ${database.name}, synchronous_commit=${database.synchronousCommit}, fsync=${database.fsync}`);

  const topicOf = (name, rep) => `clearline.bench.${RUN}.${name}.${rep}`;
  const warmupTopic = `clearline.bench.${RUN}.warmup`;
  for (let rep = 1; rep <= REPS; rep += 1) for (const name of Object.keys(results.produce)) topics.push(topicOf(name, rep));
  topics.push(warmupTopic);
  await ensureTopics(settings, topics, { partitions: PARTITIONS, logger });
  log(`created ${topics.length} topics`);

  for (const [name, make] of Object.entries(producers)) {
    openProducers[name] = await make();
    await openProducers[name].send(warmupTopic, envelopes(6 * BATCH)); // connections, metadata, producer ids, JIT
  }

  const onCommit = { current: () => undefined };
  const rotate = (list, by) => list.map((_, index) => list[(index + by) % list.length]);
  for (let rep = 1; rep <= REPS && !interrupted; rep += 1) {
    const produced = await produceRows(Object.keys(results.produce), (name) => topicOf(name, rep), N_PRODUCE, rep - 1);
    for (const [name, { rate, cpuPerMessageUs }] of Object.entries(produced)) {
      results.produce[name].push(rate);
      cpuUse.produce[name].push(cpuPerMessageUs);
      log(`  rep ${rep}  produce  ${name.padEnd(13)} ${fmtRate(rate).padStart(8)} msgs/s  ${cpuPerMessageUs.toFixed(1).padStart(5)} µs CPU per message (this process)`);
    }
    // Every consumer reads the records our publisher wrote in this repetition (the same bytes as the others').
    const source = topicOf('ours', rep);
    const consumeRows = {
      ours: [consumers.oursInbox(1), N_INBOX],
      oursInbox3: [consumers.oursInbox(3), N_INBOX],
      oursNoDb: [consumers.oursNoDb, N_PRODUCE],
      kafkajs: [consumers.kafkajs, N_PRODUCE],
      platformatic: [consumers.platformatic, N_PRODUCE],
    };
    for (const name of rotate(Object.keys(consumeRows), rep - 1)) {
      if (interrupted) break;
      const [make, target] = consumeRows[name];
      try {
        const { rate, seconds, cpuPerMessageUs, db } = await consumeRow(make, source, target, { pool: database.consumerPool, onCommit });
        results.consume[name].push(rate);
        cpuUse.consume[name].push(cpuPerMessageUs);
        let detail = '';
        if (db) {
          const dbMs = db.connectMs + (db.begin ?? 0) + (db.insert ?? 0) + (db.commit ?? 0);
          const share = { db: dbMs / (seconds * 1000), perMessageUs: (seconds * 1e6) / target, dbPerMessageUs: (dbMs * 1000) / target,
            commitPerMessageUs: ((db.commit ?? 0) * 1000) / target, concurrency: name === 'ours' ? 1 : 3 };
          if (name === 'ours') dbShares.push(share);
          detail = share.concurrency === 1
            ? `  (PostgreSQL ${Math.round(share.dbPerMessageUs)} µs of ${Math.round(share.perMessageUs)} µs per message, commit ${Math.round(share.commitPerMessageUs)} µs)`
            : `  (PostgreSQL per message, summed over the 3 concurrent partitions: ${Math.round(share.dbPerMessageUs)} µs, commit ${Math.round(share.commitPerMessageUs)} µs)`;
        }
        log(`  rep ${rep}  consume  ${name.padEnd(13)} ${fmtRate(rate).padStart(8)} msgs/s  ${cpuPerMessageUs.toFixed(1).padStart(5)} µs CPU per message  ${target} in ${seconds.toFixed(2)} s${detail}`);
      } catch (error) {
        results.consume[name].push(Number.NaN); // keeps repetitions aligned; medians skip it
        cpuUse.consume[name].push(Number.NaN);
        log(`  rep ${rep}  consume  ${name.padEnd(13)} FAILED: ${error.message}`);
      }
    }
  }

  log('breakdown (in process, no Kafka) ...');
  const cpu = cpuBreakdown();
  const dbMicro = await dbBreakdown(database.pool);

  // ------------------------------------------------------------------------- report ---
  const m = {
    produce: Object.fromEntries(Object.entries(results.produce).map(([name, rates]) => [name, median(rates)])),
    consume: Object.fromEntries(Object.entries(results.consume).map(([name, rates]) => [name, median(rates)])),
  };
  const produceOverhead = slowerPct(m.produce.kafkajs, m.produce.ours);
  const consumeInboxOverhead = slowerPct(m.consume.kafkajs, m.consume.ours);
  const consumeInbox3Overhead = slowerPct(m.consume.kafkajs, m.consume.oursInbox3);
  const consumeNoDbOverhead = slowerPct(m.consume.kafkajs, m.consume.oursNoDb);
  /** Median over repetitions of each repetition's own overhead (rows of one repetition ran close together). */
  const pairedPct = (baseline, ours) => median(baseline.map((rate, index) => slowerPct(rate, ours[index] ?? null) ?? Number.NaN));
  const producePaired = pairedPct(results.produce.kafkajs, results.produce.ours);
  const consumeNoDbPaired = pairedPct(results.consume.kafkajs, results.consume.oursNoDb);
  const wrapperOverhead = produceOverhead === null || consumeNoDbOverhead === null ? null : Math.max(produceOverhead, consumeNoDbOverhead);
  const dbShare = median(dbShares.map((share) => share.db));
  const c = {
    produce: Object.fromEntries(Object.entries(cpuUse.produce).map(([name, values]) => [name, median(values)])),
    consume: Object.fromEntries(Object.entries(cpuUse.consume).map(([name, values]) => [name, median(values)])),
  };
  /** Extra CPU per message of `ours` over the baseline, in % of the baseline's. */
  const moreCpuPct = (baseline, ours) => (baseline && ours !== null ? ((ours - baseline) / baseline) * 100 : null);
  const produceCpuOverhead = moreCpuPct(c.produce.kafkajs, c.produce.ours);
  const consumeNoDbCpuOverhead = moreCpuPct(c.consume.kafkajs, c.consume.oursNoDb);
  const pct = (value) => (value === null ? 'n/a' : `${value > 0 ? '-' : '+'}${Math.abs(value).toFixed(1)}%`);

  const cpuCell = (produced, consumed) => `${produced === null ? '-' : produced.toFixed(1)} / ${consumed === null ? '-' : consumed.toFixed(1)}`;
  const table = [
    [ROWS.ours, m.produce.ours, m.consume.ours, `produce ${pct(produceOverhead)}, consume ${pct(consumeInboxOverhead)}`, cpuCell(c.produce.ours, c.consume.ours)],
    [ROWS.oursInbox3, null, m.consume.oursInbox3, `consume ${pct(consumeInbox3Overhead)}`, cpuCell(null, c.consume.oursInbox3)],
    [ROWS.oursNoDb, null, m.consume.oursNoDb, `consume ${pct(consumeNoDbOverhead)}`, cpuCell(null, c.consume.oursNoDb)],
    [ROWS.kafkajs, m.produce.kafkajs, m.consume.kafkajs, 'baseline', cpuCell(c.produce.kafkajs, c.consume.kafkajs)],
    [ROWS.platformatic, m.produce.platformatic, m.consume.platformatic,
      `produce ${pct(slowerPct(m.produce.kafkajs, m.produce.platformatic))}, consume ${pct(slowerPct(m.consume.kafkajs, m.consume.platformatic))}`,
      cpuCell(c.produce.platformatic, c.consume.platformatic)],
  ];
  const widths = [Math.max(...table.map((row) => row[0].length)), 16, 16, Math.max(...table.map((row) => row[3].length))];
  log('');
  log(`medians of ${REPS} (vs bare kafkajs: rate difference, negative = slower; CPU: µs of this process's CPU per message)`);
  log(`${'row'.padEnd(widths[0])} | ${'msgs/s produce'.padStart(widths[1])} | ${'msgs/s consume'.padStart(widths[2])} | ${'vs bare kafkajs'.padEnd(widths[3])} | CPU µs/msg produce / consume`);
  log(`${'-'.repeat(widths[0])}-|-${'-'.repeat(widths[1])}-|-${'-'.repeat(widths[2])}-|-${'-'.repeat(widths[3])}-|-----------------------------`);
  for (const [label, produced, consumed, versus, cpuText] of table) {
    log(`${label.padEnd(widths[0])} | ${(produced === null ? '-' : fmtRate(produced)).padStart(widths[1])} | ${fmtRate(consumed).padStart(widths[2])} | ${versus.padEnd(widths[3])} | ${cpuText}`);
  }
  log('');
  log(`where the time goes (µs per message, in process): publish validate+serialize+headers ${cpu.publishOurs.toFixed(1)} (bare serialize+headers ${cpu.publishBare.toFixed(1)}); ` +
    `consume parse+validate ${cpu.parseOurs.toFixed(1)} (bare JSON.parse ${cpu.parseBare.toFixed(1)}); contract validation alone ${cpu.validateOnly.toFixed(1)}; ` +
    `a pino child logger ${cpu.childLoggers.toFixed(1)} (now built only for a message logged about); metrics per record as before chunks ${cpu.metricsPerMessage.toFixed(1)} ` +
    `(label-bound ${cpu.metricsBound.toFixed(1)}), as now ${cpu.metricsNow.toFixed(1)}`);
  log(`inbox in PostgreSQL (µs per message, no Kafka): one transaction per message ${dbMicro.perMessageUs.toFixed(0)}, of which node-postgres CPU ${dbMicro.perMessageCpuUs.toFixed(0)} ` +
    `(checkout ${dbMicro.share.checkout.toFixed(0)}, begin ${dbMicro.share.begin.toFixed(0)}, insert ${dbMicro.share.insert.toFixed(0)}, commit ${dbMicro.share.commit.toFixed(0)}); ` +
    `one transaction per 100 messages with a savepoint per message ${dbMicro.savepointUs.toFixed(0)}; one per 100 with the consumer's multi-row insert ${dbMicro.batchedUs.toFixed(0)}`);
  log(`wrapper overhead, median of per-repetition figures: produce ${producePaired === null ? 'n/a' : producePaired.toFixed(1)}%, ` +
    `consume like-for-like ${consumeNoDbPaired === null ? 'n/a' : consumeNoDbPaired.toFixed(1)}%; extra CPU per message: produce ${produceCpuOverhead === null ? 'n/a' : produceCpuOverhead.toFixed(1)}%, ` +
    `consume like-for-like ${consumeNoDbCpuOverhead === null ? 'n/a' : consumeNoDbCpuOverhead.toFixed(1)}%`);
  if (dbShare !== null) log(`our consumer with the inbox spent ${(dbShare * 100).toFixed(0)}% of its wall time waiting on PostgreSQL (median)`);

  const summary = {
    bench: 'messaging',
    run: RUN,
    quick: QUICK,
    reps: REPS,
    messages_per_produce_row: N_PRODUCE,
    messages_per_inbox_consume_row: N_INBOX,
    batch_size: BATCH,
    partitions: PARTITIONS,
    acks: -1,
    value_bytes: round(cpu.valueBytes),
    wrapper_overhead_pct: round(wrapperOverhead, 1),
    wrapper_overhead_definition:
      'max(produce, consume_like_for_like); each = (kafkajs_rate - ours_rate) / kafkajs_rate * 100 on medians; consume like-for-like = MessageConsumer on a no-op pool vs kafkajs eachMessage counting',
    wrapper_produce_overhead_pct: round(produceOverhead, 1),
    wrapper_consume_overhead_like_for_like_pct: round(consumeNoDbOverhead, 1),
    wrapper_consume_overhead_with_inbox_pct: round(consumeInboxOverhead, 1),
    wrapper_consume_overhead_with_inbox_3_concurrent_pct: round(consumeInbox3Overhead, 1),
    wrapper_produce_overhead_paired_median_pct: round(producePaired, 1),
    wrapper_consume_overhead_like_for_like_paired_median_pct: round(consumeNoDbPaired, 1),
    wrapper_produce_cpu_overhead_pct: round(produceCpuOverhead, 1),
    wrapper_consume_cpu_overhead_like_for_like_pct: round(consumeNoDbCpuOverhead, 1),
    cpu_us_per_msg: {
      produce: Object.fromEntries(Object.entries(c.produce).map(([name, value]) => [name, round(value, 1)])),
      consume: Object.fromEntries(Object.entries(c.consume).map(([name, value]) => [name, round(value, 1)])),
    },
    goal_pct: GOAL_PCT,
    goal_met_produce: produceOverhead !== null && produceOverhead <= GOAL_PCT,
    goal_met_consume_like_for_like: consumeNoDbOverhead !== null && consumeNoDbOverhead <= GOAL_PCT,
    goal_met_consume_with_inbox: consumeInboxOverhead !== null && consumeInboxOverhead <= GOAL_PCT,
    ours_produce_per_s: round(m.produce.ours),
    kafkajs_produce_per_s: round(m.produce.kafkajs),
    platformatic_produce_per_s: round(m.produce.platformatic),
    ours_consume_inbox_per_s: round(m.consume.ours),
    ours_consume_inbox_3_concurrent_per_s: round(m.consume.oursInbox3),
    ours_consume_no_db_per_s: round(m.consume.oursNoDb),
    kafkajs_consume_per_s: round(m.consume.kafkajs),
    platformatic_consume_per_s: round(m.consume.platformatic),
    inbox_db_share_of_wall_time: round(dbShare, 2),
    us_per_msg_publish_prepare_ours: round(cpu.publishOurs, 2),
    us_per_msg_publish_prepare_bare: round(cpu.publishBare, 2),
    us_per_msg_parse_validate_ours: round(cpu.parseOurs, 2),
    us_per_msg_json_parse_bare: round(cpu.parseBare, 2),
    us_per_msg_pino_child_logger: round(cpu.childLoggers, 2),
    us_per_msg_consumer_metrics: round(cpu.metricsPerMessage, 2),
    us_per_msg_consumer_metrics_label_bound: round(cpu.metricsBound, 2),
    us_per_msg_consumer_metrics_now: round(cpu.metricsNow, 2),
    us_per_msg_inbox_tx_per_message: round(dbMicro.perMessageUs),
    us_per_msg_inbox_commit: round(dbMicro.share.commit),
    us_cpu_per_msg_inbox_tx_node: round(dbMicro.perMessageCpuUs),
    us_per_msg_inbox_tx_per_100_savepoints: round(dbMicro.savepointUs),
    us_per_msg_inbox_tx_per_100_multirow: round(dbMicro.batchedUs),
    postgres_synchronous_commit: database.synchronousCommit,
    load_average_1m_start: round(loadAtStart, 2),
    load_average_1m_end: round(loadavg()[0], 2),
    cpus: availableParallelism(),
    seconds: round((performance.now() - started) / 1000, 1),
  };
  await cleanUp();
  log(JSON.stringify(summary));
} catch (error) {
  log(`bench failed: ${error?.stack ?? error}`);
  await cleanUp();
  process.exitCode = 1;
}
// pino's async destination, kafkajs and pg leave nothing that must finish; do not wait for timers.
process.exit();

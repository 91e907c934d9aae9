#!/usr/bin/env node
// Readiness probe for the local Kafka broker, used by deploy/local/infra.
//
// Succeeds (exit 0) once a kafkajs client can:
//   1. connect and create/ensure the topic `clearline.healthcheck` (leader elected),
//   2. produce one record to it with acks=-1,
//   3. find the group coordinator (this also creates __consumer_offsets, so the
//      first service consumer does not have to wait for it).
//
// Usage: node deploy/local/kafka-ready.mjs [--brokers 127.0.0.1:9092]
//          [--topic clearline.healthcheck] [--timeout 10] [--quiet] [--verbose]
//          [--check-client]
//
// Exit codes: 0 ready (or, with --check-client, kafkajs found); 1 not ready
// before the timeout (last error on stderr); 3 kafkajs could not be loaded.
//
// kafkajs comes from the repo's node_modules (npm ci). For ad-hoc use outside
// the repo, KAFKAJS_PATH may name a directory to resolve kafkajs from instead
// (e.g. KAFKAJS_PATH=/tmp/kcheck, which has node_modules/kafkajs).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
  const opts = {
    brokers: `127.0.0.1:${process.env.KAFKA_PORT || '9092'}`,
    topic: 'clearline.healthcheck',
    timeout: 10,
    quiet: false,
    verbose: false,
    checkClient: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--brokers') opts.brokers = next();
    else if (a === '--topic') opts.topic = next();
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--check-client') opts.checkClient = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) throw new Error('--timeout must be > 0 seconds');
  return opts;
}

function loadKafkajs() {
  const override = process.env.KAFKAJS_PATH;
  const base = override ? path.resolve(override) : repoRoot;
  // createRequire needs a file path; the file does not have to exist.
  const require = createRequire(path.join(base, 'noop.js'));
  try {
    const kafkajs = require('kafkajs');
    let version = 'unknown';
    try {
      version = require('kafkajs/package.json').version;
    } catch {
      /* version is informational only */
    }
    return { ...kafkajs, __version: version };
  } catch (err) {
    const where = override ? `KAFKAJS_PATH=${override}` : `${repoRoot}/node_modules`;
    process.stderr.write(
      `kafka-ready: cannot load kafkajs from ${where} (${err.code || err.message}).\n` +
        (override ? '' : 'kafka-ready: run `npm ci` in the repo root first.\n'),
    );
    process.exit(3);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function attempt(kafkajs, opts) {
  const { Kafka, logLevel } = kafkajs;
  const kafka = new Kafka({
    clientId: 'clearline-infra-ready',
    brokers: opts.brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await admin.connect();
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: opts.topic, numPartitions: 1, replicationFactor: 1 }],
    });
    const md = await admin.fetchTopicMetadata({ topics: [opts.topic] });
    const p0 = md.topics[0]?.partitions?.[0];
    if (!p0 || p0.leader < 0) throw new Error(`topic ${opts.topic} has no leader yet`);
    await producer.connect();
    await producer.send({
      topic: opts.topic,
      acks: -1,
      messages: [{ key: 'infra', value: JSON.stringify({ at: new Date().toISOString(), pid: process.pid }) }],
    });
    // Finds the group coordinator; first call creates __consumer_offsets.
    await admin.describeGroups(['clearline-infra-ready']);
    return created ? 'created' : 'exists';
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`kafka-ready: ${err.message}\n`);
    process.exit(2);
  }
  const kafkajs = loadKafkajs();
  if (opts.checkClient) {
    if (!opts.quiet) process.stdout.write(`kafkajs ${kafkajs.__version}\n`);
    return 0;
  }
  const deadline = Date.now() + opts.timeout * 1000;
  let lastError;
  for (;;) {
    try {
      const state = await attempt(kafkajs, opts);
      if (!opts.quiet) {
        process.stdout.write(`ready: ${opts.brokers} topic ${opts.topic} ${state} (kafkajs ${kafkajs.__version})\n`);
      }
      return 0;
    } catch (err) {
      lastError = err;
      if (opts.verbose) process.stderr.write(`kafka-ready: attempt failed: ${err.name}: ${err.message}\n`);
    }
    if (Date.now() + 500 >= deadline) break;
    await sleep(500);
  }
  const msg = lastError ? `${lastError.name}: ${lastError.message}` : 'unknown error';
  process.stderr.write(`kafka-ready: ${opts.brokers} not ready after ${opts.timeout}s: ${msg}\n`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kafka-ready: ${err.stack || err}\n`);
    process.exit(1);
  },
);

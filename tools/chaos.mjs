// `npm run chaos [-- --short] [--seed 7] [--rate 10] [--duration 60s] [--no-kafka-faults]`: the platform under faults, then
// proof that it still balances. On a fresh database of its own (clearline_chaos), it starts the five
// services with PostgreSQL and Redis behind the repo's TCP fault proxy (libs/testing FaultProxy), runs
// the simulator's seeded traffic (tools/simulate.mjs) and meanwhile, on a seeded schedule:
//   - kills each service with SIGKILL in turn and restarts it (the ledger again and again in the full run);
//   - freezes the Kafka broker (SIGSTOP / SIGCONT) for 10 s, and in the full run kills and restarts it;
//   - blackholes every PostgreSQL connection for 5 s, then resets them all;
//   - blackholes Redis for 5 s, then resets its connections (risk follows its fail policy);
//   - adds 200 ms of latency to PostgreSQL for 5 s;
//   - redelivers the last records of every topic a consumer reads, again, in a seeded shuffled order
//     (duplicates, and older messages after newer ones: the consumers' inboxes must absorb them);
//   - starts a second payments and a second risk instance mid-run and stops it (SIGTERM) some seconds
//     later: two consumer-group rebalances each.
// All of it in its own KAFKA_NAMESPACE (`chaos`): its topics and groups are never another platform's.
// Then every payment must come to rest (the simulator's drain) and every invariant must hold
// (tools/invariants.mjs: double entry, limits, one effect per transfer and capture, settlement once,
// no stream gaps, analytics equal to the replay). Prints the schedule as it runs, a report, and a
// final one-line JSON; exit code 0 only when both hold. The short form is part of `npm test`.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freshDatabase, kafkaPid, KAFKA_PID_FILE } from './bench/bench-support.mjs';
import { seededRandom } from './simulate/traffic.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATABASE = 'clearline_chaos';
const ADMIN_URL = process.env.CHAOS_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DIRECT_URL = `postgres://postgres@127.0.0.1:5432/${DATABASE}`;
const BASE_PORT = 3300;
const SERVICES = ['ledger', 'payments', 'risk', 'analytics', 'gateway'];
/** Every topic and consumer group of a chaos run carries this prefix on the broker (KAFKA_NAMESPACE). */
const KAFKA_NAMESPACE = 'chaos';
/** The topics the platform's consumers read: the redelivery fault publishes their last records again. */
const CONSUMED_TOPICS = ['payments.commands', 'ledger.commands', 'risk.events', 'ledger.events', 'payments.events', 'settlement.events'];
/** At most this many of each topic's last records (this run's only) are redelivered. */
const REDELIVER_LAST = 200;
/** The consumer groups a second instance joins (the ledger is left out: only its leader joins its group). */
const GROUPS_OF = { payments: ['payments-commands', 'payments-process', 'payments-settlement'], risk: ['risk'] };
/** How long the second instance stays in its groups once it has joined them. */
const SECOND_INSTANCE_HOLD_MS = 8_000;

function parseArguments(argv) {
  const options = { short: false, seed: Math.floor(Date.now() % 1_000_000) + 1, rate: undefined, durationMs: undefined, kafkaFaults: true };
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inline] = argv[index].split('=', 2);
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--short': options.short = true; break;
      // For a machine whose broker others are using right now (the freeze would fail their work).
      case '--no-kafka-faults': options.kafkaFaults = false; break;
      case '--seed': {
        const seed = Number(value());
        if (!Number.isInteger(seed) || seed < 1 || seed > 2 ** 31) throw new RangeError(`--seed must be an integer in 1..${2 ** 31}`);
        options.seed = seed;
        break;
      }
      case '--rate': {
        const rate = Number(value());
        if (!Number.isInteger(rate) || rate < 1 || rate > 500) throw new RangeError('--rate must be an integer in 1..500');
        options.rate = rate;
        break;
      }
      case '--duration': {
        const text = value();
        const match = /^(\d+)(s|m)?$/.exec(text ?? '');
        if (!match || Number(match[1]) === 0) throw new RangeError(`--duration must be like 45s or 2m, got '${text}'`);
        options.durationMs = Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
        break;
      }
      default: throw new RangeError(`unknown option '${argv[index]}' (see the header of tools/chaos.mjs)`);
    }
  }
  options.rate ??= options.short ? 8 : 15;
  options.durationMs ??= options.short ? 45_000 : 120_000;
  return options;
}

const log = (line) => console.log(`chaos ${line}`);

/** The fault schedule: [at ms from traffic start, name, action, kind]; seeded, so a seed replays the same run. */
function schedule(options, faults) {
  const { next: random } = seededRandom(options.seed);
  const jitter = (ms) => Math.round(ms * (0.75 + random() * 0.5));
  const span = options.durationMs;
  const plan = [];
  // Each service killed once, in a seeded order, spread over the first 70 % of the traffic.
  const order = [...SERVICES].sort(() => random() - 0.5);
  order.forEach((service, index) => plan.push([jitter(((index + 0.5) * 0.7 * span) / SERVICES.length), `kill -9 ${service}, restart`, () => faults.crash(service), 'crash']));
  if (options.kafkaFaults) plan.push([jitter(0.2 * span), 'freeze Kafka 10 s', () => faults.freezeKafka(10_000), 'kafka_freeze']);
  plan.push([jitter(0.4 * span), 'blackhole PostgreSQL 5 s, then reset its connections', () => faults.blackhole('postgres', 5_000), 'postgres_blackhole']);
  plan.push([jitter(0.55 * span), 'blackhole Redis 5 s, then reset its connections', () => faults.blackhole('redis', 5_000), 'redis_blackhole']);
  plan.push([jitter(0.65 * span), 'PostgreSQL latency 200 ms for 5 s', () => faults.latency('postgres', 200, 5_000), 'postgres_latency']);
  // Each redelivery shuffles with a seed of its own, drawn here: the same seed, the same order.
  const redeliver = (at) => {
    const shuffleSeed = Math.floor(random() * 2 ** 31) + 1;
    plan.push([at, `redeliver the last ${REDELIVER_LAST} records of each consumed topic, shuffled`, () => faults.redeliver(REDELIVER_LAST, shuffleSeed), 'redelivery']);
  };
  // A second payments and a second risk: each joins its groups (a rebalance) and leaves them (another).
  const secondInstance = (service, at) => plan.push([at, `second ${service} instance joins its groups, leaves after ${SECOND_INSTANCE_HOLD_MS / 1_000} s`, () => faults.secondInstance(service, SECOND_INSTANCE_HOLD_MS), 'rebalance']);
  redeliver(jitter(0.5 * span));
  secondInstance('payments', jitter(0.3 * span));
  secondInstance('risk', jitter(0.6 * span));
  if (!options.short) {
    if (options.kafkaFaults) plan.push([jitter(0.8 * span), 'kill the Kafka broker, restart it', () => faults.restartKafka(), 'kafka_crash']);
    // Late in the traffic too: by then most payments are finished, so their answers come again after the end.
    redeliver(jitter(0.9 * span));
    // The ledger, the single writer, again and again: every 2 +/- 1 s for the whole run.
    for (let at = 3_000; at < span; at += 1_000 + Math.round(random() * 2_000)) plan.push([at, 'kill -9 ledger, restart', () => faults.crash('ledger'), 'crash']);
  }
  return plan.sort((a, b) => a[0] - b[0]);
}

/** Children still running, stopped if the chaos run itself fails. */
const children = new Set();

/** Runs a command, collecting stdout and echoing stderr (but progress lines); resolves with its exit code and output. */
function run(command, args, env, onLine = () => undefined) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => {
      for (const line of String(chunk).split(/[\r\n]+/)) {
        if (!line.trim()) continue;
        onLine(line);
        if (!line.startsWith('simulate [')) log(`| ${line.trim()}`);
      }
    });
    child.on('exit', (code) => {
      children.delete(child);
      resolve({ code, stdout });
    });
  });
}

/** A port nobody listens on right now, for a second instance of a service. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Each consumed topic's partitions on the broker: `physical topic/partition` -> [low, high) offsets. */
async function consumedTopicOffsets(admin, messaging, settings) {
  const offsets = new Map();
  for (const topic of CONSUMED_TOPICS) {
    const physical = messaging.physicalTopic(settings, topic);
    for (const { partition, offset, low } of await admin.fetchTopicOffsets(physical)) offsets.set(`${physical}/${partition}`, { topic: physical, partition, low: Number(low), high: Number(offset) });
  }
  return offsets;
}

/**
 * Publishes again, in a seeded shuffled order, the last `limit` records of each consumed topic that
 * this run wrote (from the offsets of `since`, taken before the traffic: an earlier chaos run's records
 * would be new to this run's fresh database, not duplicates). Same partition, key, value and headers:
 * every consumer gets each one a second time, after newer ones. Returns what it republished per topic.
 */
async function redeliverLastRecords({ messaging, settings, since, limit, seed }) {
  const kafka = messaging.createKafka({ ...settings, clientId: 'chaos-redeliver' });
  const admin = kafka.admin();
  const groupId = messaging.physicalGroup(settings, `chaos-redeliver-${randomUUID().slice(0, 8)}`);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await admin.connect();
  try {
    // Per partition the last `limit` of this run's records; per topic the newest `limit` of those.
    const ranges = [...(await consumedTopicOffsets(admin, messaging, settings)).values()]
      .map((range) => ({ ...range, from: Math.max(range.low, since.get(`${range.topic}/${range.partition}`)?.high ?? range.low, range.high - limit) }))
      .filter((range) => range.from < range.high);
    if (ranges.length === 0) return {};
    const pending = new Set(ranges.map((range) => `${range.topic}/${range.partition}`));
    const wanted = new Map(ranges.map((range) => [`${range.topic}/${range.partition}`, range]));
    const records = [];
    const seen = new Set();
    let allRead;
    const read = new Promise((resolve) => { allRead = resolve; });
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(ranges.map((range) => range.topic))], fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const range = wanted.get(`${topic}/${partition}`);
        const offset = Number(message.offset);
        if (range === undefined || offset < range.from || offset >= range.high || seen.has(`${topic}/${partition}/${offset}`)) return;
        seen.add(`${topic}/${partition}/${offset}`);
        records.push({ topic, partition, offset, timestamp: Number(message.timestamp), key: message.key, value: message.value, headers: message.headers });
        if (offset === range.high - 1 && pending.delete(`${topic}/${partition}`) && pending.size === 0) allRead();
      },
    });
    for (const range of ranges) consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
    const readTimedOut = await Promise.race([read.then(() => false), sleep(30_000).then(() => true)]);
    await consumer.disconnect();
    if (readTimedOut) throw new Error(`read only part of the last records in 30 s (${pending.size} partitions short)`);

    const chosen = [];
    for (const topic of new Set(records.map((record) => record.topic))) {
      const ofTopic = records.filter((record) => record.topic === topic).sort((a, b) => a.timestamp - b.timestamp || a.offset - b.offset);
      chosen.push(...ofTopic.slice(-limit));
    }
    // Fisher-Yates with the fault's own seed.
    const { integer } = seededRandom(seed);
    for (let index = chosen.length - 1; index > 0; index -= 1) {
      const other = integer(0, index);
      [chosen[index], chosen[other]] = [chosen[other], chosen[index]];
    }
    await producer.connect();
    // In batches of 50, grouped by topic within a batch: each partition receives them in the shuffled order.
    for (let start = 0; start < chosen.length; start += 50) {
      const byTopic = new Map();
      for (const record of chosen.slice(start, start + 50)) {
        if (!byTopic.has(record.topic)) byTopic.set(record.topic, []);
        byTopic.get(record.topic).push({ partition: record.partition, key: record.key, value: record.value, headers: record.headers });
      }
      await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
    const perTopic = {};
    for (const record of chosen) {
      const topic = messaging.logicalTopic(settings, record.topic);
      perTopic[topic] = (perTopic[topic] ?? 0) + 1;
    }
    return perTopic;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Members of each of `groups` (logical names) on the broker; a group that cannot be described counts 0. */
async function groupMembers(admin, messaging, settings, groups) {
  const physical = groups.map((group) => messaging.physicalGroup(settings, group));
  const described = await admin.describeGroups(physical);
  return Object.fromEntries(groups.map((group, index) => [group, described.groups.find((entry) => entry.groupId === physical[index])?.members.length ?? 0]));
}

/**
 * Messages each consumer group skipped as already in its inbox, summed from the services' /metrics:
 * evidence that the redeliveries reached the consumers (counted since each service's last start).
 */
async function duplicatesSkipped(ports) {
  const byGroup = {};
  for (const port of Object.values(ports)) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((response) => response.text(), () => '');
    for (const [, labelText, value] of text.matchAll(/^clearline_messages_consumed_total\{([^}]*)\} (\S+)$/gm)) {
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, labelValue]) => [name, labelValue]));
      if (labels.outcome === 'duplicate') byGroup[labels.group] = (byGroup[labels.group] ?? 0) + Number(value);
    }
  }
  return byGroup;
}

const lastJson = (text) => {
  const line = text.trim().split('\n').reverse().find((candidate) => candidate.startsWith('{'));
  try {
    return line ? JSON.parse(line) : undefined;
  } catch {
    return undefined;
  }
};

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const started = performance.now();
  log(`${options.short ? 'short' : 'full'} run, seed ${options.seed}: ${options.rate} payments/s for ${options.durationMs / 1_000} s (rerun with --seed ${options.seed}${options.short ? ' --short' : ''})`);
  execFileSync('bash', [join(root, 'deploy/local/infra'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const { default: pg } = await import('pg');
  const { FaultProxy, startPlatform } = await import('@clearline/testing');
  const messaging = await import('@clearline/messaging');
  const kafkaSettings = messaging.kafkaSettingsFromEnv('chaos', { ...process.env, KAFKA_NAMESPACE });
  await freshDatabase(pg, { adminUrl: ADMIN_URL, database: DATABASE, databaseUrl: DIRECT_URL });
  log(`fresh database ${DATABASE}, migrated`);

  const proxies = {
    postgres: new FaultProxy({ target: { host: '127.0.0.1', port: 5432 } }),
    redis: new FaultProxy({ target: { host: '127.0.0.1', port: 6379 } }),
  };
  await Promise.all(Object.values(proxies).map((proxy) => proxy.start()));
  let platform;
  let frozenKafka;
  const injected = [];
  /** Records republished by the redelivery faults, per topic. */
  const redelivered = {};
  /** Second instances still running (stopped if the run fails). */
  const secondInstances = new Set();
  /** Scheduled kills that found their service still restarting from the last one. */
  let skippedKills = 0;
  const faultErrors = [];
  try {
    const platformEnv = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${proxies.postgres.port}/${DATABASE}`,
      REDIS_URL: `redis://127.0.0.1:${proxies.redis.port}`,
      // Reviews come to rest within the run (the merchant's outcome, default decline).
      PAYMENTS_REVIEW_TIMEOUT_MS: '5000',
      KAFKA_NAMESPACE,
    };
    platform = await startPlatform({ basePort: BASE_PORT, logDirectory: join(root, '.cache/logs/chaos'), env: platformEnv });
    log(`platform up on ports ${BASE_PORT}-${BASE_PORT + 4} (logs in .cache/logs/chaos), PostgreSQL via :${proxies.postgres.port}, Redis via :${proxies.redis.port}, Kafka namespace '${KAFKA_NAMESPACE}'`);
    // Where this run's records begin on each consumed topic (the services created the topics as they booted).
    const admin = messaging.createKafka({ ...kafkaSettings, clientId: 'chaos-admin' }).admin();
    await admin.connect();
    const runStartOffsets = await consumedTopicOffsets(admin, messaging, kafkaSettings).finally(() => admin.disconnect());

    const restarting = new Map();
    /**
     * Restarts a service as a supervisor (systemd, Kubernetes) would: a service that cannot boot (the
     * broker is down, so it exits) is started again, 2 s apart, for up to 2 minutes.
     */
    const superviseRestart = async (service) => {
      const deadline = performance.now() + 120_000;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await platform.restart(service);
          return attempt === 1 ? undefined : `started on attempt ${attempt}`;
        } catch (error) {
          if (performance.now() > deadline) throw error;
          await sleep(2_000);
        }
      }
    };
    const faults = {
      crash: async (service) => {
        // The same service again while it is still coming back (the ledger every 2 s in the full run):
        // that kill is skipped. Queueing it instead stretched the kills ~100 s past the traffic, and the
        // run ended with the ledger still down (payments left capturing: late, not lost, answers).
        if (restarting.has(service)) return 'skipped: still restarting from the last kill';
        const crashed = (async () => {
          await platform.kill(service, 'SIGKILL');
          await sleep(500);
          return superviseRestart(service);
        })();
        restarting.set(service, crashed);
        try {
          return await crashed;
        } finally {
          restarting.delete(service);
        }
      },
      freezeKafka: async (ms) => {
        const pid = kafkaPid();
        if (pid === undefined) return 'skipped: no broker process found (pid file or port)';
        process.kill(pid, 'SIGSTOP');
        frozenKafka = pid;
        await sleep(ms);
        process.kill(pid, 'SIGCONT');
        frozenKafka = undefined;
        return undefined;
      },
      restartKafka: async () => {
        // Only a broker this checkout's deploy/local/infra started, since that is what restarts it.
        const pid = existsSync(KAFKA_PID_FILE) ? kafkaPid() : undefined;
        if (pid === undefined) return 'skipped: the broker was not started by deploy/local/infra';
        process.kill(pid, 'SIGKILL');
        await sleep(1_000);
        execFileSync('bash', [join(root, 'deploy/local/infra'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
        return undefined;
      },
      blackhole: async (name, ms) => {
        proxies[name].set({ kind: 'blackhole' });
        await sleep(ms);
        const reset = proxies[name].resetAll();
        proxies[name].heal();
        return `${reset} connections reset`;
      },
      latency: async (name, delayMs, ms) => {
        proxies[name].set({ kind: 'latency', ms: delayMs });
        await sleep(ms);
        proxies[name].heal();
        return undefined;
      },
      redeliver: async (limit, seed) => {
        // The broker may be frozen or restarting right now: tried again, 2 s apart, for up to 90 s
        // (a try that failed while publishing adds more duplicates, which is what this fault is about).
        const deadline = performance.now() + 90_000;
        for (let attempt = 1; ; attempt += 1) {
          try {
            const perTopic = await redeliverLastRecords({ messaging, settings: kafkaSettings, since: runStartOffsets, limit, seed });
            const total = Object.values(perTopic).reduce((sum, count) => sum + count, 0);
            for (const [topic, count] of Object.entries(perTopic)) redelivered[topic] = (redelivered[topic] ?? 0) + count;
            const detail = Object.entries(perTopic).map(([topic, count]) => `${topic} ${count}`).join(', ');
            return `${total} records again: ${detail || 'none yet'}${attempt > 1 ? `, on attempt ${attempt}` : ''}`;
          } catch (error) {
            if (performance.now() > deadline) throw error;
            await sleep(2_000);
          }
        }
      },
      secondInstance: async (service, holdMs) => {
        // The same service with the same environment on a free port, as the platform helper starts one.
        const port = await freePort();
        const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'apps', service, 'dist', 'main.js')], {
          cwd: root,
          env: { ...process.env, ...platformEnv, PORT: String(port), ANALYTICS_URL: `http://127.0.0.1:${platform.ports.analytics}` },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const serviceLog = createWriteStream(join(platform.logDirectory, `${service}-2.log`), { flags: 'a' });
        child.stdout.pipe(serviceLog);
        child.stderr.pipe(serviceLog);
        secondInstances.add(child);
        const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
        const admin = messaging.createKafka({ ...kafkaSettings, clientId: 'chaos-admin' }).admin();
        try {
          await admin.connect();
          const readyBy = performance.now() + 60_000;
          for (;;) {
            if (child.exitCode !== null) throw new Error(`second ${service} exited (${await exited}) before it was ready (see ${service}-2.log)`);
            const ready = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(3_000) }).then((response) => response.ok, () => false);
            if (ready) break;
            if (performance.now() > readyBy) throw new Error(`second ${service} not ready on :${port} within 60 s`);
            await sleep(250);
          }
          // In its groups: each has a second member (a crashed first instance stays a member until its session ends).
          const groups = GROUPS_OF[service];
          let members = {};
          const joinedBy = performance.now() + 45_000;
          for (;;) {
            members = await groupMembers(admin, messaging, kafkaSettings, groups).catch(() => members);
            if (groups.every((group) => members[group] >= 2) || performance.now() > joinedBy) break;
            await sleep(500);
          }
          const notJoined = groups.filter((group) => !(members[group] >= 2));
          await sleep(holdMs);
          const stopping = performance.now();
          child.kill('SIGTERM');
          const ended = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
          if (ended === undefined) {
            child.kill('SIGKILL');
            throw new Error(`second ${service} did not stop within 30 s of SIGTERM`);
          }
          const groupsNote = groups.map((group) => `${group} ${members[group] ?? 0}`).join(', ');
          return `on :${port}, members ${groupsNote}${notJoined.length > 0 ? ` (NOT JOINED: ${notJoined.join(', ')})` : ''}; SIGTERM -> ${ended} in ${((performance.now() - stopping) / 1_000).toFixed(1)} s`;
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          secondInstances.delete(child);
          await admin.disconnect().catch(() => undefined);
        }
      },
    };

    let populationReady;
    const trafficBegins = new Promise((resolve) => { populationReady = resolve; });
    const simulation = run(process.execPath, [
      join(root, 'tools/simulate.mjs'), '--rate', String(options.rate), '--duration', `${options.durationMs / 1_000}s`, '--seed', String(options.seed),
      '--run', `chaos-${options.seed}-${Date.now().toString(36)}`.slice(0, 24), '--customers', '300', '--drain', '150s',
    ], { GATEWAY_PORT: String(BASE_PORT), DATABASE_URL: DIRECT_URL, KAFKA_NAMESPACE }, (line) => {
      if (/merchants ready in/.test(line)) populationReady();
    });
    let simulationEnded = false;
    void simulation.then(() => { simulationEnded = true; });
    // The simulator opens and funds its population first; faults start with its traffic (none if it gave up before).
    await Promise.race([trafficBegins, simulation]);
    const trafficStarted = performance.now();
    // Each fault starts at its time, whatever the others are doing (a crashed consumer's restart waits
    // for its group's session timeout, 30 s; the next faults do not wait for it).
    const inFlight = [];
    for (const [at, name, action, kind] of simulationEnded ? [] : schedule(options, faults)) {
      const wait = at - (performance.now() - trafficStarted);
      if (wait > 0) await sleep(wait);
      const faultStarted = performance.now();
      // A fault that fails (a service that does not come back) fails the run; the others go on.
      inFlight.push(action().catch((error) => {
        faultErrors.push(`${name}: ${error instanceof Error ? error.message : error}`);
        return `FAILED: ${error instanceof Error ? error.message : error}`;
      }).then((note) => {
        const entry = { at_s: Number(((faultStarted - trafficStarted) / 1_000).toFixed(1)), kind, fault: name, took_s: Number(((performance.now() - faultStarted) / 1_000).toFixed(1)), ...(note ? { note } : {}) };
        if (note?.startsWith('skipped: still restarting')) {
          skippedKills += 1;
          return;
        }
        injected.push(entry);
        log(`[${entry.at_s}s] ${name}${note ? ` (${note})` : ''}, back after ${entry.took_s} s`);
      }));
    }
    await Promise.all(inFlight);
    injected.sort((a, b) => a.at_s - b.at_s);
    if (skippedKills > 0) log(`${skippedKills} scheduled kills skipped: their service was still restarting from the previous one`);
    const simulated = await simulation;
    const summary = lastJson(simulated.stdout);
    log(`simulation ended (exit ${simulated.code}): ${summary ? `sent ${summary.sent}, decided ${summary.decided}, undecided ${summary.undecided}, drained ${summary.drained}, p99 ${summary.latency_ms?.p99} ms` : 'no report'}`);

    const duplicates = await duplicatesSkipped(platform.ports);
    log(`duplicates the consumers skipped (their inboxes; since each service's last start): ${Object.entries(duplicates).map(([group, count]) => `${group} ${count}`).join(', ') || 'none'}`);
    // The platform still runs: analytics has time to catch up before the checker compares it.
    const checked = await run(process.execPath, [join(root, 'tools/invariants.mjs'), '--analytics-wait', '60s'], { DATABASE_URL: DIRECT_URL });
    for (const line of checked.stdout.trim().split('\n').slice(0, -1)) log(`| ${line}`);
    const invariants = lastJson(checked.stdout);
    const passed = faultErrors.length === 0 && simulated.code === 0 && summary?.drained === true && checked.code === 0 && invariants?.invariants_failed === 0;
    const result = {
      chaos: options.short ? 'short' : 'full',
      seed: options.seed,
      passed,
      faults_injected: injected.length,
      faults_by_kind: Object.fromEntries([...new Set(injected.map((entry) => entry.kind))].map((kind) => [kind, injected.filter((entry) => entry.kind === kind).length])),
      redelivered_records: redelivered,
      duplicates_skipped: duplicates,
      kills_skipped: skippedKills,
      faults: injected,
      fault_errors: faultErrors,
      sent: summary?.sent ?? 0,
      decided: summary?.decided ?? 0,
      stuck: summary?.stuck?.length ?? null,
      drained: summary?.drained ?? false,
      p99_ms: summary?.latency_ms?.p99 ?? null,
      invariants_checked: invariants?.invariants_checked ?? 0,
      invariants_failed: invariants?.invariants_failed ?? null,
      failed_invariants: invariants?.failed ?? [],
      elapsed_s: Math.round((performance.now() - started) / 1_000),
    };
    log(passed ? 'PASSED: every payment came to rest and every invariant held' : 'FAILED: see above');
    console.log(JSON.stringify(result));
    process.exitCode = passed ? 0 : 1;
  } finally {
    if (frozenKafka !== undefined) process.kill(frozenKafka, 'SIGCONT');
    for (const child of children) child.kill('SIGTERM');
    for (const child of secondInstances) child.kill('SIGKILL');
    await platform?.stop();
    await Promise.all(Object.values(proxies).map((proxy) => proxy.stop()));
  }
}

main().catch((error) => {
  console.error(`chaos failed: ${error instanceof Error ? error.stack : error}`);
  process.exitCode = 2;
});

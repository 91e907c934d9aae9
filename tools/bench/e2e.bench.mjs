// End-to-end speed of the whole platform (docs/benchmarks.md, "End to end"): every service, Kafka,
// PostgreSQL and Redis on this one machine. A channel of its own (HMAC keys configured the production
// way, with a rate limit that does not get in the way) opens and funds wallets and merchants over
// signed HTTP, then sends sale payments (`POST /v1/payments`, capture automatic) at fixed offered
// rates, one step after another, open loop: a request is sent when it falls due, whatever the ones
// before it are doing. A listener on payments.events times every payment from its request to its
// outcome (PaymentCaptured, or a decline); at the end the merchants' settlement batches are closed
// and every captured payment must come out settled (PaymentSettled on payments.events, the batch's
// SettlementBatchPaidOut on settlement.events).
//
// Per step it prints the offered and completed rates, the HTTP acceptance time, the request ->
// captured latency (p50 / p95 / p99), the time per hop (gateway accepted -> PaymentRequested ->
// PaymentAuthorized -> PaymentCaptured, as the listener saw them) and each process's CPU share of
// the machine. Last, one line of JSON with `payments_per_s` (the highest completion rate a step
// sustained: its payments all completed, none left behind) and `p99_ms_at_500` (null when the
// 500/s step was not run or not sustained).
//
//   npm run bench:e2e                              # steps 25, 50, 100, 200, 500 payments/s, 20 s each
//   npm run bench:e2e -- --quick                   # steps 25, 50, 10 s each
//   npm run bench:e2e -- --rates 50,100 --step 30s --customers 4000
//
// It runs in a database of its own (clearline_bench_e2e, dropped and migrated first) on ports
// 3500-3504, with topics and consumer groups of its own on the shared broker (KAFKA_NAMESPACE,
// default bench-e2e): another platform running beside it takes none of its messages (but its CPU).
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { deleteNamespaceFromKafka, freshDatabase, kafkaPid, median, percentile, printTable, round } from './bench-support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DATABASE = 'clearline_bench_e2e';
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${DATABASE}`;
const BASE_PORT = 3500;
const CLIENT = 'bench_channel';
/** Requests in flight at most: beyond it the bench itself, not the platform, would be the limit (reported). */
const MAX_IN_FLIGHT = 1_024;
/** How long after a step's last request its payments may take to complete before they count as left behind. */
const STEP_GRACE_MS = 15_000;
const CLOCK_TICKS_PER_S = 100;
const CURRENCY = 'EUR';
/** Its own topics and consumer groups on the shared broker (KAFKA_NAMESPACE), so no other platform takes its messages. */
const NAMESPACE = process.env.KAFKA_NAMESPACE || 'bench-e2e';

function parseArguments(argv) {
  const quick = argv.includes('--quick');
  const options = { rates: quick ? [25, 50] : [25, 50, 100, 200, 500], stepMs: quick ? 10_000 : 20_000, customers: quick ? 500 : 3_000, merchants: 10 };
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inline] = argv[index].split('=', 2);
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--quick': break;
      case '--rates': {
        const rates = String(value()).split(',').map(Number);
        if (rates.length === 0 || rates.some((rate) => !Number.isInteger(rate) || rate < 1 || rate > 20_000)) throw new RangeError('--rates must be whole payments/s in 1..20000, comma separated');
        options.rates = rates;
        break;
      }
      case '--step': {
        const match = /^(\d+)(s|m)?$/.exec(value() ?? '');
        if (!match) throw new RangeError('--step must be a duration like 20s or 1m');
        options.stepMs = Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
        break;
      }
      case '--customers': options.customers = Number(value()); break;
      case '--merchants': options.merchants = Number(value()); break;
      default: throw new RangeError(`unknown option '${argv[index]}' (see the header of tools/bench/e2e.bench.mjs)`);
    }
  }
  for (const name of ['customers', 'merchants']) {
    if (!Number.isInteger(options[name]) || options[name] < 1 || options[name] > 100_000) throw new RangeError(`--${name} must be a whole number in 1..100000`);
  }
  return options;
}

// ------------------------------------------------------------------------------- CPU share ---

/** utime + stime of a process, in clock ticks; 0 once it has gone. */
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function pidsOf(user, name) {
  try {
    return execFileSync('pgrep', ['-u', user, ...(name ? ['-f', name] : [])], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The processes whose CPU is counted: the five services, the broker, PostgreSQL (every backend), Redis and this bench. */
function processGroups(platform) {
  const groups = Object.fromEntries([...platform.processes].map(([service, child]) => [service, () => [child.pid]]));
  const broker = kafkaPid();
  if (broker !== undefined) groups.kafka = () => [broker];
  groups.postgres = () => pidsOf('postgres');
  groups.redis = () => pidsOf('redis', 'redis-server').concat(pidsOf('root', 'redis-server'));
  groups.bench = () => [process.pid];
  return groups;
}

/** CPU ticks per group now; PostgreSQL's backends come and go, so a backend's ticks count from when it is first seen. */
function cpuSample(groups) {
  return Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, new Map(pids().map((pid) => [pid, cpuTicks(pid)]))]));
}

/** Each group's share of the whole machine (all cores) between two samples, in percent. */
function cpuShares(before, after, elapsedMs) {
  const capacity = (elapsedMs / 1_000) * CLOCK_TICKS_PER_S * cpus().length;
  return Object.fromEntries(Object.keys(after).map((name) => {
    let ticks = 0;
    for (const [pid, now] of after[name]) ticks += Math.max(0, now - (before[name]?.get(pid) ?? now));
    return [name, round((100 * ticks) / capacity)];
  }));
}

// ------------------------------------------------------------------------------- platform ---

async function startBenchPlatform(credentials) {
  const { encryptChannelSecret } = await import(join(root, 'apps/gateway/dist/channel-keys.js'));
  const encryptionKey = randomBytes(32);
  const channels = {
    clients: {
      [CLIENT]: {
        role: 'channel',
        rateLimit: { requestsPerSecond: 100_000, burst: 100_000 },
        keys: [{ keyId: credentials.keyId, secret: encryptChannelSecret(credentials.secret, credentials.keyId, encryptionKey) }],
      },
    },
  };
  const { startPlatform } = await import('@clearline/testing');
  return startPlatform({
    basePort: BASE_PORT,
    logDirectory: join(root, '.cache/logs/bench-e2e'),
    env: {
      DATABASE_URL,
      GATEWAY_CHANNELS: JSON.stringify(channels),
      GATEWAY_CHANNEL_SECRETS_KEY: encryptionKey.toString('base64'),
      LOG_LEVEL: 'warn',
      KAFKA_NAMESPACE: NAMESPACE,
    },
  });
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function inParallel(items, concurrency, work) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function expectAccepted(response, what) {
  if (response.status !== 202) throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body)}`);
}

/** A funding account, merchants and funded customer wallets, all opened by the bench's channel (it owns them). */
async function openPopulation(client, options, run, awaitTransfers) {
  const funding = `bench-${run}-funding`;
  const merchants = Array.from({ length: options.merchants }, (_, index) => ({ merchantId: `bench-${run}-m${index}`, accountId: `bench-${run}-m${index}-eur` }));
  const customers = Array.from({ length: options.customers }, (_, index) => ({ accountId: `bench-${run}-c${index}`, deviceId: `bench-${run}-d${index}`, ipAddress: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` }));
  const accounts = [
    { accountId: funding, ownerId: 'bench', kind: 'funding', currency: CURRENCY, allowNegativeBalance: true },
    ...merchants.map((merchant) => ({ accountId: merchant.accountId, ownerId: merchant.merchantId, kind: 'merchant', currency: CURRENCY, allowNegativeBalance: true })),
    ...customers.map((customer) => ({ accountId: customer.accountId, ownerId: customer.accountId, kind: 'customer_wallet', currency: CURRENCY })),
  ];
  await inParallel(accounts, 64, async (account) => expectAccepted(await client.post('/v1/accounts', account, `open-${account.accountId}`), `opening ${account.accountId}`));
  await client.waitFor(`/v1/accounts/${customers.at(-1).accountId}`, (response) => response.status === 200, 120_000);
  const fundings = customers.map((customer) => ({ transferId: randomUUID(), debitAccountId: funding, creditAccountId: customer.accountId, amount: { amountMinor: '100000000', currency: CURRENCY } }));
  const posted = awaitTransfers(fundings.map((transfer) => transfer.transferId));
  await inParallel(fundings, 64, async (transfer) => expectAccepted(await client.post('/v1/transfers', transfer, `fund-${transfer.transferId}`), `funding ${transfer.creditAccountId}`));
  await posted;
  return { merchants, customers };
}

// ---------------------------------------------------------------------------------- steps ---

/**
 * What the listener learns of each payment: when it was requested, authorized and captured (or
 * declined), as performance.now() of this process. Events may come before the HTTP answer names the
 * payment: they wait in `early` until it does.
 */
function paymentTracker() {
  const payments = new Map();
  const early = new Map();
  const transfers = new Map();
  const settledIds = new Set();
  const note = (payment, type, at) => {
    if (type === 'PaymentRequested') payment.requestedAt ??= at;
    else if (type === 'PaymentAuthorized') payment.authorizedAt ??= at;
    else if (type === 'PaymentCaptured' || type === 'PaymentDeclined' || type === 'PaymentFailed') {
      payment.completedAt ??= at;
      payment.outcome = { PaymentCaptured: 'captured', PaymentDeclined: 'declined', PaymentFailed: 'failed' }[type];
    } else if (type === 'PaymentInReview') payment.outcome ??= 'in_review';
  };
  return {
    payments,
    settledIds,
    onEvent(envelope, at) {
      const { type, data } = envelope;
      if (type === 'TransferPosted' || type === 'TransferRejected') transfers.get(data.transferId)?.(type);
      if (type === 'PaymentSettled') settledIds.add(data.paymentId);
      if (typeof data?.paymentId !== 'string') return;
      const payment = payments.get(data.paymentId);
      if (payment !== undefined) note(payment, type, at);
      else if (early.size < 100_000) early.set(data.paymentId, [...(early.get(data.paymentId) ?? []), [type, at]]);
    },
    accepted(paymentId, payment) {
      payments.set(paymentId, payment);
      for (const [type, at] of early.get(paymentId) ?? []) note(payment, type, at);
      early.delete(paymentId);
    },
    awaitTransfers(ids) {
      return Promise.all(ids.map((id) => new Promise((resolve, reject) => {
        transfers.set(id, (type) => (type === 'TransferPosted' ? resolve() : reject(new Error(`funding transfer ${id} was rejected`))));
      })));
    },
  };
}

/**
 * Samples, every 250 ms, the transactions holding an xid anywhere on the PostgreSQL server: xids are
 * cluster-wide, so one of them, in any database, holds back every event-store reader's horizon (the
 * outbox relays), and a long one elsewhere shows here as latency (libs/event-store README, "The price").
 */
function horizonWatch(pool) {
  let longest = { ms: 0, database: null };
  let stopped = false;
  const sampling = (async () => {
    while (!stopped) {
      try {
        const { rows } = await pool.query(`select datname, extract(epoch from now() - xact_start) * 1000 as ms from pg_stat_activity
          where backend_xid is not null and pid <> pg_backend_pid() order by xact_start limit 1`);
        if (rows[0] !== undefined && Number(rows[0].ms) > longest.ms) longest = { ms: Math.round(Number(rows[0].ms)), database: rows[0].datname };
      } catch {
        // A sample missed changes nothing.
      }
      await sleep(250);
    }
  })();
  return { reset: () => { longest = { ms: 0, database: null }; }, read: () => longest, stop: async () => { stopped = true; await sampling; } };
}

async function runStep(rate, options, context) {
  const { client, population, tracker, groups, sequence, horizon } = context;
  horizon.reset();
  const total = Math.round((rate * options.stepMs) / 1_000);
  const step = { rate, sent: 0, accepted: 0, refused: new Map(), httpMs: [], payments: [], clientLimited: 0 };
  let inFlight = 0;
  const cpuBefore = cpuSample(groups);
  const started = performance.now();
  const requests = [];
  while (step.sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1_000) + 1);
    for (; step.sent < due; step.sent += 1) {
      if (inFlight >= MAX_IN_FLIGHT) {
        step.clientLimited += 1;
        continue;
      }
      const index = sequence.next++;
      const customer = population.customers[index % population.customers.length];
      const merchant = population.merchants[index % population.merchants.length];
      const sentAt = performance.now();
      inFlight += 1;
      requests.push(client.post('/v1/payments', {
        channel: 'e_wallet', merchantId: merchant.merchantId, merchantAccountId: merchant.accountId, payerAccountId: customer.accountId,
        amount: { amountMinor: String(500 + (index % 5_000)), currency: CURRENCY }, method: 'wallet', captureMode: 'automatic',
        riskContext: { deviceId: customer.deviceId, ipAddress: customer.ipAddress },
      }).then((response) => {
        const answeredAt = performance.now();
        step.httpMs.push(answeredAt - sentAt);
        if (response.status === 202) {
          step.accepted += 1;
          const payment = { sentAt, answeredAt, merchantAccountId: merchant.accountId };
          step.payments.push(payment);
          tracker.accepted(response.body.paymentId, payment);
        } else {
          const reason = `${response.status} ${response.body?.type ?? ''}`.trim();
          step.refused.set(reason, (step.refused.get(reason) ?? 0) + 1);
        }
      }, (error) => {
        step.refused.set(`error ${error.name}`, (step.refused.get(`error ${error.name}`) ?? 0) + 1);
      }).finally(() => {
        inFlight -= 1;
      }));
    }
    await sleep(2);
  }
  const sendingEnded = performance.now();
  const cpuAfter = cpuSample(groups);
  step.cpu = cpuShares(cpuBefore, cpuAfter, sendingEnded - started);
  step.longestTransaction = horizon.read();
  await Promise.all(requests);
  // Stragglers: the step's payments get a grace period to complete.
  const deadline = performance.now() + STEP_GRACE_MS;
  while (performance.now() < deadline && step.payments.some((payment) => payment.completedAt === undefined && payment.outcome !== 'in_review')) await sleep(100);
  const completed = step.payments.filter((payment) => payment.completedAt !== undefined);
  const lastCompletion = Math.max(sendingEnded, ...completed.map((payment) => payment.completedAt));
  step.durationS = (sendingEnded - started) / 1_000;
  step.completed = completed.length;
  step.leftBehind = step.payments.length - completed.length;
  step.completedPerS = completed.length / ((lastCompletion - started) / 1_000);
  step.sustained = step.leftBehind === 0 && step.clientLimited === 0 && step.refused.size === 0 && lastCompletion - sendingEnded < 2_000;
  step.outcomes = Object.fromEntries(['captured', 'declined', 'failed', 'in_review'].map((outcome) => [outcome, step.payments.filter((payment) => payment.outcome === outcome).length]));
  const sortedMs = (values) => values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  const captured = completed.filter((payment) => payment.outcome === 'captured');
  step.latencyMs = sortedMs(captured.map((payment) => payment.completedAt - payment.sentAt));
  step.hopsMs = {
    http: median(sortedMs(step.httpMs)),
    to_requested: median(sortedMs(captured.map((payment) => payment.requestedAt - payment.answeredAt))),
    to_authorized: median(sortedMs(captured.map((payment) => payment.authorizedAt - payment.requestedAt))),
    to_captured: median(sortedMs(captured.map((payment) => payment.completedAt - payment.authorizedAt))),
  };
  return step;
}

// -------------------------------------------------------------------------------- settle ---

/**
 * Closes the merchants' settlement batches until every captured payment is settled: a capture counted
 * after its merchant's batch closed is in the next batch, closed on the next round (every 3 s).
 */
async function settleAll(client, population, tracker, capturedIds) {
  const started = performance.now();
  const deadline = started + 120_000;
  const merchantAccountOf = new Map([...tracker.payments].map(([id, payment]) => [id, payment.merchantAccountId]));
  let closes = 0;
  for (;;) {
    const waiting = new Set(capturedIds.filter((id) => !tracker.settledIds.has(id)).map((id) => merchantAccountOf.get(id)));
    if (waiting.size === 0 || performance.now() > deadline) break;
    await inParallel(population.merchants.filter((merchant) => waiting.has(merchant.accountId)), 4, async (merchant) => {
      const response = await client.post('/v1/settlement-batches/close', { merchantAccountId: merchant.accountId, currency: CURRENCY });
      // 409: no open batch in the read model yet (or nothing left to close); the next round looks again.
      if (response.status === 202) closes += 1;
      else if (response.status !== 409 && response.status !== 503) throw new Error(`closing ${merchant.accountId}'s batch: ${response.status} ${JSON.stringify(response.body)}`);
    });
    const roundEnds = performance.now() + 3_000;
    while (performance.now() < roundEnds && capturedIds.some((id) => !tracker.settledIds.has(id))) await sleep(200);
  }
  return { settled: capturedIds.filter((id) => tracker.settledIds.has(id)).length, captured: capturedIds.length, closes, seconds: (performance.now() - started) / 1_000 };
}

// ---------------------------------------------------------------------------------- main ---

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const run = randomUUID().slice(0, 8);
  const { default: pg } = await import('pg');
  console.error(`bench:e2e: fresh database ${DATABASE} ...`);
  await freshDatabase(pg, { adminUrl: ADMIN_URL, database: DATABASE, databaseUrl: DATABASE_URL });
  const credentials = { keyId: `bench-${run}`, secret: randomBytes(32).toString('base64url') };
  const platform = await startBenchPlatform(credentials);
  const stopOnSignal = () => void platform.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const { gatewayClient } = await import('@clearline/testing');
  const { Topics } = await import('@clearline/contracts');
  const { createKafka, kafkaSettingsFromEnv, physicalGroup, physicalTopic, silentLogger } = await import('@clearline/messaging');
  const client = gatewayClient(`http://127.0.0.1:${platform.ports.gateway}`, credentials);
  const tracker = paymentTracker();
  const settings = { ...kafkaSettingsFromEnv('clearline-bench-e2e', { ...process.env, KAFKA_NAMESPACE: NAMESPACE }), logLevel: 'nothing' };
  const listener = createKafka(settings, silentLogger).consumer({ groupId: physicalGroup(settings, `bench-e2e-${run}`), maxWaitTimeInMs: 20 });
  try {
    const joined = new Promise((resolve) => listener.on(listener.events.GROUP_JOIN, resolve));
    await listener.connect();
    await listener.subscribe({ topics: [Topics.paymentsEvents, Topics.ledgerEvents, Topics.settlementEvents].map((topic) => physicalTopic(settings, topic)), fromBeginning: false });
    await listener.run({
      partitionsConsumedConcurrently: 6,
      eachMessage: async ({ message }) => {
        try {
          tracker.onEvent(JSON.parse(String(message.value)), performance.now());
        } catch {
          // Not JSON: nothing of ours (the bench's own namespace holds only the platform's records).
        }
      },
    });
    await joined;

    const setupStarted = performance.now();
    const population = await openPopulation(client, options, run, (ids) => tracker.awaitTransfers(ids));
    console.error(`bench:e2e: ${options.customers} funded wallets and ${options.merchants} merchants opened over signed HTTP in ${round((performance.now() - setupStarted) / 1_000)} s`);

    const groups = processGroups(platform);
    const statsPool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const horizon = horizonWatch(statsPool);
    const context = { client, population, tracker, groups, horizon, sequence: { next: 0 } };
    const steps = [];
    for (const rate of options.rates) {
      console.error(`bench:e2e: ${rate} payments/s for ${options.stepMs / 1_000} s ...`);
      const step = await runStep(rate, options, context);
      steps.push(step);
      console.error(`bench:e2e:   completed ${step.completed}/${step.accepted} (${round(step.completedPerS)}/s), p99 ${round(percentile(step.latencyMs, 0.99))} ms${step.sustained ? '' : ', NOT sustained'}`);
      // Past saturation a further step only measures a growing queue.
      if (!step.sustained && step.completedPerS < 0.8 * rate) break;
    }
    await horizon.stop();
    await statsPool.end();
    const capturedIds = [...tracker.payments].filter(([, payment]) => payment.outcome === 'captured').map(([id]) => id);
    console.error(`bench:e2e: closing settlement batches for ${capturedIds.length} captured payments ...`);
    const settlement = await settleAll(client, population, tracker, capturedIds);

    console.log(`\nEnd to end, signed HTTP in -> captured (payments.events), ${options.customers} wallets, ${options.merchants} merchants, ${cpus().length} cores\n`);
    printTable(['offered /s', 'accepted', 'completed /s', 'left behind', 'HTTP p50 ms', 'p50 ms', 'p95 ms', 'p99 ms', 'sustained'], steps.map((step) => [
      String(step.rate), String(step.accepted), String(round(step.completedPerS)), String(step.leftBehind), String(round(step.hopsMs.http)),
      String(round(percentile(step.latencyMs, 0.5))), String(round(percentile(step.latencyMs, 0.95))), String(round(percentile(step.latencyMs, 0.99))), step.sustained ? 'yes' : 'no',
    ]));
    console.log('\nWhere the time goes (medians, ms): HTTP answer; answer -> PaymentRequested; -> PaymentAuthorized (risk, ledger hold); -> PaymentCaptured (ledger capture)\n');
    printTable(['offered /s', 'HTTP', 'requested', 'authorized', 'captured', 'outcomes'], steps.map((step) => [
      String(step.rate), String(round(step.hopsMs.http)), String(round(step.hopsMs.to_requested)), String(round(step.hopsMs.to_authorized)), String(round(step.hopsMs.to_captured)),
      Object.entries(step.outcomes).filter(([, count]) => count > 0).map(([outcome, count]) => `${outcome} ${count}`).join(', '),
    ]));
    const groupNames = Object.keys(steps[0].cpu);
    console.log('\nCPU share of the machine while sending (% of all cores)\n');
    printTable(['offered /s', ...groupNames, 'idle'], steps.map((step) => [
      String(step.rate), ...groupNames.map((name) => String(step.cpu[name])), String(round(Math.max(0, 100 - Object.values(step.cpu).reduce((sum, share) => sum + share, 0)))),
    ]));
    console.log('\nLongest transaction holding an xid on the server while sending (any database; it holds back every outbox relay):');
    for (const step of steps) console.log(`  ${step.rate}/s: ${step.longestTransaction.ms} ms${step.longestTransaction.database ? ` (${step.longestTransaction.database})` : ''}`);
    console.log(`\nSettlement: ${settlement.settled}/${settlement.captured} captured payments settled ${round(settlement.seconds)} s after the first close (${settlement.closes} batches closed)`);
    for (const step of steps.filter((candidate) => candidate.refused.size > 0)) console.log(`refused at ${step.rate}/s: ${[...step.refused].map(([reason, count]) => `${reason} x${count}`).join(', ')}`);

    const sustained = steps.filter((step) => step.sustained);
    const at500 = steps.find((step) => step.rate === 500);
    console.log(JSON.stringify({
      bench: 'e2e',
      payments_per_s: sustained.length === 0 ? 0 : round(Math.max(...sustained.map((step) => step.completedPerS))),
      p99_ms_at_500: at500?.sustained ? round(percentile(at500.latencyMs, 0.99)) : null,
      steps: steps.map((step) => ({
        offered_per_s: step.rate, accepted: step.accepted, completed_per_s: round(step.completedPerS), left_behind: step.leftBehind, sustained: step.sustained,
        latency_ms: { p50: round(percentile(step.latencyMs, 0.5)), p95: round(percentile(step.latencyMs, 0.95)), p99: round(percentile(step.latencyMs, 0.99)) },
        hops_ms: Object.fromEntries(Object.entries(step.hopsMs).map(([hop, value]) => [hop, round(value)])), outcomes: step.outcomes, cpu_percent: step.cpu,
        longest_transaction_ms: step.longestTransaction.ms, longest_transaction_database: step.longestTransaction.database,
      })),
      settlement,
    }));
  } finally {
    await listener.disconnect().catch(() => undefined);
    await platform.stop();
    // Quietly (a failure is reported): the JSON line stays the last line printed.
    await deleteNamespaceFromKafka(NAMESPACE);
  }
}

main().catch((error) => {
  console.error(`bench:e2e failed: ${error instanceof Error ? error.stack : error}`);
  process.exit(1);
});

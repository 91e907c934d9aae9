// `npm run simulate -- --rate 200 --duration 60s [--seed 42] [--run label] [--merchants 10]
// [--customers 1000] [--drain 60s] [--no-settle]`: realistic payment traffic straight onto Kafka
// (payments.commands and ledger.commands, the channels' own path), against the running platform or
// one it starts. Opens and funds a population, sends payments at a fixed rate (sales, authorizations
// captured in full or in part, voided or left to expire, partial refunds, velocity bursts, account
// takeovers, a device farm), follows every payment on payments.events, closes the settlement batches
// at the end, and prints a report and a final one-line JSON. A seed and run label reproduce the same
// traffic; a run label is used once per database (its accounts and payments then exist).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { population, trafficOf, uuidFor } from './simulate/traffic.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const GATEWAY_HEALTH = `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 3000}/health/ready`;
const SETUP_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 60_000;
const MAX_ENVELOPES_PER_PUBLISH = 2_000;

function parseArguments(argv) {
  const options = { rate: 100, durationMs: 30_000, seed: 42, run: undefined, merchants: 10, customers: 1_000, drainMs: 60_000, settle: true };
  const duration = (text, name) => {
    const match = /^(\d+)(ms|s|m)?$/.exec(text ?? '');
    if (!match) throw new RangeError(`${name} must be a duration like 500ms, 30s or 2m, got '${text}'`);
    return Number(match[1]) * ({ ms: 1, s: 1_000, m: 60_000 }[match[2] ?? 's']);
  };
  const positive = (text, name, max) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be an integer in 1..${max}, got '${text}'`);
    return value;
  };
  for (let index = 0; index < argv.length; index += 1) {
    const [flag, inline] = argv[index].split('=', 2);
    const value = () => inline ?? argv[++index];
    switch (flag) {
      case '--rate': options.rate = positive(value(), '--rate', 20_000); break;
      case '--duration': options.durationMs = duration(value(), '--duration'); break;
      case '--seed': options.seed = positive(value(), '--seed', 2 ** 31); break;
      case '--run': {
        const label = value();
        if (!/^[a-z0-9-]{1,24}$/.test(label ?? '')) throw new RangeError(`--run must be 1-24 characters of a-z, 0-9 and -, got '${label}'`);
        options.run = label;
        break;
      }
      case '--merchants': options.merchants = positive(value(), '--merchants', 1_000); break;
      case '--customers': options.customers = positive(value(), '--customers', 100_000); break;
      case '--drain': options.drainMs = duration(value(), '--drain'); break;
      case '--no-settle': options.settle = false; break;
      default: throw new RangeError(`unknown option '${argv[index]}' (see the header of tools/simulate.mjs)`);
    }
  }
  options.run ??= `${options.seed}-${Date.now().toString(36)}`;
  return options;
}

/** The running platform, or one started here (and stopped at the end). */
async function ensurePlatform() {
  try {
    // A generous wait: nothing listening fails at once, while a platform on a busy machine may answer
    // slowly, and taking it for absent would start a second one beside it.
    const response = await fetch(GATEWAY_HEALTH, { signal: AbortSignal.timeout(15_000) });
    if (response.ok) {
      console.error('simulate: using the running platform');
      return { stop: async () => undefined };
    }
  } catch {
    // Nothing answers: start it below.
  }
  execFileSync('bash', [join(root, 'deploy/local/infra'), 'up'], { stdio: ['ignore', process.stderr, 'inherit'] });
  const { startPlatform } = await import('@clearline/testing');
  console.error('simulate: starting gateway, payments, ledger, risk and analytics ...');
  const platform = await startPlatform({ env: { DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearline' } });
  console.error(`simulate: platform up (logs in ${platform.logDirectory})`);
  return platform;
}

/** Envelopes out through one publisher, one publish in flight: what falls due meanwhile goes in the next. */
function outbox(publisher, contractFor, producer) {
  let waiting = [];
  let flight = Promise.resolve();
  let sent = 0;
  const flush = async () => {
    while (waiting.length > 0) {
      const envelopes = waiting.slice(0, MAX_ENVELOPES_PER_PUBLISH);
      waiting = waiting.slice(envelopes.length);
      try {
        await publisher.publish(envelopes);
        sent += envelopes.length;
      } catch (error) {
        // The broker is away (a chaos run restarts it): keep the envelopes, in order, and try again.
        // Their ids are fixed, so one that did reach the broker is de-duplicated by its consumer.
        waiting = [...envelopes, ...waiting];
        console.error(`simulate: publish failed (${error instanceof Error ? error.message : error}); retrying in 1 s`);
        await sleep(1_000);
      }
    }
  };
  return {
    send(type, data, correlationId = randomUUID()) {
      waiting.push({
        id: randomUUID(), type, schemaVersion: contractFor(type).schemaVersion, data,
        metadata: { correlationId, causationId: correlationId, occurredAt: new Date().toISOString(), producer },
      });
      flight = flight.then(flush);
      return flight;
    },
    drained: () => flight,
    get sent() { return sent; },
  };
}

function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] * 10) / 10;
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const platform = await ensurePlatform();
  // Whatever happens from here, a platform started here is stopped again: an orphan would keep
  // consuming the fixed consumer groups and take messages from every later run and test.
  const stopOnSignal = () => {
    platform.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    await simulate(options);
  } finally {
    await platform.stop();
  }
}

async function simulate(options) {
  const { ALL_TOPICS, contractFor, Topics } = await import('@clearline/contracts');
  const { createKafka, ensureTopics, kafkaSettingsFromEnv, MessagePublisher, silentLogger } = await import('@clearline/messaging');
  const { Registry } = await import('prom-client');
  const settings = { ...kafkaSettingsFromEnv('clearline-simulator'), logLevel: 'nothing' };
  await ensureTopics(settings, ALL_TOPICS);
  const publisher = new MessagePublisher({ settings, producerName: 'simulator', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
  const out = outbox(publisher, contractFor, 'simulator');

  const people = population(options);
  const traffic = trafficOf(people, options);
  const payments = new Map();
  const awaitedAccounts = new Set();
  const awaitedTransfers = new Set();
  const closedBatches = new Set();
  const counts = { declinedByReason: new Map(), commandRejected: new Map() };
  const startedAt = performance.now();

  // Every payment's story, from the events the platform publishes.
  const listener = createKafka(settings, silentLogger).consumer({
    groupId: `simulator-${options.run}-${randomUUID().slice(0, 8)}`, maxWaitTimeInMs: 100,
    // Whatever failed (the broker restarted under a chaos run), the listener rejoins and goes on.
    retry: { restartOnFailure: async () => true },
  });
  const joined = new Promise((resolve) => listener.on(listener.events.GROUP_JOIN, resolve));
  await listener.connect();
  await listener.subscribe({ topics: [Topics.paymentsEvents, Topics.ledgerEvents, Topics.settlementEvents], fromBeginning: false });
  await listener.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ message }) => {
      const envelope = JSON.parse(String(message.value));
      const data = envelope.data;
      if (envelope.type === 'AccountOpened') awaitedAccounts.delete(data.accountId);
      else if (envelope.type === 'AccountCommandRejected' && data.reasonCode === 'account_already_exists') awaitedAccounts.delete(data.accountId);
      else if (envelope.type === 'TransferPosted') awaitedTransfers.delete(data.transferId);
      else if (envelope.type === 'SettlementBatchClosed') closedBatches.add(`${data.merchantId}/${data.currency}`);
      const payment = data?.paymentId === undefined ? undefined : payments.get(data.paymentId);
      if (payment !== undefined) follow(payment, envelope);
    },
  });
  await joined;

  // ---------------------------------------------------------------------------------- setup ---
  const setupStarted = performance.now();
  const open = (accountId, kind, currency, extra = {}) => {
    awaitedAccounts.add(accountId);
    return out.send('OpenAccount', { accountId, ownerId: accountId, kind, currency, ...extra });
  };
  for (const [currency, accountId] of Object.entries(people.funding)) open(accountId, 'funding', currency, { allowNegativeBalance: true });
  for (const merchant of people.merchants) {
    for (const [currency, accountId] of Object.entries(merchant.accounts)) open(accountId, 'merchant', currency, { allowNegativeBalance: true });
  }
  for (const customer of people.customers) open(customer.accountId, 'customer_wallet', customer.currency);
  await waitFor('the accounts to open', () => awaitedAccounts.size === 0, SETUP_TIMEOUT_MS, () => `${awaitedAccounts.size} accounts still opening`);
  for (const [index, customer] of people.customers.entries()) {
    const transferId = uuidFor(options.run, `funding-${index}`);
    awaitedTransfers.add(transferId);
    out.send('PostTransfer', {
      transferId, debitAccountId: people.funding[customer.currency], creditAccountId: customer.accountId,
      amount: { amountMinor: customer.fundingMinor.toString(), currency: customer.currency },
    });
  }
  await waitFor('the wallets to be funded', () => awaitedTransfers.size === 0, SETUP_TIMEOUT_MS, () => `${awaitedTransfers.size} fundings outstanding`);
  console.error(`simulate: ${people.customers.length} wallets and ${people.merchants.length} merchants ready in ${((performance.now() - setupStarted) / 1_000).toFixed(1)} s (run ${options.run}, seed ${options.seed})`);

  // -------------------------------------------------------------------------------- traffic ---
  const timers = new Set();
  const later = (delayMs, action) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, delayMs);
    timers.add(timer);
  };
  function follow(payment, envelope) {
    const at = performance.now();
    const { type, data } = envelope;
    payment.events.push(type);
    const decide = (outcome) => {
      if (payment.decidedAt !== undefined) return;
      payment.decidedAt = at;
      payment.outcome = outcome;
    };
    switch (type) {
      case 'PaymentDeclined':
        decide('declined');
        counts.declinedByReason.set(`${data.stage}:${data.reasonCode}`, (counts.declinedByReason.get(`${data.stage}:${data.reasonCode}`) ?? 0) + 1);
        payment.final = true;
        break;
      case 'PaymentFailed':
        decide('failed');
        payment.final = true;
        break;
      case 'PaymentInReview':
        payment.inReview = true;
        break;
      case 'PaymentAuthorized':
        if (payment.intent.request.captureMode === 'manual') {
          decide('authorized');
          afterAuthorization(payment);
        }
        break;
      case 'PaymentCaptured':
        decide('captured');
        payment.capturedMinor = BigInt(data.amount.amountMinor);
        payment.final = payment.intent.refunds.length === 0;
        for (const [index, refund] of payment.intent.refunds.entries()) {
          later(refund.delayMs * (index + 1), () => out.send('RefundPayment', {
            paymentId: payment.intent.paymentId, commandId: `sim-refund-${payment.intent.index}-${index}`,
            refundId: uuidFor(options.run, `refund-${payment.intent.index}-${index}`),
            amount: { amountMinor: String(refund.amountMinor), currency: payment.intent.request.amount.currency },
          }));
        }
        break;
      case 'PaymentRefunded':
      case 'RefundFailed':
        payment.refundsAnswered = (payment.refundsAnswered ?? 0) + 1;
        if (type === 'PaymentRefunded') payment.refundedMinor = BigInt(data.refundedTotal?.amountMinor ?? data.amount.amountMinor);
        if (payment.refundsAnswered >= payment.intent.refunds.length) payment.final = true;
        break;
      case 'PaymentVoided':
      case 'PaymentExpired':
        payment.final = true;
        payment.ended = type === 'PaymentVoided' ? 'voided' : 'expired';
        break;
      case 'PaymentSettled':
        payment.settled = true;
        break;
      case 'PaymentCommandRejected':
        counts.commandRejected.set(data.reasonCode, (counts.commandRejected.get(data.reasonCode) ?? 0) + 1);
        payment.final = true;
        break;
      default:
        break;
    }
  }
  function afterAuthorization(payment) {
    const { afterAuthorization: plan, paymentId, index } = payment.intent;
    const currency = payment.intent.request.amount.currency;
    if (plan.kind === 'capture') later(plan.delayMs, () => out.send('CapturePayment', { paymentId, commandId: `sim-capture-${index}` }));
    else if (plan.kind === 'partial_capture') {
      later(plan.delayMs, () => out.send('CapturePayment', { paymentId, commandId: `sim-capture-${index}`, amount: { amountMinor: String(plan.amountMinor), currency } }));
    } else if (plan.kind === 'void') later(plan.delayMs, () => out.send('VoidPayment', { paymentId, commandId: `sim-void-${index}` }));
  }

  const trafficStarted = performance.now();
  const total = Math.round((options.rate * options.durationMs) / 1_000);
  let sent = 0;
  let lastProgress = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - trafficStarted) * options.rate) / 1_000) + 1);
    for (; sent < due; sent += 1) {
      const intent = traffic.next();
      payments.set(intent.paymentId, { intent, sentAt: performance.now(), events: [] });
      out.send('RequestPayment', { paymentId: intent.paymentId, ...intent.request }, intent.paymentId);
    }
    if (performance.now() - lastProgress >= 1_000) {
      lastProgress = performance.now();
      progress(`sending ${sent}/${total}`);
    }
    await sleep(5);
  }
  await out.drained();
  const sendSeconds = (performance.now() - trafficStarted) / 1_000;
  // A payment in review waits for an analyst (or its review timeout, hours away): done for this run.
  const settledDown = (payment) => payment.final || (payment.inReview && payment.decidedAt === undefined);
  const drained = await waitFor('every payment to be decided and followed through', () => [...payments.values()].every(settledDown) && timers.size === 0,
    options.drainMs, () => `${[...payments.values()].filter((payment) => !settledDown(payment)).length} payments still moving`, () => progress('draining'), { throwOnTimeout: false });

  // ------------------------------------------------------------------------------- settlement ---
  let settledBatches = 0;
  if (options.settle && drained) {
    const wanted = new Set();
    for (const payment of payments.values()) {
      if (payment.capturedMinor !== undefined) wanted.add(`${payment.intent.request.merchantId}/${payment.intent.request.amount.currency}`);
    }
    for (const key of wanted) {
      const [merchantId, currency] = key.split('/');
      out.send('CloseSettlementBatch', { commandId: `sim-close-${options.run}-${merchantId}-${currency}`, merchantId, currency });
    }
    await waitFor('the settlement batches to close', () => [...wanted].every((key) => closedBatches.has(key)), SETTLE_TIMEOUT_MS,
      () => `${[...wanted].filter((key) => !closedBatches.has(key)).length} batches still open`);
    settledBatches = wanted.size;
    await sleep(1_000); // the batches' PaymentSettled events trail the close by a relay batch at most
  }

  // ---------------------------------------------------------------------------------- report ---
  const all = [...payments.values()];
  const outcome = (name) => all.filter((payment) => payment.outcome === name).length;
  const latencies = all.filter((payment) => payment.decidedAt !== undefined).map((payment) => payment.decidedAt - payment.sentAt).sort((a, b) => a - b);
  const patterns = new Map();
  for (const payment of all) {
    const entry = patterns.get(payment.intent.pattern) ?? { sent: 0, approved: 0, declined: 0, review: 0 };
    entry.sent += 1;
    if (payment.outcome === 'declined') entry.declined += 1;
    else if (payment.outcome === 'captured' || payment.outcome === 'authorized') entry.approved += 1;
    if (payment.inReview) entry.review += 1;
    patterns.set(payment.intent.pattern, entry);
  }
  const summary = {
    simulation: 'payments',
    run: options.run,
    seed: options.seed,
    offered_rate_per_s: options.rate,
    achieved_send_rate_per_s: Math.round(total / sendSeconds),
    sent: total,
    decided: latencies.length,
    captured: outcome('captured'),
    authorized_awaiting_capture: outcome('authorized'),
    declined: outcome('declined'),
    failed: outcome('failed'),
    in_review: all.filter((payment) => payment.inReview && payment.outcome === undefined).length,
    voided: all.filter((payment) => payment.ended === 'voided').length,
    expired: all.filter((payment) => payment.ended === 'expired').length,
    refunded: all.filter((payment) => payment.refundedMinor !== undefined).length,
    settled: all.filter((payment) => payment.settled).length,
    settlement_batches_closed: settledBatches,
    undecided: all.filter((payment) => payment.decidedAt === undefined && !payment.inReview).length,
    stuck: all.filter((payment) => !settledDown(payment)).map((payment) => ({ paymentId: payment.intent.paymentId, pattern: payment.intent.pattern, events: payment.events })).slice(0, 20),
    drained,
    declined_by_reason: Object.fromEntries([...counts.declinedByReason].sort((a, b) => b[1] - a[1])),
    commands_rejected_by_reason: Object.fromEntries(counts.commandRejected),
    by_pattern: Object.fromEntries(patterns),
    latency_ms: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99), max: latencies.length ? Math.round(latencies.at(-1)) : null },
    elapsed_s: Math.round((performance.now() - startedAt) / 100) / 10,
  };
  process.stderr.write('\n');
  console.log(`sent ${summary.sent} at ${summary.achieved_send_rate_per_s}/s (offered ${options.rate}/s): captured ${summary.captured}, authorized ${summary.authorized_awaiting_capture}, declined ${summary.declined}, failed ${summary.failed}, in review ${summary.in_review}, voided ${summary.voided}, expired ${summary.expired}, refunded ${summary.refunded}, settled ${summary.settled} in ${settledBatches} batches, undecided ${summary.undecided}`);
  console.log(`decision latency (request sent -> captured, authorized or declined): p50 ${summary.latency_ms.p50} ms, p95 ${summary.latency_ms.p95} ms, p99 ${summary.latency_ms.p99} ms`);
  for (const [reason, count] of Object.entries(summary.declined_by_reason)) console.log(`  declined ${reason}: ${count}`);
  for (const [pattern, entry] of patterns) console.log(`  ${pattern}: sent ${entry.sent}, approved ${entry.approved}, declined ${entry.declined}, review ${entry.review}`);
  console.log(JSON.stringify(summary));

  for (const timer of timers) clearTimeout(timer);
  await listener.disconnect();
  await publisher.disconnect();
  if (!drained) throw new Error('some payments never came to rest (see "stuck" in the JSON above)');

  function progress(stage) {
    const decided = [...payments.values()].filter((payment) => payment.decidedAt !== undefined).length;
    const elapsed = ((performance.now() - trafficStarted) / 1_000).toFixed(0);
    const line = `simulate [${elapsed}s] ${stage}: sent ${payments.size}, decided ${decided}, in flight ${payments.size - decided}, published ${out.sent}`;
    process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(100)}` : `${line}\n`);
  }
}

/** Polls `done` until true (returns true) or the timeout: then throws, or returns false with { throwOnTimeout: false }. */
async function waitFor(what, done, timeoutMs, describe, onTick = () => undefined, { throwOnTimeout = true } = {}) {
  const deadline = performance.now() + timeoutMs;
  let lastTick = performance.now();
  while (!done()) {
    if (performance.now() > deadline) {
      const message = `timed out after ${Math.round(timeoutMs / 1_000)} s waiting for ${what}: ${describe()}`;
      if (throwOnTimeout) throw new Error(message);
      console.error(`\nsimulate: ${message}; reporting what happened`);
      return false;
    }
    if (performance.now() - lastTick >= 1_000) {
      lastTick = performance.now();
      onTick();
    }
    await sleep(50);
  }
  return true;
}

try {
  await main();
  process.exit(0);
} catch (error) {
  console.error(`\nsimulate failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}

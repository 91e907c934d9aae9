// `npm run simulate -- --rate 200 --duration 60s [--seed 42] [--run label] [--merchants 10]
// [--customers 1000] [--drain 60s] [--no-settle] [--reuse 0.3]`: realistic payment traffic straight onto Kafka
// (payments.commands and ledger.commands, the channels' own path), against the running platform or
// one it starts. Opens and funds a population, sends payments at a fixed rate (sales, authorizations
// captured in full or in part, voided or left to expire, partial refunds, velocity bursts, account
// takeovers, a device farm), follows every payment on payments.events, closes the settlement batches
// at the end, and prints a report and a final one-line JSON. A seed and run label reproduce the same
// traffic; a run label is used once per database (its accounts and payments then exist).
//
// --reuse <fraction> (default 0: none) adds Jepsen's idempotence workload: that fraction of the payment
// commands sent are re-sends of an earlier command's id (a RequestPayment's paymentId, a capture's or
// void's commandId, a refund's commandId or refundId), half with the same fields and half with changed
// ones (drawn from the seed). After the run the simulator reads the payments' streams from the event
// store (DATABASE_URL, default the platform's `clearline` database) and requires what the platform
// promises (docs/payments.md): per id at most one success, with the first command's amounts; a
// same-field re-send has no effect at all; a changed one is refused (PaymentCommandRejected
// `duplicate_command_different_body`, or for a RequestPayment a dead letter "already exists with
// different details"), unless the first was itself refused (the id is then still free). The report
// and the JSON's `reuse` object count re-sends, refusals by reason and violations; a violation fails
// the run (exit code 1).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { population, resendsPerCommand, trafficOf, uuidFor } from './simulate/traffic.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/clearline';
const GATEWAY_HEALTH = `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 3000}/health/ready`;
const SETUP_TIMEOUT_MS = 120_000;
const SETTLE_TIMEOUT_MS = 60_000;
const MAX_ENVELOPES_PER_PUBLISH = 2_000;
/** After the drain, how long the changed re-sends may take to be refused before they count as unanswered. */
const RESEND_ANSWER_TIMEOUT_MS = 30_000;
/** Then how long same-field re-sends still in a partition's queue get to show an effect they must not have. */
const RESEND_SETTLE_MS = 2_000;
const MAX_VIOLATION_EXAMPLES = 20;

function parseArguments(argv) {
  const options = { rate: 100, durationMs: 30_000, seed: 42, run: undefined, merchants: 10, customers: 1_000, drainMs: 60_000, settle: true, reuse: 0 };
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
      case '--reuse': {
        // At most 0.9: beyond, nine re-sends per command would drown the traffic they re-send.
        const text = value();
        const fraction = Number(text);
        if (!/^\d*\.?\d+$/.test(text ?? '') || !(fraction >= 0 && fraction <= 0.9)) throw new RangeError(`--reuse must be a fraction in 0..0.9, got '${text}'`);
        options.reuse = fraction;
        break;
      }
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
  const platform = await startPlatform({ env: { DATABASE_URL: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL } });
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
    send(type, data, correlationId = randomUUID(), id = randomUUID()) {
      waiting.push({
        id, type, schemaVersion: contractFor(type).schemaVersion, data,
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
  const { ALL_TOPICS, canonicalJson, contractFor, deadLetterTopicOf, Topics } = await import('@clearline/contracts');
  const { createKafka, ensureTopics, headerText, kafkaSettingsFromEnv, logicalTopic, MessagePublisher, physicalGroup, physicalTopic, silentLogger } = await import('@clearline/messaging');
  const { Registry } = await import('prom-client');
  const settings = { ...kafkaSettingsFromEnv('clearline-simulator'), logLevel: 'nothing' };
  await ensureTopics(settings, ALL_TOPICS);
  const publisher = new MessagePublisher({ settings, producerName: 'simulator', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
  const out = outbox(publisher, contractFor, 'simulator');

  const people = population(options);
  const traffic = trafficOf(people, options);
  const payments = new Map();
  /** Ids of the events already followed: each event once, however often Kafka delivers it. */
  const followed = new Set();
  const reuse = options.reuse > 0 ? reuseWorkload(canonicalJson, await import('@clearline/payments-domain')) : undefined;
  const awaitedAccounts = new Set();
  const awaitedTransfers = new Set();
  const closedBatches = new Set();
  const counts = { declinedByReason: new Map(), commandRejected: new Map() };
  const startedAt = performance.now();

  // Every payment's story, from the events the platform publishes.
  const listener = createKafka(settings, silentLogger).consumer({
    groupId: physicalGroup(settings, `simulator-${options.run}-${randomUUID().slice(0, 8)}`), maxWaitTimeInMs: 100,
    // Whatever failed (the broker restarted under a chaos run), the listener rejoins and goes on.
    retry: { restartOnFailure: async () => true },
  });
  const joined = new Promise((resolve) => listener.on(listener.events.GROUP_JOIN, resolve));
  await listener.connect();
  // With re-sends, the dead letters of payments.commands too: where a conflicting RequestPayment goes.
  const commandDeadLetters = deadLetterTopicOf(Topics.paymentsCommands);
  // KAFKA_NAMESPACE (a chaos run's own topics): the platform's and this listener's names on the broker.
  await listener.subscribe({ topics: [Topics.paymentsEvents, Topics.ledgerEvents, Topics.settlementEvents, ...(reuse ? [commandDeadLetters] : [])].map((topic) => physicalTopic(settings, topic)), fromBeginning: false });
  await listener.run({
    partitionsConsumedConcurrently: 3,
    eachMessage: async ({ topic, message }) => {
      // A dead letter may be anything a producer wrote (not even JSON): only the re-sends' are looked at.
      if (logicalTopic(settings, topic) === commandDeadLetters) return reuse.deadLettered(String(message.value), headerText(message.headers, 'dlq-reason'));
      let envelope;
      try {
        envelope = JSON.parse(String(message.value));
      } catch {
        return undefined; // not an envelope (a hostile-input test's record on a shared topic): nothing to follow
      }
      const data = envelope.data;
      // A re-send's refusal is the re-send's answer, not the payment's: it leaves the payment's story alone.
      if (reuse?.isResend(envelope.metadata?.causationId)) return reuse.answered(envelope);
      if (envelope.type === 'AccountOpened') awaitedAccounts.delete(data.accountId);
      else if (envelope.type === 'AccountCommandRejected' && data.reasonCode === 'account_already_exists') awaitedAccounts.delete(data.accountId);
      else if (envelope.type === 'TransferPosted') awaitedTransfers.delete(data.transferId);
      else if (envelope.type === 'SettlementBatchClosed') closedBatches.add(`${data.merchantId}/${data.currency}`);
      const payment = data?.paymentId === undefined ? undefined : payments.get(data.paymentId);
      // Each event once (Kafka delivers at least once, and a chaos run redelivers on purpose): a repeated
      // PaymentAuthorized or PaymentCaptured would send its capture or refunds again, and a repeated
      // refund answer would count twice.
      if (payment !== undefined && !followed.has(envelope.id)) {
        followed.add(envelope.id);
        follow(payment, envelope);
      }
      return undefined;
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
          const currency = payment.intent.request.amount.currency;
          const refundData = {
            paymentId: payment.intent.paymentId, commandId: `sim-refund-${payment.intent.index}-${index}`,
            refundId: uuidFor(options.run, `refund-${payment.intent.index}-${index}`),
            amount: { amountMinor: String(refund.amountMinor), currency },
          };
          // A refund is re-sent under its command id, or under a new command id with its refund id.
          const resendOf = (resend) => ['RefundPayment', {
            ...refundData,
            ...(resend.key === 'refund' ? { commandId: `${refundData.commandId}-again-${resend.attempt}` } : {}),
            ...(resend.changed ? { amount: { amountMinor: String(resend.changedAmountMinor), currency } } : {}),
          }];
          later(refund.delayMs * (index + 1), () => sendCommand('RefundPayment', refundData, {
            id: refundData.refundId, resends: payment.intent.resends?.refunds[index], resendOf,
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
    const { afterAuthorization: plan, paymentId, index, resends } = payment.intent;
    const currency = payment.intent.request.amount.currency;
    const money = (amountMinor) => ({ amountMinor: String(amountMinor), currency });
    if (plan.kind === 'capture' || plan.kind === 'partial_capture') {
      const commandId = `sim-capture-${index}`;
      const data = plan.kind === 'capture' ? { paymentId, commandId } : { paymentId, commandId, amount: money(plan.amountMinor) };
      later(plan.delayMs, () => sendCommand('CapturePayment', data, {
        id: commandId, resends: resends?.capture, resendOf: (resend) => ['CapturePayment', resend.changed ? { paymentId, commandId, amount: money(resend.changedAmountMinor) } : data],
      }));
    } else if (plan.kind === 'void') {
      const commandId = `sim-void-${index}`;
      const data = { paymentId, commandId };
      later(plan.delayMs, () => sendCommand('VoidPayment', data, {
        id: commandId, resends: resends?.void, resendOf: (resend) => (resend.changed ? ['CapturePayment', data] : ['VoidPayment', data]),
      }));
    }
  }

  /**
   * Sends a command, and (with --reuse) its planned re-sends under the same id a little later. `id` is
   * the id the re-sends reuse; `resendOf(resend)` gives a re-send's [type, data]. Every re-send is
   * recorded with the envelope id it went out under, which the platform names as the causation of
   * whatever it makes of it.
   */
  function sendCommand(type, data, { correlationId, id, resends = [], resendOf }) {
    const envelopeId = randomUUID();
    reuse?.sentOriginal({ type, id, paymentId: data.paymentId, envelopeId, data });
    const sending = out.send(type, data, correlationId, envelopeId);
    for (const resend of resends) {
      later(resend.delayMs, () => {
        const [resendType, resendData] = resendOf(resend);
        const resendEnvelopeId = randomUUID();
        reuse.sentResend({ of: envelopeId, type: resendType, id, paymentId: data.paymentId, envelopeId: resendEnvelopeId, changed: resend.changed, data: resendData });
        out.send(resendType, resendData, correlationId, resendEnvelopeId);
      });
    }
    return sending;
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
      const request = { paymentId: intent.paymentId, ...intent.request };
      sendCommand('RequestPayment', request, {
        correlationId: intent.paymentId, id: intent.paymentId, resends: intent.resends?.request,
        resendOf: (resend) => ['RequestPayment', resend.changed ? { ...request, amount: { ...request.amount, amountMinor: String(resend.changedAmountMinor) } } : request],
      });
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

  // ------------------------------------------------------------------------------ re-sends ---
  let reuseReport;
  if (reuse !== undefined) {
    await waitFor('the changed re-sends to be refused', () => reuse.awaitingAnswer() === 0, RESEND_ANSWER_TIMEOUT_MS,
      () => `${reuse.awaitingAnswer()} changed re-sends unanswered`, () => progress('waiting for the re-sends\' answers'), { throwOnTimeout: false });
    await sleep(RESEND_SETTLE_MS);
    reuseReport = reuse.judge(await paymentStreams([...payments.keys()]), payments, options);
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
    ...(reuseReport ? { reuse: reuseReport } : {}),
  };
  process.stderr.write('\n');
  console.log(`sent ${summary.sent} at ${summary.achieved_send_rate_per_s}/s (offered ${options.rate}/s): captured ${summary.captured}, authorized ${summary.authorized_awaiting_capture}, declined ${summary.declined}, failed ${summary.failed}, in review ${summary.in_review}, voided ${summary.voided}, expired ${summary.expired}, refunded ${summary.refunded}, settled ${summary.settled} in ${settledBatches} batches, undecided ${summary.undecided}`);
  console.log(`decision latency (request sent -> captured, authorized or declined): p50 ${summary.latency_ms.p50} ms, p95 ${summary.latency_ms.p95} ms, p99 ${summary.latency_ms.p99} ms`);
  for (const [reason, count] of Object.entries(summary.declined_by_reason)) console.log(`  declined ${reason}: ${count}`);
  for (const [pattern, entry] of patterns) console.log(`  ${pattern}: sent ${entry.sent}, approved ${entry.approved}, declined ${entry.declined}, review ${entry.review}`);
  if (reuseReport) printReuse(reuseReport);
  console.log(JSON.stringify(summary));

  for (const timer of timers) clearTimeout(timer);
  await listener.disconnect();
  await publisher.disconnect();
  if (reuseReport && reuseReport.violations > 0) {
    throw new Error(`${reuseReport.violations} idempotence violations (see "reuse.violation_examples" in the JSON above)${drained ? '' : '; and some payments never came to rest'}`);
  }
  if (!drained) throw new Error('some payments never came to rest (see "stuck" in the JSON above)');

  function progress(stage) {
    const decided = [...payments.values()].filter((payment) => payment.decidedAt !== undefined).length;
    const elapsed = ((performance.now() - trafficStarted) / 1_000).toFixed(0);
    const line = `simulate [${elapsed}s] ${stage}: sent ${payments.size}, decided ${decided}, in flight ${payments.size - decided}, published ${out.sent}`;
    process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(100)}` : `${line}\n`);
  }
}

/** The events of the payments' streams, from the event store (DATABASE_URL), by payment id. */
async function paymentStreams(paymentIds) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select stream_id, message_type, data, metadata from event_store.messages where stream_id = any($1) order by stream_id, stream_version`,
      [paymentIds.map((paymentId) => `payment-${paymentId}`)],
    );
    const streams = new Map();
    for (const row of rows) {
      const paymentId = row.stream_id.slice('payment-'.length);
      if (!streams.has(paymentId)) streams.set(paymentId, []);
      streams.get(paymentId).push({ type: row.message_type, data: row.data, causationId: row.metadata?.causationId });
    }
    return streams;
  } finally {
    await client.end();
  }
}

/** What a command that was accepted appends, caused by the command itself. */
const ACCEPTED_AS = {
  RequestPayment: 'PaymentRequested', CapturePayment: 'PaymentCaptureStarted', VoidPayment: 'PaymentVoidStarted', RefundPayment: 'PaymentRefundStarted',
};
const DOCUMENTED_REFUSAL = 'duplicate_command_different_body';
const DEAD_LETTER_CONFLICT = /already exists with different details/;

/**
 * The book of Jepsen's idempotence workload: every command sent (the originals and their re-sends
 * under the same id, by envelope id), the answers the re-sends got on Kafka, and the judgement of
 * the payments' streams after the run.
 */
function reuseWorkload(canonicalJson, paymentsDomain) {
  const originals = new Map();
  const resends = new Map();
  return {
    sentOriginal(command) {
      originals.set(command.envelopeId, command);
    },
    sentResend(command) {
      resends.set(command.envelopeId, { ...command, answers: [], deadLetter: undefined });
    },
    isResend: (envelopeId) => envelopeId !== undefined && resends.has(envelopeId),
    answered(envelope) {
      resends.get(envelope.metadata.causationId).answers.push({ type: envelope.type, reasonCode: envelope.data?.reasonCode });
    },
    deadLettered(value, reason) {
      let envelopeId;
      try {
        envelopeId = JSON.parse(value)?.id;
      } catch {
        return; // not a re-send of ours: those are JSON
      }
      const resend = typeof envelopeId === 'string' ? resends.get(envelopeId) : undefined;
      if (resend !== undefined) resend.deadLetter = reason ?? 'no reason given';
    },
    /** Changed re-sends with no refusal heard yet (an accepted one, a violation, is heard of nowhere but the store). */
    awaitingAnswer: () => [...resends.values()].filter((resend) => resend.changed && resend.deadLetter === undefined && !resend.answers.some((answer) => answer.type === 'PaymentCommandRejected')).length,
    judge(streams, payments, { run, reuse: fraction }) {
      const violations = [];
      const violate = (paymentId, detail) => violations.push(`payment ${paymentId}: ${detail}`);
      const causedBy = new Map();
      for (const events of streams.values()) {
        for (const event of events) {
          if (event.causationId === undefined) continue;
          if (!causedBy.has(event.causationId)) causedBy.set(event.causationId, []);
          causedBy.get(event.causationId).push(event);
        }
      }
      let idsChecked = 0;
      for (const [paymentId, payment] of payments) {
        const events = streams.get(paymentId) ?? [];
        idsChecked += checkOneSuccessPerId(paymentId, payment.intent, events, { run, canonicalJson, violate });
        checkRefusalsChangeNothing(paymentId, events, { paymentsDomain, resends, violate });
      }

      const report = {
        fraction, resends_per_command: Math.round(resendsPerCommand(fraction) * 1_000) / 1_000,
        commands_sent: originals.size + resends.size, resends: resends.size,
        achieved_fraction: Math.round((resends.size / Math.max(1, originals.size + resends.size)) * 1_000) / 1_000,
        reused_same: 0, reused_changed: 0, by_command: {},
        same_ignored: 0, changed_refused: 0, judged_anew: 0, refused_by_reason: {}, unanswered: 0,
        ids_checked: idsChecked, violations: 0, violation_examples: [],
      };
      const refusedBecause = (reason) => {
        report.refused_by_reason[reason] = (report.refused_by_reason[reason] ?? 0) + 1;
      };
      for (const resend of resends.values()) {
        const original = originals.get(resend.of);
        const counted = (report.by_command[original.type] ??= { same: 0, changed: 0 });
        counted[resend.changed ? 'changed' : 'same'] += 1;
        report[resend.changed ? 'reused_changed' : 'reused_same'] += 1;
        const effects = causedBy.get(resend.envelopeId) ?? [];
        const refusals = effects.filter((event) => event.type === 'PaymentCommandRejected');
        for (const refusal of refusals) refusedBecause(`PaymentCommandRejected:${refusal.data.reasonCode}`);
        if (resend.deadLetter !== undefined) refusedBecause(DEAD_LETTER_CONFLICT.test(resend.deadLetter) ? 'dead_letter:already_exists_with_different_details' : `dead_letter:${resend.deadLetter.slice(0, 80)}`);
        const what = `${resend.changed ? 'changed' : 'same-field'} re-send of ${original.type} ${resend.id} (as ${resend.type})`;
        const firstEffects = causedBy.get(resend.of) ?? [];
        if (!firstEffects.some((event) => event.type === ACCEPTED_AS[original.type])) {
          // The first was refused (or never decided): nothing holds the id, and the re-send is a new
          // command. Whatever it got, one success per id is checked above.
          report.judged_anew += 1;
          continue;
        }
        if (!resend.changed) {
          if (effects.length === 0) report.same_ignored += 1;
          else violate(resend.paymentId, `${what} had an effect: ${effects.map((event) => event.type).join(', ')}`);
          continue;
        }
        const documented = original.type === 'RequestPayment'
          ? effects.length === 0 && resend.deadLetter !== undefined && DEAD_LETTER_CONFLICT.test(resend.deadLetter)
          : effects.length === 1 && refusals.length === 1 && refusals[0].data.reasonCode === DOCUMENTED_REFUSAL;
        if (documented) report.changed_refused += 1;
        else if (effects.length === 0 && resend.deadLetter === undefined) {
          report.unanswered += 1;
          violate(resend.paymentId, `${what} was never refused`);
        } else {
          violate(resend.paymentId, `${what} was not refused as documented: ${effects.map((event) => `${event.type}${event.data?.reasonCode ? `(${event.data.reasonCode})` : ''}`).join(', ') || `dead letter '${resend.deadLetter}'`}`);
        }
      }
      report.violations = violations.length;
      report.violation_examples = violations.slice(0, MAX_VIOLATION_EXAMPLES);
      return report;
    },
  };
}

/**
 * One payment's stream against what its commands asked first: one PaymentRequested with the first
 * request's fields; per command id at most one accepted command; one capture, with the first capture
 * command's amount (none for a voided payment); per refund id at most one refund started and one
 * posted, with the first refund command's amount. Returns how many ids it checked.
 */
function checkOneSuccessPerId(paymentId, intent, events, { run, canonicalJson, violate }) {
  const ofType = (type) => events.filter((event) => event.type === type);
  const requested = ofType('PaymentRequested');
  if (requested.length !== 1) violate(paymentId, `${requested.length} PaymentRequested (one expected)`);
  else {
    const { requestedAt: _requestedAt, ...asked } = requested[0].data;
    if (canonicalJson(asked) !== canonicalJson({ paymentId, ...intent.request })) violate(paymentId, `PaymentRequested is not the first RequestPayment: ${JSON.stringify(asked.amount)}`);
  }
  const acceptedByCommandId = new Map();
  for (const event of events) {
    const commandId = ['PaymentCaptureStarted', 'PaymentVoidStarted', 'PaymentRefundStarted', 'PaymentReviewed'].includes(event.type) ? event.data.commandId : undefined;
    if (commandId !== undefined) acceptedByCommandId.set(commandId, (acceptedByCommandId.get(commandId) ?? 0) + 1);
  }
  for (const [commandId, accepted] of acceptedByCommandId) if (accepted > 1) violate(paymentId, `command id ${commandId} accepted ${accepted} times`);

  const plan = intent.afterAuthorization;
  const captureStarted = ofType('PaymentCaptureStarted');
  const captured = ofType('PaymentCaptured');
  const capturedMinor = plan.kind === 'partial_capture' ? String(plan.amountMinor) : intent.request.amount.amountMinor;
  const captureCommandId = intent.request.captureMode === 'manual' ? `sim-capture-${intent.index}` : undefined;
  if (captureStarted.length > 1 || captured.length > 1) violate(paymentId, `${captureStarted.length} captures started, ${captured.length} captured (one at most)`);
  for (const started of captureStarted) {
    if (started.data.commandId !== captureCommandId) violate(paymentId, `a capture was accepted under command id ${started.data.commandId}, not ${captureCommandId ?? 'none (a sale)'}`);
    else if (started.data.amount.amountMinor !== capturedMinor) violate(paymentId, `capture started for ${started.data.amount.amountMinor}, the first capture asked ${capturedMinor}`);
  }
  for (const event of captured) if (event.data.amount.amountMinor !== capturedMinor) violate(paymentId, `captured ${event.data.amount.amountMinor}, the first capture asked ${capturedMinor}`);
  const voidStarted = ofType('PaymentVoidStarted').length;
  const voided = ofType('PaymentVoided').length;
  if (voidStarted > 1 || voided > 1) violate(paymentId, `${voidStarted} voids started, ${voided} voided (one at most)`);
  if (voidStarted > 0 && captureStarted.length > 0) violate(paymentId, 'both a void and a capture accepted');

  for (const [index, refund] of intent.refunds.entries()) {
    const refundId = uuidFor(run, `refund-${intent.index}-${index}`);
    for (const type of ['PaymentRefundStarted', 'PaymentRefunded']) {
      const matching = ofType(type).filter((event) => event.data.refundId === refundId);
      if (matching.length > 1) violate(paymentId, `${matching.length} ${type} for refund ${refundId}`);
      for (const event of matching) {
        if (event.data.amount.amountMinor !== String(refund.amountMinor)) violate(paymentId, `${type} of ${event.data.amount.amountMinor} for refund ${refundId}, the first refund asked ${refund.amountMinor}`);
      }
    }
  }
  return 1 + acceptedByCommandId.size + intent.refunds.length;
}

/**
 * Replays the payment with the domain's own evolve: the refusal of a re-send must leave the payment
 * as it was (a refusal that evolves into another state undid the first command's outcome).
 */
function checkRefusalsChangeNothing(paymentId, events, { paymentsDomain, resends, violate }) {
  const { evolvePayment, initialPaymentState, PAYMENT_EVENT_TYPES } = paymentsDomain;
  let state = initialPaymentState();
  for (const event of events) {
    if (!PAYMENT_EVENT_TYPES.has(event.type)) continue;
    const next = evolvePayment(state, { type: event.type, data: event.data });
    const resend = event.type === 'PaymentCommandRejected' ? resends.get(event.causationId) : undefined;
    if (resend !== undefined && next.status !== state.status) {
      violate(paymentId, `the refusal (${event.data.reasonCode}) of a ${resend.changed ? 'changed' : 'same-field'} re-send of ${resend.type} ${resend.id} moved the payment from '${state.status}' to '${next.status}'`);
    }
    state = next;
  }
}

function printReuse(report) {
  const reasons = Object.entries(report.refused_by_reason).map(([reason, count]) => `${reason} ${count}`).join(', ') || 'none';
  console.log(`re-sends (--reuse ${report.fraction}): ${report.resends} of ${report.commands_sent} commands (${report.achieved_fraction}); same fields ${report.reused_same} (${report.same_ignored} without effect), changed ${report.reused_changed} (${report.changed_refused} refused as documented); first refused, judged anew ${report.judged_anew}; unanswered ${report.unanswered}; violations ${report.violations}`);
  console.log(`  re-sends refused by reason: ${reasons}`);
  for (const [type, counted] of Object.entries(report.by_command)) console.log(`  ${type}: same ${counted.same}, changed ${counted.changed}`);
  for (const example of report.violation_examples) console.log(`  VIOLATION ${example}`);
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

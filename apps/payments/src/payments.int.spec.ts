// Proves the wallet payment lifecycle of apps/payments through real Kafka and PostgreSQL, with the
// real ledger (its built service, as a child process) holding, capturing, voiding, expiring and
// reversing the money: a sale, authorize then capture (full and partial), a void, an expiry of a
// short authorization, two partial refunds and a third one beyond the captured amount refused, a
// decline by risk, a decline for funds, a risk answer that never comes, a review nobody decides (the
// merchant's timeout outcome: approve, or the default decline), and a restart of the payments
// service between authorize and capture. The test plays risk: it publishes RiskAssessed itself.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { ALL_TOPICS, Topics, type ContractType, type DataOf, type WireBalances } from '@clearline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@clearline/event-store';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, MessagePublisher, parseMessage, silentLogger } from '@clearline/messaging';
import { createPool, type Pool } from '@clearline/postgres';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { eventually, testEnvelope } from '@clearline/testing';

jest.setTimeout(120_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const LEDGER_PORT = 4702;
const RISK_TIMEOUT_MS = 4_000;
const REVIEW_TIMEOUT_MS = 3_000;
const run = randomUUID().slice(0, 8);
const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

interface Published {
  type: string;
  data: Record<string, unknown>;
}

let ledger: ChildProcess;
let payments: INestApplicationContext | undefined;
let publisher: MessagePublisher;
let listener: Consumer;
let pool: Pool;
let store: PostgresEventStore;
const published: Published[] = [];
const funding = `pay-int-${run}-funding`;
const merchant = `pay-int-${run}-merchant`;

async function send<Type extends ContractType>(type: Type, data: DataOf<Type>): Promise<void> {
  await publisher.publish([testEnvelope(type, data, 'payments-int-test')]);
}

/** The first message of `type` seen on ledger.events or payments.events whose data has every field of `match`. */
function outcome(type: string, match: Record<string, unknown>): Promise<Published> {
  return eventually(`${type} ${JSON.stringify(match)}`, () =>
    published.find((message) => message.type === type && Object.entries(match).every(([field, value]) => message.data[field] === value)));
}

async function paymentStream(paymentId: string): Promise<RecordedEvent[]> {
  return store.readStream(`payment-${paymentId}`);
}

/** Waits until the payment stream holds an event of `type` and returns it. */
function recorded(paymentId: string, type: string, timeoutMs?: number): Promise<RecordedEvent> {
  return eventually(`${type} on payment-${paymentId}`, async () => (await paymentStream(paymentId)).find((event) => event.type === type), timeoutMs);
}

async function typesOf(paymentId: string): Promise<string[]> {
  return (await paymentStream(paymentId)).map((event) => event.type);
}

/** A wallet of its own per test, funded with `fundedMinor`, so each test can check exact balances. */
async function fundedWallet(name: string, fundedMinor = '10000'): Promise<string> {
  const accountId = `pay-int-${run}-${name}`;
  await send('OpenAccount', { accountId, ownerId: name, kind: 'customer_wallet', currency: 'EUR' });
  await outcome('AccountOpened', { accountId });
  const transferId = randomUUID();
  await send('PostTransfer', { transferId, debitAccountId: funding, creditAccountId: accountId, amount: eur(fundedMinor) });
  await outcome('TransferPosted', { transferId });
  return accountId;
}

/** Requests a payment and answers for risk once payments has recorded the request. */
async function requestPayment(payerAccountId: string, amountMinor: string, options: Partial<DataOf<'RequestPayment'>> = {}, risk: 'approve' | 'decline' | 'none' = 'approve'): Promise<string> {
  const paymentId = randomUUID();
  await send('RequestPayment', {
    paymentId, channel: 'e_wallet', merchantId: `merchant-${run}`, merchantAccountId: merchant, payerAccountId,
    amount: eur(amountMinor), method: 'wallet', ...options,
  });
  await recorded(paymentId, 'PaymentRequested');
  if (risk !== 'none') {
    const reasons = risk === 'decline' ? ['amount_above_limit'] : [];
    await send('RiskAssessed', { paymentId, payerAccountId, score: risk === 'decline' ? 95 : 5, decision: risk, reasons, ruleSetVersion: 'int-test' });
  }
  return paymentId;
}

function balancesIn(message: Published, field: string, accountId?: string): WireBalances {
  const value = message.data[field] as WireBalances | Record<string, WireBalances>;
  return (accountId ? (value as Record<string, WireBalances>)[accountId] : value) as WireBalances;
}

async function startPayments(): Promise<INestApplicationContext> {
  const { AppModule } = await import('./app.module.js');
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

async function startLedger(): Promise<ChildProcess> {
  const logDirectory = join(ROOT, '.cache/logs/payments-int');
  mkdirSync(logDirectory, { recursive: true });
  const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'apps/ledger/dist/main.js')], {
    env: { ...process.env, PORT: String(LEDGER_PORT), DATABASE_URL, LOG_LEVEL: 'info', LEDGER_HOLD_EXPIRY_INTERVAL_MS: '200' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDirectory, 'ledger.log'), { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  await eventually('the ledger to be ready (run `npm run build` first)', async () => {
    if (child.exitCode !== null) throw new Error(`the ledger exited with code ${child.exitCode}; see .cache/logs/payments-int/ledger.log`);
    const response = await fetch(`http://127.0.0.1:${LEDGER_PORT}/health/ready`).catch(() => undefined);
    return response?.ok ? true : undefined;
  });
  return child;
}

beforeAll(async () => {
  Object.assign(process.env, {
    DATABASE_URL,
    LOG_LEVEL: process.env['PAYMENTS_TEST_LOG'] ?? 'silent',
    PAYMENTS_TIMEOUT_INTERVAL_MS: '200',
    PAYMENTS_RISK_TIMEOUT_MS: String(RISK_TIMEOUT_MS),
    PAYMENTS_REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
  });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'payments-int-test', max: 4 });
  store = new PostgresEventStore(pool);
  const settings = { ...kafkaSettingsFromEnv('payments-int-test'), logLevel: 'nothing' as const };
  // On a fresh broker the topics do not exist until a service starts; the listener subscribes first.
  await ensureTopics(settings, ALL_TOPICS);
  listener = createKafka(settings, silentLogger).consumer({ groupId: `payments-int-test-${run}`, maxWaitTimeInMs: 100 });
  const joined = new Promise<void>((resolve) => listener.on(listener.events.GROUP_JOIN, () => resolve()));
  await listener.connect();
  await listener.subscribe({ topics: [Topics.ledgerEvents, Topics.paymentsEvents], fromBeginning: false });
  await listener.run({
    eachMessage: async ({ message }) => {
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (!parsed.accepted) return;
      const envelope = parsed.envelope as unknown as Published;
      published.push(envelope);
    },
  });
  await joined;
  publisher = new MessagePublisher({ settings, producerName: 'payments-int-test', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
  ledger = await startLedger();
  payments = await startPayments();

  await send('OpenAccount', { accountId: funding, ownerId: 'clearline', kind: 'funding', currency: 'EUR', allowNegativeBalance: true });
  await send('OpenAccount', { accountId: merchant, ownerId: `merchant-${run}`, kind: 'merchant', currency: 'EUR' });
  await Promise.all([outcome('AccountOpened', { accountId: funding }), outcome('AccountOpened', { accountId: merchant })]);
});

afterAll(async () => {
  await payments?.close();
  await publisher?.disconnect();
  if (ledger && ledger.exitCode === null) {
    const exited = new Promise((resolve) => ledger.once('exit', resolve));
    ledger.kill('SIGTERM');
    await exited;
  }
  await listener?.disconnect();
  await pool?.end();
});

describe('a sale (captureMode automatic)', () => {
  it('is authorized and captured in full at once (settled later, in a batch); the money moved payer -> merchant', async () => {
    const payer = await fundedWallet('sale');
    const paymentId = await requestPayment(payer, '1250');
    await recorded(paymentId, 'PaymentCaptured');
    expect(await typesOf(paymentId)).toEqual([
      'PaymentRequested', 'PaymentAuthorizationStarted', 'PlaceHold', 'PaymentAuthorized', 'PaymentCaptureStarted', 'CaptureHold',
      'PaymentCaptured',
    ]);
    const captured = await outcome('HoldCaptured', { paymentId });
    expect(balancesIn(captured, 'debitBalances')).toEqual({ currency: 'EUR', postedMinor: '8750', pendingMinor: '0', availableMinor: '8750' });
    // The relay published the payment's contract events; the internal ones stay inside.
    await outcome('PaymentCaptured', { paymentId });
    expect(published.some((message) => message.type === 'PaymentCaptureStarted')).toBe(false);
  });
});

describe('authorize then capture (captureMode manual)', () => {
  it('waits authorized until CapturePayment, then captures the whole authorization', async () => {
    const payer = await fundedWallet('manual-full');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    expect(await typesOf(paymentId)).not.toContain('CaptureHold');
    await send('CapturePayment', { paymentId, commandId: `capture-${paymentId}` });
    const captured = await recorded(paymentId, 'PaymentCaptured');
    expect(captured.data).toMatchObject({ amount: eur('2500'), authorizedAmount: eur('2500') });
  });

  it('a partial capture posts the part and releases the rest of the hold', async () => {
    const payer = await fundedWallet('manual-partial');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    await send('CapturePayment', { paymentId, commandId: `capture-${paymentId}`, amount: eur('1500') });
    const captured = await recorded(paymentId, 'PaymentCaptured');
    expect(captured.data).toMatchObject({ amount: eur('1500'), authorizedAmount: eur('2500') });
    const held = await outcome('HoldCaptured', { paymentId });
    expect(held.data['releasedAmountMinor']).toBe('1000');
    expect(balancesIn(held, 'debitBalances')).toEqual({ currency: 'EUR', postedMinor: '8500', pendingMinor: '0', availableMinor: '8500' });
  });

  it('a capture beyond the authorization is refused, and the caller hears why', async () => {
    const payer = await fundedWallet('manual-over');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    const commandId = `capture-over-${paymentId}`;
    await send('CapturePayment', { paymentId, commandId, amount: eur('2501') });
    const rejected = await outcome('PaymentCommandRejected', { paymentId, commandId });
    expect(rejected.data).toMatchObject({ commandType: 'CapturePayment', reasonCode: 'amount_exceeds_authorized', status: 'authorized' });
  });
});

describe('a void', () => {
  it('releases the whole hold: the payer has all the money available again', async () => {
    const payer = await fundedWallet('void');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    await send('VoidPayment', { paymentId, commandId: `void-${paymentId}` });
    const voided = await recorded(paymentId, 'PaymentVoided');
    expect(voided.data).toMatchObject({ releasedAmount: eur('2500') });
    const released = (await paymentStream(paymentId)).find((event) => event.type === 'VoidHold');
    expect(released?.data).toMatchObject({ accountId: payer });
    const holdVoided = await outcome('HoldVoided', { accountId: payer });
    expect(holdVoided.data['balances']).toEqual({ currency: 'EUR', postedMinor: '10000', pendingMinor: '0', availableMinor: '10000' });
    // A capture after the void is refused for the state.
    await send('CapturePayment', { paymentId, commandId: `late-capture-${paymentId}` });
    expect((await outcome('PaymentCommandRejected', { paymentId, commandId: `late-capture-${paymentId}` })).data).toMatchObject({ reasonCode: 'invalid_state', status: 'voided' });
  });
});

describe('an authorization nobody captures', () => {
  it('expires after its lifetime and the hold is released', async () => {
    const payer = await fundedWallet('expiry');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual', authorizationTtlMs: 2_000 });
    await recorded(paymentId, 'PaymentAuthorized');
    const expired = await recorded(paymentId, 'PaymentExpired', 30_000);
    expect(expired.data).toMatchObject({ reasonCode: 'authorization_expired' });
    const holdExpired = await outcome('HoldExpired', { accountId: payer });
    expect(holdExpired.data['balances']).toEqual({ currency: 'EUR', postedMinor: '10000', pendingMinor: '0', availableMinor: '10000' });
  });
});

describe('refunds', () => {
  it('two partial refunds move money back; a third beyond the captured amount is refused', async () => {
    const payer = await fundedWallet('refunds');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    await send('CapturePayment', { paymentId, commandId: `capture-${paymentId}`, amount: eur('2000') });
    await recorded(paymentId, 'PaymentCaptured');

    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    await send('RefundPayment', { paymentId, commandId: `refund-1-${paymentId}`, refundId: first, amount: eur('800') });
    expect((await outcome('PaymentRefunded', { paymentId, refundId: first })).data).toMatchObject({ amount: eur('800'), refundedTotal: eur('800') });
    await send('RefundPayment', { paymentId, commandId: `refund-2-${paymentId}`, refundId: second, amount: eur('700') });
    expect((await outcome('PaymentRefunded', { paymentId, refundId: second })).data).toMatchObject({ amount: eur('700'), refundedTotal: eur('1500') });
    const reversal = await outcome('TransferReversed', { transferId: (await outcome('PaymentRefunded', { refundId: second })).data['transferId'] });
    expect(balancesIn(reversal, 'balancesAfter', payer)).toMatchObject({ postedMinor: '9500' });

    await send('RefundPayment', { paymentId, commandId: `refund-3-${paymentId}`, refundId: third, amount: eur('600') });
    const refused = await outcome('PaymentCommandRejected', { paymentId, commandId: `refund-3-${paymentId}` });
    expect(refused.data).toMatchObject({ commandType: 'RefundPayment', reasonCode: 'amount_exceeds_refundable', status: 'partially_refunded' });

    // The same refund asked again (a retry with another command id) is one refund, not two.
    await send('RefundPayment', { paymentId, commandId: `refund-1-again-${paymentId}`, refundId: first, amount: eur('800') });
    await send('RefundPayment', { paymentId, commandId: `refund-last-${paymentId}`, refundId: randomUUID(), amount: eur('500') });
    await eventually('the last refund', async () => ((await typesOf(paymentId)).filter((type) => type === 'PaymentRefunded').length === 3 ? true : undefined));
    expect((await typesOf(paymentId)).filter((type) => type === 'PaymentRefundStarted')).toHaveLength(3);
  });
});

describe('declines', () => {
  it('risk declines: the payment is declined at the risk stage and nothing is held', async () => {
    const payer = await fundedWallet('risk-decline');
    const paymentId = await requestPayment(payer, '1000', {}, 'decline');
    const declined = await recorded(paymentId, 'PaymentDeclined');
    expect(declined.data).toMatchObject({ stage: 'risk', reasonCode: 'amount_above_limit' });
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentDeclined']);
  });

  it('the ledger refuses the hold for funds: declined at the funds stage', async () => {
    const payer = await fundedWallet('funds', '1000');
    const paymentId = await requestPayment(payer, '50000');
    const declined = await recorded(paymentId, 'PaymentDeclined');
    expect(declined.data).toMatchObject({ stage: 'funds', reasonCode: 'insufficient_funds' });
  });

  it('no risk answer in time: declined with risk_timeout by the timer', async () => {
    const payer = await fundedWallet('risk-timeout');
    const paymentId = await requestPayment(payer, '1000', {}, 'none');
    const declined = await recorded(paymentId, 'PaymentDeclined', RISK_TIMEOUT_MS + 20_000);
    expect(declined.data).toMatchObject({ stage: 'risk', reasonCode: 'risk_timeout' });
  });
});

describe('a review nobody decides in time', () => {
  /** Requests a payment that risk sends to review, with the merchant's timeout outcome (none: the default). */
  async function inReview(name: string, reviewTimeoutOutcome?: 'approve' | 'decline'): Promise<{ payer: string; paymentId: string }> {
    const payer = await fundedWallet(name);
    const paymentId = await requestPayment(payer, '1500', {}, 'none');
    await send('RiskAssessed', {
      paymentId, payerAccountId: payer, score: 75, decision: 'review', reasons: ['velocity_payer_1m'], ruleSetVersion: 'int-test',
      ...(reviewTimeoutOutcome ? { reviewTimeoutOutcome } : {}),
    });
    return { payer, paymentId };
  }

  it("the merchant's approve: recorded as reviewed by review_timeout, then authorized and captured as usual", async () => {
    const { paymentId } = await inReview('review-timeout-approve', 'approve');
    expect((await recorded(paymentId, 'PaymentInReview')).data).toMatchObject({ riskScore: 75, timeoutOutcome: 'approve' });
    const captured = await recorded(paymentId, 'PaymentCaptured', REVIEW_TIMEOUT_MS + 20_000);
    expect(captured.data).toMatchObject({ amount: eur('1500') });
    expect((await recorded(paymentId, 'PaymentReviewed')).data).toMatchObject({ decision: 'approve', reviewerId: 'review_timeout' });
    // The stream also holds the ledger commands it sent (PlaceHold, CaptureHold): only the payment's own events here.
    expect((await typesOf(paymentId)).filter((type) => type.startsWith('Payment'))).toEqual([
      'PaymentRequested', 'PaymentInReview', 'PaymentReviewed', 'PaymentAuthorizationStarted', 'PaymentAuthorized', 'PaymentCaptureStarted', 'PaymentCaptured',
    ]);
    const posted = await outcome('HoldCaptured', { paymentId });
    expect(balancesIn(posted, 'debitBalances')).toMatchObject({ postedMinor: '8500', pendingMinor: '0' });
  });

  it('no outcome named (the default): declined with review_timeout, and nothing was held', async () => {
    const { paymentId } = await inReview('review-timeout-default');
    expect((await recorded(paymentId, 'PaymentInReview')).data).toMatchObject({ timeoutOutcome: 'decline' });
    const declined = await recorded(paymentId, 'PaymentDeclined', REVIEW_TIMEOUT_MS + 20_000);
    expect(declined.data).toMatchObject({ stage: 'review', reasonCode: 'review_timeout' });
    expect(await typesOf(paymentId)).toEqual(['PaymentRequested', 'PaymentInReview', 'PaymentDeclined']);
  });
});

describe('a restart between authorize and capture', () => {
  it('goes on from the stream: the capture sent while payments was down is applied once it is back', async () => {
    const payer = await fundedWallet('restart');
    const paymentId = await requestPayment(payer, '2500', { captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    await payments!.close();
    payments = undefined;
    await send('CapturePayment', { paymentId, commandId: `capture-${paymentId}`, amount: eur('2000') });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await typesOf(paymentId)).not.toContain('PaymentCaptureStarted');
    payments = await startPayments();
    const captured = await recorded(paymentId, 'PaymentCaptured');
    expect(captured.data).toMatchObject({ amount: eur('2000') });
    expect((await typesOf(paymentId)).filter((type) => type === 'CaptureHold')).toHaveLength(1);
  });
});

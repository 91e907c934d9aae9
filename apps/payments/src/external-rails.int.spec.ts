// Proves the external rails of apps/payments (card, e_wallet, mobile_money) through real Kafka,
// PostgreSQL and Redis (the card vault), with the real ledger (its built service, as a child process)
// booking captures and refunds against the connectors' clearing accounts: a card sale approved; a card
// declined by the connector with its decline code; an authorization, a partial capture and a refund;
// e-wallet and mobile-money sales; then, with the payments service restarted on another connector
// configuration, an outage of the card primary with the fallback to the backup (every attempt recorded)
// and every mobile-money connector down (failed, connector_unavailable). The test plays risk, and
// scans every payment stream it made for the PAN and CVV it tokenised.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { assertNoCardData, CardVault, cardVaultSecretsForService, panRenderings, type CardDataProbe } from '@clearline/cards';
import { ALL_TOPICS, Topics, type ContractType, type DataOf, type PaymentCardData } from '@clearline/contracts';
import { PostgresEventStore, type RecordedEvent } from '@clearline/event-store';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, MessagePublisher, parseMessage, silentLogger } from '@clearline/messaging';
import { createPool, type Pool } from '@clearline/postgres';
import { Redis } from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { eventually, testEnvelope } from '@clearline/testing';

jest.setTimeout(180_000);

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const LEDGER_PORT = 4703;
const run = randomUUID().slice(0, 8);
const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });
const CVV = '737';
const APPROVED_PAN = '4242424242424242';
const DECLINED_PAN = '4000000000000002';
// The declined test card's middle digits are all zeros, which says nothing: only its whole renderings are searched.
const probe: CardDataProbe = { forbidden: [...panRenderings(APPROVED_PAN), ...panRenderings(DECLINED_PAN).slice(0, 3)], cvv: CVV };
// Fast simulators, so a test waits for Kafka hops rather than for simulated networks.
const FAST = { latencyMs: 5 };
const fastConnectors = Object.fromEntries(
  ['card-primary', 'card-backup', 'e-wallet-primary', 'e-wallet-backup', 'mobile-money-primary', 'mobile-money-backup'].map((id) => [id, FAST]),
);

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
let redis: Redis;
let vault: CardVault;
const published: Published[] = [];
const paymentIds: string[] = [];
const merchant = `ext-int-${run}-merchant`;

async function send<Type extends ContractType>(type: Type, data: DataOf<Type>): Promise<void> {
  await publisher.publish([testEnvelope(type, data, 'external-rails-int-test')]);
}

function outcome(type: string, match: Record<string, unknown>): Promise<Published> {
  return eventually(`${type} ${JSON.stringify(match)}`, () =>
    published.find((message) => message.type === type && Object.entries(match).every(([field, value]) => message.data[field] === value)));
}

function paymentStream(paymentId: string): Promise<RecordedEvent[]> {
  return store.readStream(`payment-${paymentId}`);
}

function recorded(paymentId: string, type: string, timeoutMs?: number): Promise<RecordedEvent> {
  return eventually(`${type} on payment-${paymentId}`, async () => (await paymentStream(paymentId)).find((event) => event.type === type), timeoutMs);
}

async function typesOf(paymentId: string): Promise<string[]> {
  return (await paymentStream(paymentId)).map((event) => event.type);
}

/** The recorded attempts of a payment: connector, operation, outcome and code, in order. */
async function attemptsOf(paymentId: string): Promise<{ connectorId: string; operation: string; outcome: string; code: string | null }[]> {
  return (await paymentStream(paymentId))
    .filter((event) => event.type === 'ConnectorAttemptSucceeded' || event.type === 'ConnectorAttemptFailed')
    .map((event) => {
      const data = event.data as { connectorId: string; operation: string; outcome: string; code: string | null };
      return { connectorId: data.connectorId, operation: data.operation, outcome: data.outcome, code: data.code };
    });
}

async function tokenised(pan: string): Promise<PaymentCardData> {
  const card = await vault.tokenize({ pan, expMonth: 12, expYear: 2031, cvv: CVV });
  return { token: card.token, fingerprint: card.fingerprint, last4: card.last4, brand: card.brand, expMonth: card.expMonth, expYear: card.expYear };
}

/** Requests a payment on an external rail and answers for risk once payments has recorded the request. */
async function requestPayment(amountMinor: string, source: Partial<DataOf<'RequestPayment'>>): Promise<string> {
  const paymentId = randomUUID();
  paymentIds.push(paymentId);
  await send('RequestPayment', {
    paymentId, channel: 'card_acquiring', merchantId: `merchant-${run}`, merchantAccountId: merchant, payerAccountId: `payer-${run}`,
    amount: eur(amountMinor), method: 'card', ...source,
  });
  await recorded(paymentId, 'PaymentRequested');
  await send('RiskAssessed', { paymentId, payerAccountId: `payer-${run}`, score: 5, decision: 'approve', reasons: [], ruleSetVersion: 'int-test' });
  return paymentId;
}

/**
 * The consumer groups of the services are fixed names shared by everything on this broker: a platform
 * left running on another database (`npm start`) would take some partitions and write our messages
 * there, and every test would time out. Say so at once instead.
 */
async function refuseForeignConsumers(settings: ReturnType<typeof kafkaSettingsFromEnv>): Promise<void> {
  const admin = createKafka(settings, silentLogger).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups(['ledger', 'payments-commands', 'payments-process']);
    const busy = groups.filter((group) => group.members.length > 0).map((group) => `${group.groupId} (${group.members.map((member) => member.clientId).join(', ')})`);
    if (busy.length > 0) throw new Error(`another platform consumes this broker's shared consumer groups: ${busy.join('; ')}; stop it (or wait ~30 s for a crashed one) and run again`);
  } finally {
    await admin.disconnect();
  }
}

async function startPayments(connectors: Record<string, unknown>): Promise<INestApplicationContext> {
  process.env['PAYMENTS_CONNECTORS'] = JSON.stringify(connectors);
  const { AppModule } = await import('./app.module.js');
  return NestFactory.createApplicationContext(AppModule, { logger: false });
}

async function startLedger(): Promise<ChildProcess> {
  const logDirectory = join(ROOT, '.cache/logs/external-rails-int');
  mkdirSync(logDirectory, { recursive: true });
  const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'apps/ledger/dist/main.js')], {
    env: { ...process.env, PORT: String(LEDGER_PORT), DATABASE_URL, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDirectory, 'ledger.log'), { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  await eventually('the ledger to be ready (run `node tools/build.mjs` first)', async () => {
    if (child.exitCode !== null) throw new Error(`the ledger exited with code ${child.exitCode}; see .cache/logs/external-rails-int/ledger.log`);
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
    PAYMENTS_CONNECTOR_POLL_INTERVAL_MS: '20',
  });
  pool = createPool({ connectionString: DATABASE_URL, applicationName: 'external-rails-int-test', max: 4 });
  store = new PostgresEventStore(pool);
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  // The very secrets the payments service (and the gateway) read: a token minted here detokenizes there.
  vault = new CardVault(redis, cardVaultSecretsForService(process.env));
  const settings = { ...kafkaSettingsFromEnv('external-rails-int-test'), logLevel: 'nothing' as const };
  await ensureTopics(settings, ALL_TOPICS);
  await refuseForeignConsumers(settings);
  listener = createKafka(settings, silentLogger).consumer({ groupId: `external-rails-int-test-${run}`, maxWaitTimeInMs: 100 });
  const joined = new Promise<void>((resolve) => listener.on(listener.events.GROUP_JOIN, () => resolve()));
  await listener.connect();
  await listener.subscribe({ topics: [Topics.ledgerEvents, Topics.paymentsEvents], fromBeginning: false });
  await listener.run({
    eachMessage: async ({ message }) => {
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (parsed.accepted) published.push(parsed.envelope as unknown as Published);
    },
  });
  await joined;
  publisher = new MessagePublisher({ settings, producerName: 'external-rails-int-test', logger: silentLogger, metrics: new Registry() });
  await publisher.connect();
  ledger = await startLedger();
  payments = await startPayments(fastConnectors);
  await send('OpenAccount', { accountId: merchant, ownerId: `merchant-${run}`, kind: 'merchant', currency: 'EUR', allowNegativeBalance: true });
  await outcome('AccountOpened', { accountId: merchant });
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
  redis?.disconnect();
  await pool?.end();
});

describe('with every connector up', () => {
  it('a card sale is authorized and captured by the primary, then booked clearing -> merchant', async () => {
    const paymentId = await requestPayment('1200', { card: await tokenised(APPROVED_PAN) });
    const captured = await recorded(paymentId, 'PaymentCaptured');
    expect(captured.data).toMatchObject({ amount: eur('1200') });
    expect(await typesOf(paymentId)).toEqual([
      'PaymentRequested', 'PaymentAuthorizationStarted', 'CallConnector', 'ConnectorAttemptSucceeded', 'PaymentAuthorized', 'PaymentCaptureStarted',
      'CallConnector', 'ConnectorAttemptSucceeded', 'OpenAccount', 'PostTransfer', 'PaymentCaptured',
    ]);
    expect(await attemptsOf(paymentId)).toEqual([
      { connectorId: 'card-primary', operation: 'authorize', outcome: 'approved', code: null },
      { connectorId: 'card-primary', operation: 'capture', outcome: 'approved', code: null },
    ]);
    const posted = await outcome('TransferPosted', { creditAccountId: merchant, debitAccountId: `clearing-card-primary-EUR` });
    expect(posted.data['amount']).toEqual(eur('1200'));
    // The contract events went out; the connector records stayed inside.
    await outcome('PaymentCaptured', { paymentId });
    expect(published.some((message) => message.type === 'CallConnector' || message.type.startsWith('ConnectorAttempt'))).toBe(false);
  });

  it('a card the issuer declines is declined at the connector stage with its code; nothing is booked', async () => {
    const paymentId = await requestPayment('1200', { card: await tokenised(DECLINED_PAN) });
    const declined = await recorded(paymentId, 'PaymentDeclined');
    expect(declined.data).toMatchObject({ stage: 'connector', reasonCode: 'connector_declined:card_declined' });
    expect(await attemptsOf(paymentId)).toEqual([{ connectorId: 'card-primary', operation: 'authorize', outcome: 'declined', code: 'card_declined' }]);
    expect(await typesOf(paymentId)).not.toContain('PostTransfer');
  });

  it('authorize, capture part, refund part: the connector moves the money, the ledger books each step', async () => {
    const paymentId = await requestPayment('2500', { card: await tokenised(APPROVED_PAN), captureMode: 'manual' });
    await recorded(paymentId, 'PaymentAuthorized');
    await send('CapturePayment', { paymentId, commandId: `capture-${paymentId}`, amount: eur('1500') });
    const captured = await recorded(paymentId, 'PaymentCaptured');
    expect(captured.data).toMatchObject({ amount: eur('1500'), authorizedAmount: eur('2500') });
    const refundId = randomUUID();
    await send('RefundPayment', { paymentId, commandId: `refund-${paymentId}`, refundId, amount: eur('500') });
    const refunded = await outcome('PaymentRefunded', { paymentId, refundId });
    expect(refunded.data).toMatchObject({ amount: eur('500'), refundedTotal: eur('500') });
    const booking = await outcome('TransferPosted', { transferId: refunded.data['transferId'] });
    expect(booking.data).toMatchObject({ debitAccountId: merchant, creditAccountId: 'clearing-card-primary-EUR', amount: eur('500') });
    expect((await attemptsOf(paymentId)).map((attempt) => `${attempt.operation}:${attempt.outcome}`)).toEqual(['authorize:approved', 'capture:approved', 'refund:approved']);
  });

  it('an e-wallet sale and a mobile-money sale go through their own rails', async () => {
    const wallet = await requestPayment('3000', { method: 'e_wallet', channel: 'e_wallet', eWallet: { walletId: `wallet-${run}` } });
    const mobile = await requestPayment('4000', { method: 'mobile_money', channel: 'mobile', mobileMoney: { phoneNumber: '+254712345678' } });
    await Promise.all([recorded(wallet, 'PaymentCaptured'), recorded(mobile, 'PaymentCaptured')]);
    expect((await attemptsOf(wallet)).map((attempt) => attempt.connectorId)).toEqual(['e-wallet-primary', 'e-wallet-primary']);
    expect((await attemptsOf(mobile)).map((attempt) => attempt.connectorId)).toEqual(['mobile-money-primary', 'mobile-money-primary']);
    await outcome('TransferPosted', { debitAccountId: 'clearing-e-wallet-primary-EUR', creditAccountId: merchant });
    await outcome('TransferPosted', { debitAccountId: 'clearing-mobile-money-primary-EUR', creditAccountId: merchant });
  });
});

describe('with connectors down (payments restarted on another configuration)', () => {
  beforeAll(async () => {
    await payments!.close();
    payments = await startPayments({
      ...fastConnectors,
      'card-primary': { ...FAST, down: 'unavailable' },
      'mobile-money-primary': { ...FAST, down: 'unavailable' },
      'mobile-money-backup': { ...FAST, down: 'unavailable' },
    });
  });

  it('an outage of the card primary falls back to the backup; every attempt is recorded', async () => {
    const paymentId = await requestPayment('1300', { card: await tokenised(APPROVED_PAN) });
    await recorded(paymentId, 'PaymentCaptured');
    const attempts = await attemptsOf(paymentId);
    const authorize = attempts.filter((attempt) => attempt.operation === 'authorize');
    expect(authorize.at(-1)).toEqual({ connectorId: 'card-backup', operation: 'authorize', outcome: 'approved', code: null });
    const primary = authorize.filter((attempt) => attempt.connectorId === 'card-primary');
    expect(primary.length).toBeGreaterThanOrEqual(1);
    expect(primary.every((attempt) => attempt.outcome === 'failed' || attempt.outcome === 'skipped')).toBe(true);
    // Capture goes to the connector that holds the authorization, and so does the booking's clearing account.
    expect(attempts.filter((attempt) => attempt.operation === 'capture').map((attempt) => attempt.connectorId)).toEqual(['card-backup']);
    await outcome('TransferPosted', { debitAccountId: 'clearing-card-backup-EUR', creditAccountId: merchant });
  });

  it('every connector of the rail down: the payment fails with connector_unavailable, its attempts recorded', async () => {
    const paymentId = await requestPayment('1400', { method: 'mobile_money', channel: 'mobile', mobileMoney: { phoneNumber: '+254711222333' } });
    const failed = await recorded(paymentId, 'PaymentFailed', 30_000);
    expect(failed.data).toMatchObject({ reasonCode: 'connector_unavailable' });
    const connectors = new Set((await attemptsOf(paymentId)).map((attempt) => attempt.connectorId));
    expect(connectors).toEqual(new Set(['mobile-money-primary', 'mobile-money-backup']));
    expect(await typesOf(paymentId)).not.toContain('PaymentAuthorized');
    const row = await pool.query('select 1 from payments.connector_calls where payment_id = $1', [paymentId]);
    expect(row.rowCount).toBe(0);
  });
});

describe('card data', () => {
  it('is in none of the payment streams these tests made (their PAN and CVV, scanned whole)', async () => {
    expect(paymentIds.length).toBeGreaterThan(5);
    for (const paymentId of paymentIds) assertNoCardData(`payment-${paymentId}`, await paymentStream(paymentId), probe);
  });
});

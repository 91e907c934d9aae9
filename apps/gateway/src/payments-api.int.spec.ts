// Proves the gateway's payment routes on real Kafka and Redis:
// - a card payment is validated (Luhn, brand, expiry, CVV) and tokenised into the card vault at once;
//   RequestPayment on `payments.commands` carries only {token, fingerprint, last4, brand, expiry};
//   a refused card is a 400 problem naming the field and reason; a retry replays, another card under
//   the same key is a 422;
// - e-wallet and mobile money sources are checked and forwarded as they are; a source that does not
//   fit the method is a 400;
// - capture, void, refunds and review reach `payments.commands` as their contracts, with a command id
//   derived from the Idempotency-Key (a retry is replayed, a new key is a new command), 202 with links;
// - PCI DSS: a known test PAN and its CVV are in none of the gateway's log lines (LOG_FILE at trace
//   level, plus anything written to the console), the Redis idempotency records, the vault's records,
//   the Kafka messages (values, keys, headers) or the HTTP answers, malformed JSON included.
// The payments service is not running: what it decides is proven in apps/payments.
import 'reflect-metadata';
import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { assertNoCardData, CardVault, cardVaultSecretsForService, panRenderings, textHoldsCardData, type CardDataProbe } from '@clearline/cards';
import { ALL_TOPICS, Topics } from '@clearline/contracts';
import { createKafka, ensureTopics, kafkaSettingsFromEnv, parseMessage, silentLogger } from '@clearline/messaging';
import { eventually } from '@clearline/testing';
import { createServiceApp } from '@clearline/service-runtime';
import { Redis } from 'ioredis';
import type { Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { signedCall, type Answer, type CallOptions } from './signed-fetch.test-kit.js';

jest.setTimeout(60_000);

const run = randomUUID().slice(0, 8);
/** Stripe's Visa debit test card, a Mastercard test card, and the Visa one mistyped (fails Luhn). */
const PAN = '4000056655665556';
const OTHER_PAN = '5555555555554444';
const MISTYPED_PAN = '4000056655665557';
const CVV = '731';
/**
 * Searched in every text: each PAN in any grouping, and its middle digits. The CVV is searched as a
 * JSON value ("731" or :731), since three digits on their own also occur in timestamps and ids.
 */
const PROBE: CardDataProbe = { forbidden: [...panRenderings(PAN), ...panRenderings(OTHER_PAN), MISTYPED_PAN, `"${CVV}"`, `:${CVV},`, `:${CVV}}`] };
const logFile = join(tmpdir(), `clearline-gateway-payments-${run}.log`);

interface KafkaRecord {
  id: string;
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
  correlationId: string;
}

let gateway: INestApplication;
let baseUrl: string;
let listener: Consumer;
let redis: Redis;
/** Every HTTP answer, every raw Kafka message (value, key, headers), every console line: all scanned at the end. */
const answers: Answer[] = [];
const kafkaTexts: string[] = [];
const consoleTexts: string[] = [];
const commands: KafkaRecord[] = [];
const idempotencyKeys: string[] = [];
const tokens: string[] = [];
/** A payment the signing channel owns, for the lifecycle routes (the payments service is not running to create one). */
const ownedPaymentId = randomUUID();

/** Signed as the e_wallet channel's development key (the owner of the payer account and of `ownedPaymentId`). */
async function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const answer = await signedCall(baseUrl, method, path, options);
  answers.push(answer);
  return answer;
}

/** A command with a fresh Idempotency-Key of this run (so the test can find its Redis record) and correlation id. */
function command(path: string, body: unknown, key = `pan-${run}-${randomUUID()}`, correlationId = `gw-${randomUUID()}`) {
  idempotencyKeys.push(key);
  return call('POST', path, { body, headers: { 'idempotency-key': key, 'x-correlation-id': correlationId } });
}

async function commandOn(type: string, correlationId: string): Promise<KafkaRecord> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const found = commands.find((message) => message.type === type && message.correlationId === correlationId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${type} with correlation id ${correlationId} on ${Topics.paymentsCommands}`);
}

const cardPayment = (card: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  channel: 'card_acquiring',
  merchantId: `merchant-${run}`,
  merchantAccountId: `merchant-${run}`,
  payerAccountId: `payer-${run}`,
  amount: { amountMinor: '1250', currency: 'EUR' },
  method: 'card',
  card: { number: PAN, expMonth: 12, expYear: 2030, cvv: CVV, holderName: 'Ada Lovelace', ...card },
  ...extra,
});

beforeAll(async () => {
  Object.assign(process.env, { ANALYTICS_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'trace', LOG_FILE: logFile });
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    jest.spyOn(console, level).mockImplementation((...parts: unknown[]) => void consoleTexts.push(format(...parts)));
  }

  const settings = { ...kafkaSettingsFromEnv('gateway-payments-int-test'), logLevel: 'nothing' as const };
  await ensureTopics(settings, ALL_TOPICS);
  listener = createKafka(settings, silentLogger).consumer({ groupId: `gateway-payments-int-test-${run}`, maxWaitTimeInMs: 100 });
  await listener.connect();
  await listener.subscribe({ topic: Topics.paymentsCommands, fromBeginning: false });
  // fromBeginning: false starts at the end once the group has its partitions: wait for that.
  const joined = new Promise<void>((resolve) => listener.on(listener.events.GROUP_JOIN, () => resolve()));
  await listener.run({
    eachMessage: async ({ message }) => {
      const headers = Object.entries(message.headers ?? {}).map(([name, value]) => `${name}=${String(value)}`).join('\n');
      kafkaTexts.push(`${String(message.key)}\n${headers}\n${String(message.value)}`);
      // Records that are not contract envelopes (the hostile-input spec's, left on the shared topics) are skipped.
      const parsed = parseMessage(message.value);
      if (!parsed.accepted) return;
      const envelope = parsed.envelope as unknown as { id: string; type: string; data: Record<string, unknown>; metadata: { correlationId: string } };
      commands.push({ id: envelope.id, type: envelope.type, data: envelope.data, correlationId: envelope.metadata.correlationId });
    },
  });
  await joined;

  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  // What the gateway records when this channel opens the payer account and creates a payment
  // (proven in security-api.int.spec.ts); written directly since no ledger or analytics runs here.
  const client = 'e_wallet';
  await redis.set(`gateway:owner:account:payer-${run}`, client);
  await redis.set(`gateway:owner:payment:${ownedPaymentId}`, client);
  const { AppModule } = await import('./app.module.js');
  const { GATEWAY_APP_OPTIONS } = await import('./gateway-app.js');
  gateway = await createServiceApp(AppModule, GATEWAY_APP_OPTIONS);
  await gateway.listen(0, '127.0.0.1');
  baseUrl = await gateway.getUrl();
});

afterAll(async () => {
  await gateway?.close();
  await listener?.disconnect();
  redis?.disconnect();
  if (existsSync(logFile) && process.env['KEEP_GATEWAY_TEST_LOG'] === undefined) rmSync(logFile);
  jest.restoreAllMocks();
});

describe('card payments', () => {
  it('tokenises the card and sends RequestPayment with the token and safe facts only', async () => {
    const correlationId = `gw-${randomUUID()}`;
    const answer = await command('/v1/payments', cardPayment(), undefined, correlationId);
    expect(answer).toMatchObject({ status: 202, body: { status: 'requested', correlationId } });
    const { data } = await commandOn('RequestPayment', correlationId);
    expect(data).toEqual({
      paymentId: answer.body.paymentId,
      channel: 'card_acquiring',
      merchantId: `merchant-${run}`,
      merchantAccountId: `merchant-${run}`,
      payerAccountId: `payer-${run}`,
      amount: { amountMinor: '1250', currency: 'EUR' },
      method: 'card',
      card: { token: expect.stringMatching(/^tok_[A-Za-z0-9_-]{22}$/), fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), last4: '5556', brand: 'visa', expMonth: 12, expYear: 2030 },
    });
    tokens.push(data.card.token);

    // The vault holds the card under the token, encrypted, for the connector that will call the acquirer.
    const vault = new CardVault(redis, cardVaultSecretsForService(process.env));
    const stored = await vault.detokenize(data.card.token);
    expect(stored.pan.reveal()).toBe(PAN);
    expect(await redis.pttl(`clearline:card-vault:${data.card.token}`)).toBeGreaterThan(47 * 3_600_000);

    // The same card, typed with spaces, in a two-digit year: another token, the same fingerprint.
    const again = `gw-${randomUUID()}`;
    expect((await command('/v1/payments', cardPayment({ number: '4000 0566 5566 5556', expYear: 30 }), undefined, again)).status).toBe(202);
    const second = (await commandOn('RequestPayment', again)).data;
    tokens.push(second.card.token);
    expect(second.card).toEqual({ ...data.card, token: expect.not.stringMatching(data.card.token) });
  });

  it('forwards a manual capture mode and an authorization lifetime', async () => {
    const correlationId = `gw-${randomUUID()}`;
    expect((await command('/v1/payments', cardPayment({ number: OTHER_PAN }, { captureMode: 'manual', authorizationTtlMs: 3_600_000 }), undefined, correlationId)).status).toBe(202);
    const { data } = await commandOn('RequestPayment', correlationId);
    expect(data).toMatchObject({ captureMode: 'manual', authorizationTtlMs: 3_600_000, card: { last4: '4444', brand: 'mastercard' } });
    tokens.push(data.card.token);
  });

  it('replays a retry with the same key, and refuses the key with another card (422)', async () => {
    const key = `pan-${run}-${randomUUID()}`;
    const first = await command('/v1/payments', cardPayment(), key);
    const retry = await command('/v1/payments', cardPayment(), key);
    expect(retry).toMatchObject({ status: 202, body: first.body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const otherCard = await command('/v1/payments', cardPayment({ number: OTHER_PAN }), key);
    expect(otherCard).toMatchObject({ status: 422, body: { type: 'urn:clearline:problem:idempotency-key-reused' } });
    // The record is a hash of the request (card number fingerprinted, CVV left out) and the first answer.
    const record = JSON.parse((await redis.get(`gateway:idempotency:e_wallet:POST:/v1/payments:${key}`))!);
    expect(record).toEqual({ state: 'completed', requestHash: expect.stringMatching(/^[0-9a-f]{64}$/), status: 202, body: first.body });
  });

  it('runs a retry again once a dead gateway\'s claim lapses: the same payment id and message id, so one payment', async () => {
    const key = `pan-${run}-${randomUUID()}`;
    const recordKey = `gateway:idempotency:e_wallet:POST:/v1/payments:${key}`;
    const firstCorrelation = `gw-${randomUUID()}`;
    const first = await command('/v1/payments', cardPayment(), key, firstCorrelation);
    expect(first.status).toBe(202);
    const sent = await commandOn('RequestPayment', firstCorrelation);
    tokens.push(sent.data.card.token);

    // What a gateway killed after sending leaves behind: its claim, not its answer (the lease cut to 1.5 s here).
    const { requestHash } = JSON.parse((await redis.get(recordKey))!);
    await redis.set(recordKey, JSON.stringify({ state: 'in_progress', requestHash, claimId: randomUUID() }), 'PX', 1_500);
    const blocked = await command('/v1/payments', cardPayment(), key);
    expect(blocked).toMatchObject({ status: 409, body: { type: 'urn:clearline:problem:request-in-progress', detail: expect.stringContaining('within 60 s') } });
    expect(blocked.headers.get('retry-after')).toMatch(/^[12]$/);
    await eventually('the claim to lapse', async () => ((await redis.exists(recordKey)) === 0 ? true : undefined), 5_000);

    const retryCorrelation = `gw-${randomUUID()}`;
    const retry = await command('/v1/payments', cardPayment(), key, retryCorrelation);
    expect(retry).toMatchObject({ status: 202, body: { paymentId: first.body.paymentId, correlationId: retryCorrelation } });
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const resent = await commandOn('RequestPayment', retryCorrelation);
    tokens.push(resent.data.card.token);
    // The same message id: the payments service's inbox drops the repeat, and the payment id is the same anyway.
    expect(resent.id).toBe(sent.id);
    expect(resent.data.paymentId).toBe(first.body.paymentId);

    // Another request under the key, once its record is gone (after 24 hours), is another payment.
    await redis.del(recordKey);
    const other = await command('/v1/payments', cardPayment({}, { amount: { amountMinor: '990', currency: 'EUR' } }), key);
    expect(other.status).toBe(202);
    expect(other.body.paymentId).not.toBe(first.body.paymentId);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a mistyped number (Luhn)', { number: MISTYPED_PAN }, 'pan_luhn', 'card.number'],
    ['a number of the wrong length for its brand', { number: `${PAN}0` }, 'pan_length', 'card.number'],
    ['letters in the number', { number: `${PAN.slice(0, 8)}abcd${PAN.slice(12)}` }, 'pan_format', 'card.number'],
    ['an expired card', { expMonth: 10, expYear: 2026 }, 'card_expired', 'card.expYear'],
    ['a month 13', { expMonth: 13 }, 'expiry_month', 'card.expMonth'],
    ['a four-digit CVV on a Visa', { cvv: '7310' }, 'cvv_format', 'card.cvv'],
  ])('refuses %s with a 400 invalid-card naming the field and the reason', async (_label, change, reason, field) => {
    const correlationId = `gw-${randomUUID()}`;
    const answer = await command('/v1/payments', cardPayment(change), undefined, correlationId);
    expect(answer).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { type: 'urn:clearline:problem:invalid-card', reason } });
    expect(answer.body.detail).toContain(field);
    // Refused at the edge: nothing was sent.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(commands.filter((message) => message.correlationId === correlationId)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['the number as a JSON number', cardPayment({ number: Number(PAN) }), 'card.number must be a string'],
    ['no CVV', { ...cardPayment(), card: { number: PAN, expMonth: 12, expYear: 2030 } }, 'card.cvv'],
    ['the PAN in the description', cardPayment({}, { description: `card ${PAN}` }), 'description must not contain a card number'],
    ['the PAN under an unknown field', cardPayment({ pan: PAN }), 'card.property pan should not exist'],
  ])('refuses %s with a 400 that does not echo the card', async (_label, body, detail) => {
    const answer = await command('/v1/payments', body);
    expect(answer).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:invalid-request' } });
    expect(answer.body.detail).toContain(detail);
  });

  it.each([
    `{"method":"card","card":{"number":"${PAN}","cvv":"${CVV}",}`,
    // V8 quotes the start of such a body in its error message: the whole number, here.
    `x${PAN}`,
    `"${PAN}"`,
  ])('answers malformed JSON that holds a PAN (%#) with a 400 problem that does not quote it', async (text) => {
    const answer = await command('/v1/payments', text);
    expect(answer).toMatchObject({
      status: 400,
      contentType: expect.stringContaining('application/problem+json'),
      body: { type: 'urn:clearline:problem:invalid-request', title: 'Invalid JSON', status: 400, detail: 'The request body is not valid JSON.' },
    });
    expect(answer.text).not.toContain(PAN.slice(0, 6));
  });
});

describe('e-wallet and mobile money payments', () => {
  const base = { channel: 'e_wallet', merchantId: `merchant-${run}`, merchantAccountId: `merchant-${run}`, payerAccountId: `payer-${run}`, amount: { amountMinor: '990', currency: 'KES' } };

  it('forwards the wallet id and the phone number as they are', async () => {
    const wallet = `gw-${randomUUID()}`;
    expect((await command('/v1/payments', { ...base, method: 'e_wallet', eWallet: { walletId: `wallet-${run}` } }, undefined, wallet)).status).toBe(202);
    expect((await commandOn('RequestPayment', wallet)).data).toMatchObject({ method: 'e_wallet', eWallet: { walletId: `wallet-${run}` } });
    const mobile = `gw-${randomUUID()}`;
    expect((await command('/v1/payments', { ...base, channel: 'mobile', method: 'mobile_money', mobileMoney: { phoneNumber: '+254712345678' } }, undefined, mobile)).status).toBe(202);
    const { data } = await commandOn('RequestPayment', mobile);
    expect(data).toMatchObject({ method: 'mobile_money', mobileMoney: { phoneNumber: '+254712345678' } });
    expect(data).not.toHaveProperty('card');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['mobile money without a phone number', { method: 'mobile_money' }, 'invalid-payment-source'],
    ['an e-wallet payment with a card', { method: 'e_wallet', eWallet: { walletId: 'w-1' }, card: cardPayment().card }, 'invalid-payment-source'],
    ['a card payment without a card', { method: 'card' }, 'invalid-payment-source'],
    ['a phone number not in E.164', { method: 'mobile_money', mobileMoney: { phoneNumber: '0712 345 678' } }, 'invalid-request'],
  ])('refuses %s (%j) with a 400 %s', async (_label, change, slug) => {
    const answer = await command('/v1/payments', { ...base, ...change });
    expect(answer).toMatchObject({ status: 400, body: { type: `urn:clearline:problem:${slug}` } });
  });
});

describe('payment lifecycle commands', () => {
  const paymentId = ownedPaymentId;

  it.each<[string, string, unknown, Record<string, unknown>]>([
    ['capture (partial)', 'CapturePayment', { amount: { amountMinor: '700', currency: 'EUR' } }, { amount: { amountMinor: '700', currency: 'EUR' } }],
    ['capture', 'CapturePayment', undefined, {}],
    ['void', 'VoidPayment', undefined, {}],
    ['refunds', 'RefundPayment', { refundId: '0B7E5F0E-8A0A-4B8E-9D7E-5C1F0D1E2A3B', amount: { amountMinor: '300', currency: 'EUR' } }, { refundId: '0b7e5f0e-8a0a-4b8e-9d7e-5c1f0d1e2a3b', amount: { amountMinor: '300', currency: 'EUR' } }],
    ['review', 'ReviewPayment', { decision: 'approve', reviewerId: 'analyst-7' }, { decision: 'approve', reviewerId: 'analyst-7' }],
  ])('POST /v1/payments/:id/%s sends %s with a command id derived from the key', async (route, type, body, expected) => {
    const correlationId = `gw-${randomUUID()}`;
    const key = `pan-${run}-${randomUUID()}`;
    const path = `/v1/payments/${paymentId}/${route.split(' ')[0]}`;
    const answer = await command(path, body, key, correlationId);
    expect(answer).toMatchObject({
      status: 202,
      body: { paymentId, command: type, commandId: expect.stringMatching(/^gw-[A-Za-z0-9_-]{43}$/), status: 'accepted', correlationId, links: { payment: `/v1/payments/${paymentId}` } },
    });
    const sent = await commandOn(type, correlationId);
    expect(sent.data).toEqual({ paymentId, commandId: answer.body.commandId, ...expected });

    // A retry with the key is replayed (nothing sent again); a new key is a new command.
    const retry = await command(path, body, key, `gw-${randomUUID()}`);
    expect(retry).toMatchObject({ status: 202, body: answer.body });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const other = await command(path, body);
    expect(other.status).toBe(202);
    expect(other.body.commandId).not.toBe(answer.body.commandId);
  });

  it('derives a refund id from the key when none is given', async () => {
    const correlationId = `gw-${randomUUID()}`;
    const answer = await command(`/v1/payments/${paymentId}/refunds`, { amount: { amountMinor: '100', currency: 'EUR' } }, undefined, correlationId);
    expect(answer).toMatchObject({ status: 202, body: { command: 'RefundPayment', refundId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    expect((await commandOn('RefundPayment', correlationId)).data).toMatchObject({ refundId: answer.body.refundId, amount: { amountMinor: '100', currency: 'EUR' } });
  });

  it.each<[string, unknown, string]>([
    ['/v1/payments/not-a-uuid/void', undefined, 'invalid-payment-id'],
    [`/v1/payments/${paymentId}/void`, { reason: 'customer' }, 'invalid-request'],
    [`/v1/payments/${paymentId}/capture`, { amount: { amountMinor: '7.00', currency: 'EUR' } }, 'invalid-request'],
    [`/v1/payments/${paymentId}/capture`, { amount: { amountMinor: 700, currency: 'EUR' } }, 'invalid-request'],
    [`/v1/payments/${paymentId}/capture`, { amount: { amountMinor: '1'.repeat(20), currency: 'EUR' } }, 'invalid-request'],
    [`/v1/payments/${paymentId}/refunds`, {}, 'invalid-request'],
    [`/v1/payments/${paymentId}/refunds`, { refundId: 'refund-1', amount: { amountMinor: '100', currency: 'EUR' } }, 'invalid-request'],
    [`/v1/payments/${paymentId}/review`, { decision: 'maybe' }, 'invalid-request'],
  ])('POST %s with %j is a 400 problem %s', async (path, body, slug) => {
    const answer = await command(path, body);
    expect(answer).toMatchObject({ status: 400, contentType: expect.stringContaining('application/problem+json'), body: { type: `urn:clearline:problem:${slug}`, status: 400 } });
  });

  it('refuses a command without an Idempotency-Key', async () => {
    const answer = await call('POST', `/v1/payments/${paymentId}/void`);
    expect(answer).toMatchObject({ status: 400, body: { type: 'urn:clearline:problem:idempotency-key-missing' } });
  });
});

describe('no card data anywhere (PCI DSS)', () => {
  it('in the HTTP answers, the Kafka messages, the Redis records, the log file and the console', async () => {
    // A last command, so every earlier message has reached the listener (same topic, and it waits for it).
    const last = `gw-${randomUUID()}`;
    await command(`/v1/payments/${ownedPaymentId}/void`, undefined, undefined, last);
    await commandOn('VoidPayment', last);
    expect(tokens.length).toBeGreaterThanOrEqual(3);

    for (const [index, answer] of answers.entries()) {
      assertNoCardData(`HTTP answer ${index}`, { headers: [...answer.headers.entries()], text: answer.text }, PROBE);
    }
    for (const [index, text] of kafkaTexts.entries()) expect({ index, leaks: textHoldsCardData(text, PROBE) }).toEqual({ index, leaks: false });

    const idempotencyRecords = await Promise.all(idempotencyKeys.map((key) => redis.keys(`gateway:idempotency:*:${key}`)));
    const recordKeys = [...new Set(idempotencyRecords.flat())];
    expect(recordKeys.length).toBeGreaterThan(10);
    const vaultKeys = tokens.map((token) => `clearline:card-vault:${token}`);
    for (const key of [...recordKeys, ...vaultKeys]) {
      const value = await redis.get(key);
      expect(value).not.toBeNull();
      expect({ key, leaks: textHoldsCardData(value!, PROBE) }).toEqual({ key, leaks: false });
    }

    const logText = readFileSync(logFile, 'utf8');
    expect(logText).toContain('"msg":"command accepted"');
    for (const [index, line] of logText.split('\n').entries()) expect({ index, leaks: textHoldsCardData(line, PROBE) }).toEqual({ index, leaks: false });
    for (const [index, text] of consoleTexts.entries()) expect({ index, leaks: textHoldsCardData(text, PROBE) }).toEqual({ index, leaks: false });
  });

  it('the scan would catch a leak', () => {
    expect(textHoldsCardData(`{"card":{"number":"${PAN}"}}`, PROBE)).toBe(true);
    expect(textHoldsCardData(`{"cvv":"${CVV}"}`, PROBE)).toBe(true);
    expect(textHoldsCardData('4000 0566 5566 5556', PROBE)).toBe(true);
  });
});

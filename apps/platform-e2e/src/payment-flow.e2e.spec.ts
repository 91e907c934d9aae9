// Proves the walking skeleton end to end through the five real services, real Kafka, PostgreSQL and
// Redis: a signed-off payment goes gateway -> payments -> risk -> ledger (hold, capture) -> settlement
// (a batch closed by the schedule, short here: its net paid to the merchant's settlement account, its
// fee to fee revenue), money balances to the minor unit, the correlation id reaches the settlement event, and bad input
// and retries get the answers a channel relies on. Every gateway request is signed (gatewayClient signs
// as the e_wallet channel's development key, which opens the accounts and so may pay from them).
import { jest } from '@jest/globals';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DEVELOPMENT_CHANNEL_CREDENTIALS } from '@clearline/contracts';
import { gatewayClient, root, startPlatform, type GatewayClient, type RunningPlatform } from '@clearline/testing';

// The platform takes tens of seconds to boot on two cores; each flow waits for asynchronous hops.
jest.setTimeout(120_000);

const BASE_PORT = 4100;
const run = randomUUID().slice(0, 8);
const accounts = {
  funding: `e2e-funding-${run}`,
  payer: `e2e-payer-${run}`,
  merchant: `e2e-merchant-${run}`,
};

let platform: RunningPlatform;
let gateway: GatewayClient;
/** Reads what no channel owns (the settlement account payments opens), as analysts may. */
let analyst: GatewayClient;
let settlementConsumer: Consumer;
interface SettlementMessage {
  key: string;
  value: { type?: string; schemaVersion?: number; data?: { paymentId?: string } };
  headers: Record<string, string>;
}
const settlementMessages: SettlementMessage[] = [];

async function balancesOf(accountId: string): Promise<{ postedMinor: string; pendingMinor: string; availableMinor: string }> {
  const response = await analyst.get(`/v1/accounts/${accountId}`);
  expect(response.status).toBe(200);
  return response.body.balances;
}

function paymentBody(amountMinor: string): Record<string, unknown> {
  return {
    channel: 'e_wallet',
    merchantId: `merchant-${run}`,
    merchantAccountId: accounts.merchant,
    payerAccountId: accounts.payer,
    amount: { amountMinor, currency: 'EUR' },
    method: 'wallet',
    riskContext: { ipAddress: '203.0.113.7', deviceId: `device-${run}` },
  };
}

beforeAll(async () => {
  const kafka = new Kafka({ clientId: 'e2e-test', brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','), logLevel: logLevel.NOTHING });
  settlementConsumer = kafka.consumer({ groupId: `e2e-settlement-${run}` });
  platform = await startPlatform({
    basePort: BASE_PORT,
    env: {
      DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test',
      LOG_LEVEL: 'info',
      // Settlement windows of 2 s instead of a day, so the sale's batch closes while the test waits.
      PAYMENTS_SETTLEMENT_INTERVAL_MS: '2000',
    },
    logDirectory: join(root, '.cache/logs/e2e'),
  });
  gateway = gatewayClient(`http://127.0.0.1:${platform.ports.gateway}`);
  analyst = gatewayClient(`http://127.0.0.1:${platform.ports.gateway}`, DEVELOPMENT_CHANNEL_CREDENTIALS.analyst);
  await settlementConsumer.connect();
  await settlementConsumer.subscribe({ topic: 'settlement.events', fromBeginning: false });
  await settlementConsumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
      settlementMessages.push({ key: String(message.key), value: JSON.parse(String(message.value)), headers });
    },
  });

  for (const [role, accountId] of Object.entries(accounts)) {
    const response = await gateway.post('/v1/accounts', {
      accountId,
      ownerId: `${role}-${run}`,
      kind: role === 'funding' ? 'funding' : role === 'payer' ? 'customer_wallet' : 'merchant',
      currency: 'EUR',
      allowNegativeBalance: role === 'funding',
    });
    expect(response.status).toBe(202);
  }
  for (const accountId of Object.values(accounts)) await gateway.waitFor(`/v1/accounts/${accountId}`, (response) => response.status === 200);
  const funded = await gateway.post('/v1/transfers', {
    debitAccountId: accounts.funding, creditAccountId: accounts.payer, amount: { amountMinor: '10000', currency: 'EUR' },
  });
  expect(funded.status).toBe(202);
  await gateway.waitFor(`/v1/accounts/${accounts.payer}`, (response) => response.body?.balances?.postedMinor === '10000');
});

afterAll(async () => {
  await settlementConsumer?.disconnect();
  await platform?.stop();
});

describe('every service', () => {
  it('is live and ready, and exposes Prometheus metrics', async () => {
    for (const [service, port] of Object.entries(platform.ports)) {
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect({ service, status: ready.status }).toEqual({ service, status: 200 });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(`service="${service}"`);
    }
  });
});

describe('a sale within the balance', () => {
  it('is settled, moves exactly the amount and tells downstream systems with the same correlation id', async () => {
    const correlationId = `e2e-${randomUUID()}`;
    const created = await gateway.post('/v1/payments', paymentBody('1250'), randomUUID(), { 'x-correlation-id': correlationId });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ status: 'requested', correlationId });
    const paymentId: string = created.body.paymentId;

    const settled = await gateway.waitFor(`/v1/payments/${paymentId}`, (response) => response.body?.status === 'settled' || response.body?.status === 'declined');
    expect(settled.body).toMatchObject({
      paymentId,
      status: 'settled',
      amount: { amountMinor: '1250', currency: 'EUR' },
      risk: { decision: 'approve' },
      decline: null,
    });
    expect(settled.body.settledAt).not.toBeNull();

    // The default fee schedule (EUR: 2.9 % + 0.25): 1250 -> 36.25 -> 36 + 25 = 61; the batch pays out 1189
    // to the merchant's settlement account (opened by convention) and leaves the merchant account at zero.
    const settlementAccount = `settlement-merchant-${run}-EUR`;
    await analyst.waitFor(`/v1/accounts/${settlementAccount}`, (response) => response.body?.balances?.postedMinor === '1189');
    await gateway.waitFor(`/v1/accounts/${accounts.merchant}`, (response) => response.body?.balances?.postedMinor === '0');
    const [funding, payer, merchant, payout] = await Promise.all([
      balancesOf(accounts.funding), balancesOf(accounts.payer), balancesOf(accounts.merchant), balancesOf(settlementAccount),
    ]);
    expect(payer).toEqual({ postedMinor: '8750', pendingMinor: '0', availableMinor: '8750' });
    expect(merchant).toEqual({ postedMinor: '0', pendingMinor: '0', availableMinor: '0' });
    const feesMinor = 61n;
    expect(BigInt(funding.postedMinor) + BigInt(payer.postedMinor) + BigInt(merchant.postedMinor) + BigInt(payout.postedMinor) + feesMinor).toBe(0n);

    const deadline = Date.now() + 15_000;
    while (!settlementMessages.some((message) => message.value.data?.paymentId === paymentId) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const settlement = settlementMessages.find((message) => message.value.data?.paymentId === paymentId);
    expect(settlement?.value).toMatchObject({
      type: 'PaymentSettled', schemaVersion: 2,
      data: { paymentId, merchantId: `merchant-${run}`, currency: 'EUR', grossMinor: '1250', feeMinor: '61', netMinor: '1189' },
    });
    expect(settlement?.key).toBe(`merchant-${run}`);
    expect(settlement?.headers['correlation-id']).toBe(correlationId);
    expect(settlement?.headers['message-type']).toBe('PaymentSettled');
  });
});

describe('a payment above the available balance', () => {
  it('is declined for funds by the ledger and holds nothing', async () => {
    const before = await balancesOf(accounts.payer);
    const created = await gateway.post('/v1/payments', paymentBody('50000'));
    expect(created.status).toBe(202);
    const declined = await gateway.waitFor(`/v1/payments/${created.body.paymentId}`, (response) => response.body?.status === 'declined' || response.body?.status === 'settled');
    expect(declined.body).toMatchObject({ status: 'declined', decline: { stage: 'funds', reasonCode: 'insufficient_funds' } });
    expect(await balancesOf(accounts.payer)).toEqual(before);
  });
});

describe('a retried request', () => {
  it('with the same Idempotency-Key and body replays the first answer instead of paying twice', async () => {
    const key = randomUUID();
    const first = await gateway.post('/v1/payments', paymentBody('100'), key);
    const second = await gateway.post('/v1/payments', paymentBody('100'), key);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.paymentId).toBe(first.body.paymentId);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });

  it('with the same Idempotency-Key and another body is refused with 422', async () => {
    const key = randomUUID();
    expect((await gateway.post('/v1/payments', paymentBody('100'), key)).status).toBe(202);
    const reused = await gateway.post('/v1/payments', paymentBody('200'), key);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect(reused.body.type).toBe('urn:clearline:problem:idempotency-key-reused');
  });
});

describe('bad input at the gateway', () => {
  it('without a signature gets a 401 problem', async () => {
    const response = await fetch(`http://127.0.0.1:${platform.ports.gateway}/v1/payments/${randomUUID()}`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { type: string }).type).toBe('urn:clearline:problem:missing-signature');
  });

  it('without an Idempotency-Key gets a 400 problem', async () => {
    const response = await gateway.request('POST', '/v1/payments', paymentBody('100'));
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('urn:clearline:problem:idempotency-key-missing');
  });

  it.each([
    ['a decimal amount', { amount: { amountMinor: '12.50', currency: 'EUR' } }, 'amountMinor'],
    ['a number instead of a string amount', { amount: { amountMinor: 1250, currency: 'EUR' } }, 'amountMinor'],
    ['an unknown currency', { amount: { amountMinor: '1250', currency: 'EUX' } }, 'currency'],
    ['an unknown field', { surcharge: '5' }, 'surcharge'],
    ['an unknown method', { method: 'cash' }, 'method'],
  ])('with %s gets a 400 problem naming the field', async (_label, override, field) => {
    const response = await gateway.post('/v1/payments', { ...paymentBody('100'), ...override });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.type).toBe('urn:clearline:problem:invalid-request');
    expect(response.body.detail).toContain(field);
  });

  it('asking for a payment that does not exist gets a 404 problem', async () => {
    const response = await gateway.get(`/v1/payments/${randomUUID()}`);
    expect(response.status).toBe(404);
    expect(response.body.type).toBe('urn:clearline:problem:payment-not-found');
  });
});

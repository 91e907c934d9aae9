// Proves risk's controls on real PostgreSQL and Redis, through the HTTP API as it runs in the
// service (validation pipe, problem+json): allow and block lists are added, listed, removed and
// audited, and a second instance applies them within its refresh bound; a rule set upload is
// validated (a bad one is refused and the live one stays), versioned and put live on every
// instance with its merchant overrides; a candidate in shadow has its decisions recorded without
// changing the live ones, and the shadow report counts the disagreements; and the decisions'
// recorded inputs let a backtest replay them from the event store, with fraud labels.
// The shared test database's risk tables are touched only with this run's own merchant, devices
// and versions; the live rule set is put back to the shipped file at the end.
import 'reflect-metadata';
import { assertValidEnvelope, type ContractEnvelope } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import { createPool, type Pool } from '@clearline/postgres';
import { backtest, decideRisk, parseRuleSet, type RiskPayment } from '@clearline/risk-domain';
import { createServiceApp, LOGGER, POSTGRES_POOL } from '@clearline/service-runtime';
import { Module } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { readHistoryFromEventStore } from './event-store-history.js';
import { RedisFeatureStore } from './redis-feature-store.js';
import { RiskAdminController } from './risk-admin.controller.js';
import { RiskAssessor } from './risk-assessor.js';
import { DEFAULT_RULE_SET_PATH, loadRiskConfiguration } from './risk-configuration.js';
import { RiskControls } from './risk-controls.js';
import { RISK_CONFIGURATION } from './risk.tokens.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined } as never;
const run = randomUUID().slice(0, 8);
const merchant = `risk-controls-${run}-merchant`;
const device = `risk-controls-${run}-device`;
const startedAt = new Date();
const shipped = JSON.parse(readFileSync(DEFAULT_RULE_SET_PATH, 'utf8')) as Record<string, unknown>;
const REFRESH_MS = 100;

let pool: Pool;
let redis: Redis;
let app: NestExpressApplication;
let base: string;
let secondInstance: RiskControls;

beforeAll(async () => {
  process.env['RISK_CONTROLS_REFRESH_MS'] = String(REFRESH_MS);
  pool = createPool({ connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test' });
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  @Module({
    controllers: [RiskAdminController],
    providers: [
      { provide: POSTGRES_POOL, useValue: pool },
      { provide: LOGGER, useValue: silent },
      { provide: RISK_CONFIGURATION, useFactory: () => loadRiskConfiguration(silent) },
      RiskControls,
    ],
  })
  class RiskControlsTestModule {}
  app = await createServiceApp(RiskControlsTestModule);
  await app.listen(0, '127.0.0.1');
  base = `${await app.getUrl()}/risk`.replace('[::1]', '127.0.0.1');
  secondInstance = new RiskControls(loadRiskConfiguration(silent), pool, silent);
  await secondInstance.onApplicationBootstrap();
});

afterAll(async () => {
  await call('PUT', '/rule-sets/active/live', { version: null, reason: 'integration test done', actor: 'risk-int-test' }).catch(() => undefined);
  await call('PUT', '/rule-sets/active/shadow', { version: null, reason: 'integration test done', actor: 'risk-int-test' }).catch(() => undefined);
  secondInstance?.onApplicationShutdown();
  await app?.close();
  const keys = await redis.keys(`risk-controls-${run}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await pool.end();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() as Record<string, unknown> };
}

/** Waits until the second instance (which only polls) shows what `check` wants, within a bound. */
async function eventually(check: () => boolean, boundMs = REFRESH_MS * 10): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > boundMs) throw new Error(`not visible within ${boundMs} ms`);
    await sleep(10);
  }
  return Date.now() - started;
}

function payment(overrides: Partial<RiskPayment> = {}): RiskPayment {
  return {
    paymentId: randomUUID(), merchantId: merchant, payerAccountId: `risk-controls-${run}-payer`, amountMinor: 1250n, currency: 'EUR', method: 'wallet',
    channel: 'e_wallet', requestedAtMs: Date.now(), deviceId: device, ipAddress: '198.51.100.9', cardFingerprint: null, cardCountry: null, ipCountry: null,
    merchantCategory: null, ...overrides,
  };
}

describe('allow and block lists over the API', () => {
  it('given a device added to the block list, then it is listed with who and why, and every instance declines its payments', async () => {
    expect(decideRisk({ payment: payment(), features: null }, secondInstance.scorers().live).outcome).toBe('approve');
    const added = await call('POST', '/lists/block/entries', { field: 'deviceId', value: device, reason: 'confirmed fraud ring', actor: 'analyst-7' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ kind: 'block', field: 'deviceId', value: device, reason: 'confirmed fraud ring', addedBy: 'analyst-7' });
    const listed = await call('GET', `/lists/block?field=deviceId&value=${device}`);
    expect(listed.body['entries']).toEqual([added.body]);
    await eventually(() => decideRisk({ payment: payment(), features: null }, secondInstance.scorers().live).outcome === 'decline');
    const decision = decideRisk({ payment: payment(), features: null }, secondInstance.scorers().live);
    expect(decision.reasons[0]).toBe('blocklist_device');
    expect(decision.ruleFired).toEqual({ id: 'blocklist_device', action: 'block' });
  });

  it('given the same entry again, then 409 problem+json names the existing entry', async () => {
    const again = await call('POST', '/lists/block/entries', { field: 'deviceId', value: device, reason: 'again', actor: 'analyst-8' });
    expect(again.status).toBe(409);
    expect(again.type).toContain('application/problem+json');
    expect(again.body).toMatchObject({ type: 'urn:clearline:problem:list-entry-exists', entry: { addedBy: 'analyst-7' } });
  });

  it('given invalid entries, then 400 or 404 problem+json, and a card number is never accepted', async () => {
    const cardNumber = await call('POST', '/lists/block/entries', { field: 'payerAccountId', value: '4111111111111111', reason: 'test', actor: 'analyst-7' });
    expect(cardNumber.status).toBe(400);
    expect(cardNumber.body['errors']).toEqual(expect.arrayContaining([expect.stringContaining('value must be')]));
    const fingerprint = await call('POST', '/lists/block/entries', { field: 'cardFingerprint', value: '4111111111111111', reason: 'test', actor: 'analyst-7' });
    expect(fingerprint.status).toBe(400);
    const unknownField = await call('POST', '/lists/allow/entries', { field: 'email', value: 'x', reason: 'test', actor: 'analyst-7', extra: 1 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.type).toContain('application/problem+json');
    expect((await call('POST', '/lists/grey/entries', { field: 'deviceId', value: device, reason: 'test', actor: 'a' })).status).toBe(404);
    expect((await call('DELETE', `/lists/block/entries/deviceId/${device}`)).status).toBe(400);
  });

  it('given the entry removed with a reason, then the audit trail has both changes and instances approve again', async () => {
    const removed = await call('DELETE', `/lists/block/entries/deviceId/${device}?reason=${encodeURIComponent('false positive')}&actor=analyst-9`);
    expect(removed.status).toBe(200);
    expect((await call('DELETE', `/lists/block/entries/deviceId/${device}?reason=again&actor=analyst-9`)).status).toBe(404);
    const changes = (await call('GET', '/lists/changes?limit=1000')).body['changes'] as { value: string; action: string; actor: string; reason: string }[];
    expect(changes.filter((change) => change.value === device).map(({ action, actor, reason }) => ({ action, actor, reason }))).toEqual([
      { action: 'remove', actor: 'analyst-9', reason: 'false positive' },
      { action: 'add', actor: 'analyst-7', reason: 'confirmed fraud ring' },
    ]);
    await eventually(() => decideRisk({ payment: payment(), features: null }, secondInstance.scorers().live).outcome === 'approve');
  });

  it('given an allowed payer, then the allow list approves before any block rule', async () => {
    const payer = `risk-controls-${run}-vip`;
    expect((await call('POST', '/lists/allow/entries', { field: 'payerAccountId', value: payer, reason: 'vetted', actor: 'analyst-7' })).status).toBe(201);
    await eventually(() => decideRisk({ payment: payment({ payerAccountId: payer, deviceId: 'risk-blocked-device-example' }), features: null }, secondInstance.scorers().live).outcome === 'approve');
    expect((await call('DELETE', `/lists/allow/entries/payerAccountId/${payer}?reason=cleanup&actor=risk-int-test`)).status).toBe(200);
  });
});

describe('rule set hot reload', () => {
  const version = `rules-int-${run}`;
  const ruleSet = { ...shipped, version, merchants: { [merchant]: { thresholds: { reviewFromScore: 1 }, rules: [{ id: 'review_int_merchant', action: 'review', list: 'merchantId', values: [merchant] }] } } };

  it('given an invalid rule set, then 422 names every problem and the live one stays', async () => {
    const live = secondInstance.scorers().live.ruleSet.version;
    const refused = await call('POST', '/rule-sets', {
      ruleSet: { ...ruleSet, version: `${version}-bad`, rules: [{ id: 'x', action: 'block', when: [{ feature: 'velocity_payr_count_1m', op: '>', value: 1 }] }] },
      activate: 'live', reason: 'typo', actor: 'analyst-7',
    });
    expect(refused.status).toBe(422);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body['problems']).toEqual(['rules[0].when[0].feature: unknown feature "velocity_payr_count_1m"']);
    expect((await call('GET', `/rule-sets/${version}-bad`)).status).toBe(404);
    await sleep(REFRESH_MS * 2);
    expect(secondInstance.scorers().live.ruleSet.version).toBe(live);
  });

  it('given a valid upload activated live, then every instance uses it, with its merchant overrides, and the version is immutable', async () => {
    const uploaded = await call('POST', '/rule-sets', { ruleSet, activate: 'live', reason: 'tighter review for one merchant', actor: 'analyst-7' });
    expect(uploaded).toMatchObject({ status: 201, body: { version, created: true, activated: 'live' } });
    await eventually(() => secondInstance.scorers().live.ruleSet.version === version);
    const decision = decideRisk({ payment: payment(), features: null }, secondInstance.scorers().live);
    expect(decision).toMatchObject({ outcome: 'review', ruleSetVersion: version, reasons: ['review_int_merchant'] });
    expect(decideRisk({ payment: payment({ merchantId: `${merchant}-other` }), features: null }, secondInstance.scorers().live).outcome).toBe('approve');
    expect((await call('POST', '/rule-sets', { ruleSet, reason: 'same again', actor: 'analyst-7' })).body).toMatchObject({ created: false });
    const changed = await call('POST', '/rule-sets', { ruleSet: { ...ruleSet, failPolicy: 'closed' }, reason: 'edit in place', actor: 'analyst-7' });
    expect(changed).toMatchObject({ status: 409, body: { type: 'urn:clearline:problem:rule-set-version-exists' } });
    const listed = await call('GET', '/rule-sets');
    expect(listed.body['active']).toMatchObject({ live: version });
    expect((await call('GET', `/rule-sets/${version}`)).body).toMatchObject({ version, uploadedBy: 'analyst-7', document: ruleSet });
  });

  it('given the live role reset, then the shipped file is live again everywhere', async () => {
    expect((await call('PUT', '/rule-sets/active/live', { version: null, reason: 'back to the shipped rules', actor: 'analyst-7' })).status).toBe(200);
    await eventually(() => secondInstance.scorers().live.ruleSet.version === shipped['version']);
    expect((await call('PUT', '/rule-sets/active/live', { version: 'rules-never-uploaded', reason: 'not uploaded', actor: 'analyst-7' })).status).toBe(404);
  });
});

describe('shadow mode and the backtest from the event store', () => {
  const shadowVersion = `rules-int-${run}-shadow`;
  const requested = (paymentId: string): ContractEnvelope => assertValidEnvelope({
    id: randomUUID(), type: 'PaymentRequested', schemaVersion: 1,
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'risk-controls-int-test' },
    data: {
      paymentId, channel: 'e_wallet', merchantId: merchant, merchantAccountId: `${merchant}-account`, payerAccountId: `risk-controls-${run}-payer`,
      amount: { amountMinor: '1250', currency: 'EUR' }, method: 'wallet', riskContext: { ipAddress: '198.51.100.9', deviceId: device },
      requestedAt: new Date().toISOString(),
    },
  });

  async function assess(assessor: RiskAssessor, envelope: ContractEnvelope): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await assessor.handle(envelope, client);
      await client.query('commit');
    } finally {
      client.release();
    }
  }

  it('given a candidate in shadow, then its decisions are recorded beside unchanged live ones, and the report counts the disagreements', async () => {
    const candidate = { ...shipped, version: shadowVersion, rules: [{ id: 'block_int_merchant', action: 'block', list: 'merchantId', values: [merchant] }, ...(shipped['rules'] as unknown[])] };
    expect((await call('POST', '/rule-sets', { ruleSet: candidate, activate: 'shadow', reason: 'try blocking the merchant', actor: 'analyst-7' })).status).toBe(201);
    const controls = app.get(RiskControls);
    expect(controls.scorers().shadow?.ruleSet.version).toBe(shadowVersion);
    const store = new PostgresEventStore(pool);
    const assessor = new RiskAssessor(store, new RedisFeatureStore(redis, `risk-controls-${run}`), controls, silent);
    const paymentIds: string[] = [randomUUID(), randomUUID(), randomUUID()];
    for (const paymentId of paymentIds) await assess(assessor, requested(paymentId));

    for (const paymentId of paymentIds) {
      const events = await store.readStream(`risk-${paymentId}`);
      expect(events.map((event) => event.type)).toEqual(['RiskAssessed', 'RiskDecisionInputsRecorded']);
      expect(events[0]!.data).toMatchObject({ decision: 'approve', ruleSetVersion: shipped['version'] });
      expect(JSON.stringify(events[1]!.data)).not.toMatch(/4111|cvv|pan/i);
    }
    const { rows } = await pool.query('select live_decision, shadow_decision, shadow_reasons from risk.shadow_decisions where payment_id = any($1)', [paymentIds]);
    expect(rows).toEqual(paymentIds.map(() => ({ live_decision: 'approve', shadow_decision: 'decline', shadow_reasons: expect.arrayContaining(['block_int_merchant']) })));
    const report = await call('GET', `/shadow/report?since=${encodeURIComponent(startedAt.toISOString())}&shadowRuleSetVersion=${shadowVersion}`);
    expect(report.body).toMatchObject({ payments: 3, agreed: 0, disagreed: 3, agreementRate: 0, transitions: { 'approve->decline': 3 } });
    expect((await call('PUT', '/rule-sets/active/shadow', { version: null, reason: 'enough data', actor: 'analyst-7' })).status).toBe(200);
    expect(controls.scorers().shadow).toBeNull();

    // The same payments, replayed from the event store through the candidate, with one fraud label.
    expect((await call('PUT', `/labels/${paymentIds[0]!}`, { fraud: true, reason: 'chargeback 4837', actor: 'disputes' })).status).toBe(200);
    const history = await readHistoryFromEventStore(store, pool, { since: startedAt });
    const ours = history.payments.filter((entry) => paymentIds.includes(entry.input.payment.paymentId));
    expect(ours).toHaveLength(3);
    expect(ours[0]!.input.features?.velocity.payer?.['1m'].count).toBe(1);
    expect(ours[2]!.input.features?.velocity.payer?.['1m'].count).toBe(3);
    const report2 = backtest(ours, { ruleSet: parseRuleSet(candidate), model: loadRiskConfiguration(silent).model });
    expect(report2).toMatchObject({
      payments: 3, changed: 3, labelled: { fraud: 1, good: 0, unknown: 2 },
      liveLabelled: { fraudCaught: 0, fraudMissed: 1 }, candidateLabelled: { fraudCaught: 1, fraudDeclined: 1 },
    });
    expect(report2.transitions['approve->decline']).toBe(3);
  });
});

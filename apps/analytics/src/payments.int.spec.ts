/**
 * Proves read model 'payments' on real PostgreSQL: payments appended as the payments service appends
 * them (each step its own transaction, so each has its own recorded time), projected step by step,
 * end with the payment aggregate's status (settled once a captured payment's batch closed), the
 * authorized, captured and refunded amounts, the time of each step, the decline or failure reason and
 * who reviewed them; a replay of all of it in one batch writes the same bytes. Works in schemas of its
 * own (event store and read models); every contract event it appends passes validateEnvelope.
 */
import { isContractType, validateEnvelope } from '@clearline/contracts';
import { eventStoreMigrations, PostgresEventStore, START, type AllPosition } from '@clearline/event-store';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { randomUUID } from 'node:crypto';
import { readModelNamed, tableNames } from './read-model-catalog.js';
import { createReadModelTables, rebuildReadModels, replay, SHADOW_SUFFIX, tableDigests } from './read-model-rebuild.js';

const suffix = randomUUID().replaceAll('-', '').slice(0, 10);
const STORE_SCHEMA = `payments_it_store_${suffix}`;
const READ_MODEL_SCHEMA = `payments_it_analytics_${suffix}`;
const model = readModelNamed('payments');
const tables = tableNames(model, READ_MODEL_SCHEMA);

let pool: Pool;
let store: PostgresEventStore;
let projectedUpTo: AllPosition = START;

type Step = [type: string, data: Record<string, unknown>, schemaVersion?: number];

const eur = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });

/** Appends one step (one transaction, one recorded time) to `streamId`, then projects what is new. */
async function append(streamId: string, [type, data, schemaVersion = 1]: Step): Promise<void> {
  const event = { id: randomUUID(), type, data, schemaVersion, metadata: { correlationId: `corr-${suffix}`, causationId: randomUUID(), producer: 'payments' } };
  if (isContractType(type)) {
    const validation = validateEnvelope({ ...event, metadata: { ...event.metadata, occurredAt: new Date().toISOString() } });
    if (!validation.valid) throw new Error(`the test's ${type} breaks its contract: ${validation.reason}`);
  }
  await store.appendToStreams([{ streamId, events: [event] }]);
  const { rows } = await pool.query(`select global_position from ${STORE_SCHEMA}.messages where message_id = $1`, [event.id]);
  const appendedAt = BigInt(rows[0].global_position);
  // readAll shows an event once every transaction older than it ended, the shared database's too.
  const deadline = Date.now() + 10_000;
  while (projectedUpTo.globalPosition < appendedAt) {
    if (Date.now() > deadline) throw new Error(`event ${appendedAt} did not become readable within 10 s`);
    // Small batches (pages of 2, each written before the next is read), as a live projection under load would see them.
    projectedUpTo = await replay({ pool, store, targets: [{ model, tables }], after: projectedUpTo, pageSize: 2, maxHeldRows: 1 });
  }
}

interface PaymentOptions { captureMode?: 'automatic' | 'manual'; amountMinor?: string }

/** A new payment: PaymentRequested and the risk assessment, each appended as its service does. */
async function requested(decision: 'approve' | 'review' | 'decline', options: PaymentOptions = {}): Promise<{ paymentId: string; stream: string; holdId: string }> {
  const paymentId = randomUUID();
  const stream = `payment-${paymentId}`;
  await append(stream, ['PaymentRequested', {
    paymentId, channel: 'card_acquiring', merchantId: `merchant-${suffix}`, merchantAccountId: `merchant-${suffix}-eur`, payerAccountId: `payer-${suffix}`,
    amount: eur(options.amountMinor ?? '1000'), method: 'wallet', captureMode: options.captureMode ?? 'automatic', requestedAt: new Date().toISOString(),
  }]);
  const score = decision === 'approve' ? 12 : decision === 'review' ? 75 : 93;
  await append(`risk-${paymentId}`, ['RiskAssessed', { paymentId, payerAccountId: `payer-${suffix}`, score, decision, reasons: decision === 'approve' ? [] : ['velocity_payer_1h'], ruleSetVersion: 'it-1' }]);
  return { paymentId, stream, holdId: randomUUID() };
}

async function authorized(payment: { paymentId: string; stream: string; holdId: string }, amountMinor = '1000'): Promise<void> {
  const { paymentId, stream, holdId } = payment;
  await append(stream, ['PaymentAuthorizationStarted', { paymentId, holdId, riskScore: 12 }]);
  await append(stream, ['PaymentAuthorized', { paymentId, holdId, amount: eur(amountMinor) }]);
}

async function captured(payment: { paymentId: string; stream: string; holdId: string }, amountMinor: string, authorizedMinor = amountMinor, commandId?: string): Promise<void> {
  const { paymentId, stream, holdId } = payment;
  await append(stream, ['PaymentCaptureStarted', { paymentId, holdId, amount: eur(amountMinor), ...(commandId ? { commandId, fingerprint: 'capture' } : {}) }]);
  await append(stream, ['PaymentCaptured', { paymentId, holdId, amount: eur(amountMinor), authorizedAmount: eur(authorizedMinor) }]);
}

async function refund(payment: { paymentId: string; stream: string }, amountMinor: string, outcome: 'refunded' | 'failed', refundedTotal = amountMinor): Promise<void> {
  const { paymentId, stream } = payment;
  const refundId = randomUUID();
  const transferId = randomUUID();
  await append(stream, ['PaymentRefundStarted', { paymentId, refundId, amount: eur(amountMinor), transferId, commandId: randomUUID(), fingerprint: 'refund' }]);
  expect((await row(paymentId))['status']).toBe('refunding');
  if (outcome === 'refunded') await append(stream, ['PaymentRefunded', { paymentId, refundId, amount: eur(amountMinor), refundedTotal: eur(refundedTotal), transferId }]);
  else await append(stream, ['RefundFailed', { paymentId, refundId, amount: eur(amountMinor), reasonCode: 'insufficient_funds' }]);
}

async function settled(paymentId: string, grossMinor: string): Promise<string> {
  const batchId = randomUUID();
  await append(`settlement-merchant-${suffix}-EUR-1`, ['PaymentSettled', {
    paymentId, merchantId: `merchant-${suffix}`, merchantAccountId: `merchant-${suffix}-eur`, settlementBatchId: batchId, currency: 'EUR',
    grossMinor, feeMinor: '25', netMinor: (BigInt(grossMinor) - 25n).toString(), capturedAt: new Date().toISOString(), settledAt: new Date().toISOString(),
  }, 2]);
  return batchId;
}

async function row(paymentId: string): Promise<Record<string, unknown>> {
  const { rows } = await pool.query(`select * from ${tables.payments} where payment_id = $1`, [paymentId]);
  if (rows[0] === undefined) throw new Error(`no row for payment ${paymentId}`);
  return rows[0];
}

/** The recorded time of the payment's event of `type` (the latest one), to compare a step's time with. */
async function recordedAt(paymentId: string, type: string, streamPrefix = 'payment'): Promise<Date> {
  const { rows } = await pool.query(
    `select max(recorded_at) as at from ${STORE_SCHEMA}.messages where message_type = $1 and data->>'paymentId' = $2 and category = $3`,
    [type, paymentId, streamPrefix],
  );
  if (rows[0]?.at === null || rows[0] === undefined) throw new Error(`no ${type} for ${paymentId}`);
  return rows[0].at;
}

beforeAll(async () => {
  pool = createPool({ max: 4, applicationName: 'analytics-payments-it' });
  await migrate(pool, [eventStoreMigrations({ schema: STORE_SCHEMA })]);
  await createReadModelTables(pool, READ_MODEL_SCHEMA);
  store = new PostgresEventStore(pool, { schema: STORE_SCHEMA });
});

afterAll(async () => {
  await pool.query(`drop schema if exists ${STORE_SCHEMA} cascade; drop schema if exists ${READ_MODEL_SCHEMA} cascade`);
  await pool.query(`delete from public.schema_migrations where owner = $1`, [`event-store:${STORE_SCHEMA}`]).catch(() => undefined);
  await pool.end();
});

describe('read model payments', () => {
  it('a sale follows capture, then shows settled once its batch closed', async () => {
    const payment = await requested('approve');
    expect(await row(payment.paymentId)).toMatchObject({ status: 'requested', risk_score: 12, risk_decision: 'approve', risk_reasons: [], capture_mode: 'automatic', amount_minor: '1000' });
    await append(payment.stream, ['PaymentAuthorizationStarted', { paymentId: payment.paymentId, holdId: payment.holdId, riskScore: 12 }]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'authorizing', hold_id: payment.holdId });
    await append(payment.stream, ['PaymentAuthorized', { paymentId: payment.paymentId, holdId: payment.holdId, amount: eur('1000') }]);
    await append(payment.stream, ['PaymentCaptureStarted', { paymentId: payment.paymentId, holdId: payment.holdId, amount: eur('1000') }]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'capturing', capture_command_id: null });
    await append(payment.stream, ['PaymentCaptured', { paymentId: payment.paymentId, holdId: payment.holdId, amount: eur('1000'), authorizedAmount: eur('1000') }]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'captured', captured_minor: '1000', settled_at: null });
    const batchId = await settled(payment.paymentId, '1000');

    const settledRow = await row(payment.paymentId);
    expect(settledRow).toMatchObject({
      status: 'settled', authorized_minor: '1000', captured_minor: '1000', refunded_minor: '0', pending_refund_minor: '0', refund_count: 0,
      settlement_batch_id: batchId, decline_stage: null, failure_reason: null, ended_at: null, reviewed_by: null,
    });
    expect(settledRow['authorization_started_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentAuthorizationStarted'));
    expect(settledRow['authorized_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentAuthorized'));
    expect(settledRow['decided_at']).toEqual(settledRow['authorized_at']);
    expect(settledRow['capture_started_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentCaptureStarted'));
    expect(settledRow['captured_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentCaptured'));
    expect(settledRow['settled_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentSettled', 'settlement'));
    expect(settledRow['updated_at']).toEqual(settledRow['settled_at']);
    expect((settledRow['captured_at'] as Date) < (settledRow['settled_at'] as Date)).toBe(true);

    // A second PaymentSettled (a replayed publication) changes nothing: settled once.
    await settled(payment.paymentId, '1000');
    expect(await row(payment.paymentId)).toEqual(settledRow);
  });

  it('an authorization captured in part keeps both amounts', async () => {
    const payment = await requested('approve', { captureMode: 'manual' });
    await authorized(payment);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'authorized', authorized_minor: '1000', captured_minor: null });
    await captured(payment, '400', '1000', randomUUID());
    const partial = await row(payment.paymentId);
    expect(partial).toMatchObject({ status: 'captured', capture_mode: 'manual', amount_minor: '1000', authorized_minor: '1000', captured_minor: '400', ended_at: null });
    expect(partial['captured_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentCaptured'));
  });

  it('a capture the ledger refused gives the payment back its authorization; a refusal of another command does not', async () => {
    const payment = await requested('approve', { captureMode: 'manual' });
    await authorized(payment);
    const commandId = randomUUID();
    await append(payment.stream, ['PaymentCaptureStarted', { paymentId: payment.paymentId, holdId: payment.holdId, amount: eur('1000'), commandId, fingerprint: 'capture' }]);
    const rejected = (id: string) => ({ paymentId: payment.paymentId, commandId: id, commandType: 'CapturePayment', reasonCode: 'insufficient_funds', status: 'capturing', detail: 'refused' });
    await append(payment.stream, ['PaymentCommandRejected', rejected(randomUUID())]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'capturing', capture_command_id: commandId });
    await append(payment.stream, ['PaymentCommandRejected', rejected(commandId)]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'authorized', captured_minor: null, capture_command_id: null });
  });

  it('a void ends the payment', async () => {
    const payment = await requested('approve', { captureMode: 'manual' });
    await authorized(payment);
    await append(payment.stream, ['PaymentVoidStarted', { paymentId: payment.paymentId, holdId: payment.holdId, commandId: randomUUID(), fingerprint: 'void' }]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'voiding' });
    await append(payment.stream, ['PaymentVoided', { paymentId: payment.paymentId, holdId: payment.holdId, releasedAmount: eur('1000') }]);
    const voided = await row(payment.paymentId);
    expect(voided).toMatchObject({ status: 'voided', captured_minor: null, authorized_minor: '1000' });
    expect(voided['void_started_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentVoidStarted'));
    expect(voided['voided_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentVoided'));
    expect(voided['ended_at']).toEqual(voided['voided_at']);
  });

  it('an authorization not captured in time expires', async () => {
    const payment = await requested('approve', { captureMode: 'manual' });
    await authorized(payment);
    await append(payment.stream, ['PaymentExpired', { paymentId: payment.paymentId, holdId: payment.holdId, reasonCode: 'authorization_expired' }]);
    const expired = await row(payment.paymentId);
    expect(expired).toMatchObject({ status: 'expired', expiry_reason: 'authorization_expired' });
    expect(expired['expired_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentExpired'));
    expect(expired['ended_at']).toEqual(expired['expired_at']);
  });

  it.each([
    ['risk', 'decline', 'risk_score_high'],
    ['funds', 'approve', 'insufficient_funds'],
  ] as const)('a decline at %s keeps its stage and reason', async (stage, decision, reasonCode) => {
    const payment = await requested(decision);
    if (stage === 'funds') await append(payment.stream, ['PaymentAuthorizationStarted', { paymentId: payment.paymentId, holdId: payment.holdId, riskScore: 12 }]);
    await append(payment.stream, ['PaymentDeclined', { paymentId: payment.paymentId, stage, reasonCode }]);
    const declined = await row(payment.paymentId);
    expect(declined).toMatchObject({ status: 'declined', decline_stage: stage, decline_reason: reasonCode, authorized_minor: null, reviewed_by: null });
    expect(declined['decided_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentDeclined'));
    expect(declined['ended_at']).toEqual(declined['decided_at']);
  });

  it('a payment that failed keeps the reason', async () => {
    const payment = await requested('approve');
    await append(payment.stream, ['PaymentAuthorizationStarted', { paymentId: payment.paymentId, holdId: payment.holdId, riskScore: 12 }]);
    await append(payment.stream, ['PaymentFailed', { paymentId: payment.paymentId, reasonCode: 'ledger_timeout' }]);
    const failed = await row(payment.paymentId);
    expect(failed).toMatchObject({ status: 'failed', failure_reason: 'ledger_timeout', decline_stage: null });
    expect(failed['decided_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentFailed'));
    expect(failed['ended_at']).toEqual(failed['decided_at']);
  });

  it.each([
    ['an analyst approves', 'approve', 'analyst-7', 'captured'],
    ['an analyst declines', 'decline', 'analyst-3', 'declined'],
    ['the review timeout approves', 'approve', 'review_timeout', 'captured'],
    ['the review timeout declines', 'decline', 'review_timeout', 'declined'],
  ] as const)('review: %s', async (_title, decision, reviewer, status) => {
    const payment = await requested('review');
    const timeoutOutcome = reviewer === 'review_timeout' ? decision : 'decline';
    await append(payment.stream, ['PaymentInReview', { paymentId: payment.paymentId, riskScore: 75, reasons: ['velocity_payer_1h'], timeoutOutcome }]);
    expect(await row(payment.paymentId)).toMatchObject({ status: 'in_review', review_timeout_outcome: timeoutOutcome, reviewed_by: null });
    // A timeout that declines records no PaymentReviewed (payments-domain reviewTimedOut): the decline says it.
    const timeoutDecline = reviewer === 'review_timeout' && decision === 'decline';
    if (!timeoutDecline) await append(payment.stream, ['PaymentReviewed', { paymentId: payment.paymentId, decision, reviewerId: reviewer, commandId: randomUUID(), fingerprint: 'review' }]);
    if (decision === 'approve') {
      await authorized(payment);
      await captured(payment, '1000');
    } else {
      await append(payment.stream, ['PaymentDeclined', { paymentId: payment.paymentId, stage: 'review', reasonCode: timeoutDecline ? 'review_timeout' : 'review_declined' }]);
    }
    const reviewed = await row(payment.paymentId);
    expect(reviewed).toMatchObject({ status, review_decision: decision, reviewed_by: reviewer, risk_decision: 'review', captured_minor: decision === 'approve' ? '1000' : null });
    expect(reviewed['review_started_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentInReview'));
    expect(reviewed['reviewed_at']).toEqual(await recordedAt(payment.paymentId, timeoutDecline ? 'PaymentDeclined' : 'PaymentReviewed'));
    expect((reviewed['review_started_at'] as Date) < (reviewed['reviewed_at'] as Date)).toBe(true);
  });

  it('refunds in part, then in full', async () => {
    const payment = await requested('approve');
    await authorized(payment);
    await captured(payment, '1000');
    await refund(payment, '300', 'refunded');
    const partial = await row(payment.paymentId);
    expect(partial).toMatchObject({ status: 'partially_refunded', captured_minor: '1000', refunded_minor: '300', pending_refund_minor: '0', refund_count: 1, ended_at: null });
    expect(partial['refund_started_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentRefundStarted'));
    expect(partial['refunded_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentRefunded'));

    await refund(payment, '700', 'refunded', '1000');
    const full = await row(payment.paymentId);
    expect(full).toMatchObject({ status: 'refunded', refunded_minor: '1000', pending_refund_minor: '0', refund_count: 2 });
    // The first refund's start stays; refunded_at moves to the last refund.
    expect(full['refund_started_at']).toEqual(partial['refund_started_at']);
    expect(full['refunded_at']).toEqual(await recordedAt(payment.paymentId, 'PaymentRefunded'));
    expect(full['ended_at']).toEqual(full['refunded_at']);
  });

  it('a refund of a settled payment shows its status; a refused one gives back settled', async () => {
    const payment = await requested('approve');
    await authorized(payment);
    await captured(payment, '1000');
    await settled(payment.paymentId, '1000');
    await refund(payment, '1000', 'failed');
    const refused = await row(payment.paymentId);
    expect(refused).toMatchObject({ status: 'settled', refunded_minor: '0', pending_refund_minor: '0', refund_count: 0, refund_failure_reason: 'insufficient_funds' });
    await refund(payment, '250', 'refunded');
    expect(await row(payment.paymentId)).toMatchObject({ status: 'partially_refunded', refunded_minor: '250', settled_at: refused['settled_at'] });
  });

  it('an assessment recorded before its payment reaches the row; events of unknown payments are ignored', async () => {
    const paymentId = randomUUID();
    await append(`risk-${paymentId}`, ['RiskAssessed', { paymentId, payerAccountId: `payer-${suffix}`, score: 40, decision: 'approve', reasons: ['new_device'], ruleSetVersion: 'it-1' }]);
    // A settlement publication for a payment this read model never saw (another store's) changes nothing.
    await settled(randomUUID(), '500');
    await append(`payment-${paymentId}`, ['PaymentRequested', {
      paymentId, channel: 'mobile', merchantId: `merchant-${suffix}`, merchantAccountId: `merchant-${suffix}-eur`, payerAccountId: `payer-${suffix}`,
      amount: eur('500'), method: 'wallet', requestedAt: new Date().toISOString(),
    }]);
    expect(await row(paymentId)).toMatchObject({ status: 'requested', risk_score: 40, risk_decision: 'approve', risk_reasons: ['new_device'], capture_mode: 'automatic' });
    const { rows } = await pool.query(`select reasons from ${tables.risk_assessments} where payment_id = $1`, [paymentId]);
    expect(rows).toEqual([{ reasons: ['new_device'] }]);
  });

  it('a replay of everything in one batch writes the same bytes as the step-by-step projection', async () => {
    const live = await tableDigests(pool, tables);
    expect(live['payments']).not.toMatch(/^0:/);
    await rebuildReadModels({ pool, store, models: [model], schema: READ_MODEL_SCHEMA, pageSize: 10_000, swap: false });
    expect(await tableDigests(pool, tableNames(model, READ_MODEL_SCHEMA, SHADOW_SUFFIX))).toEqual(live);
    // Every status of the lifecycle that these paths reach is there, and none other.
    const { rows } = await pool.query<{ status: string }>(`select distinct status from ${tables.payments} order by 1`);
    expect(rows.map((entry) => entry.status)).toEqual(['authorized', 'captured', 'declined', 'expired', 'failed', 'partially_refunded', 'refunded', 'requested', 'settled', 'voided']);
  });
});

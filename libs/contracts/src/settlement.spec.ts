// Proves the settlement contracts: RefundSettled and SettlementBatchClosed are registered on
// settlement.events, keyed by merchant id, accept well-formed data and refuse what would let a
// downstream system book a wrong amount (decimals, negative totals, unknown reasons, extra fields).
import { randomUUID } from 'node:crypto';
import { Ajv } from 'ajv';
import { contractFor, CONTRACTS, deriveMessageId, paymentSettledV2Schema, Topics, validateEnvelope } from './index.js';

const BATCH_ID = deriveMessageId('merchant-1:EUR', 'batch-1');

const envelope = (type: string, data: unknown) => ({
  id: randomUUID(), type, schemaVersion: 1, data,
  metadata: { correlationId: 'corr-1', causationId: 'cause-1', occurredAt: '2026-11-28T00:00:00Z', producer: 'payments' },
});

const refundSettled = {
  refundId: randomUUID(), paymentId: randomUUID(), merchantId: 'merchant-1', merchantAccountId: 'merchant-1-eur', settlementBatchId: BATCH_ID,
  currency: 'EUR', amountMinor: '2500', refundedAt: '2026-11-27T11:00:00Z', settledAt: '2026-11-28T00:00:00Z',
};

const batchClosed = {
  settlementBatchId: BATCH_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-1-eur', currency: 'EUR', batchNo: 1, reason: 'schedule',
  openedAt: '2026-11-27T00:00:00Z', closedAt: '2026-11-28T00:00:00Z', paymentCount: 2, refundCount: 1,
  grossMinor: '11250', refundsMinor: '1000', feesMinor: '386', carriedInMinor: '0', netMinor: '9864', carriedForwardMinor: '0',
  ledgerBatchId: randomUUID(), netTransferId: randomUUID(), feeTransferId: randomUUID(),
};

describe('settlement contracts', () => {
  it.each([['RefundSettled', 1], ['SettlementBatchClosed', 1], ['PaymentSettled', 2]])('%s is a registered event on settlement.events, version %d', (type, schemaVersion) => {
    expect(CONTRACTS.map((contract) => contract.type)).toContain(type);
    expect(contractFor(type)).toMatchObject({ kind: 'event', topic: Topics.settlementEvents, schemaVersion });
  });

  it('CloseSettlementBatch is a command on payments.commands, keyed by merchant', () => {
    const data = { commandId: 'close-1', merchantId: 'merchant-1', currency: 'EUR' };
    expect(contractFor('CloseSettlementBatch')).toMatchObject({ kind: 'command', topic: Topics.paymentsCommands, schemaVersion: 1 });
    expect(contractFor('CloseSettlementBatch').partitionKey(data)).toBe('merchant-1');
    expect(validateEnvelope(envelope('CloseSettlementBatch', { ...data, settlementBatchId: BATCH_ID }))).toMatchObject({ valid: true });
    expect(validateEnvelope(envelope('CloseSettlementBatch', { ...data, currency: 'eur' })).valid).toBe(false);
  });

  it('keys every settlement event by merchant id, so one merchant stays in order', () => {
    expect(contractFor('RefundSettled').partitionKey(refundSettled)).toBe('merchant-1');
    expect(contractFor('SettlementBatchClosed').partitionKey(batchClosed)).toBe('merchant-1');
  });

  it('accepts well-formed data, the ledger ids being optional when nothing moved', () => {
    expect(validateEnvelope(envelope('RefundSettled', refundSettled))).toMatchObject({ valid: true });
    expect(validateEnvelope(envelope('SettlementBatchClosed', batchClosed))).toMatchObject({ valid: true });
    const { ledgerBatchId: _batch, netTransferId: _net, feeTransferId: _fee, ...nothingMoved } = batchClosed;
    expect(validateEnvelope(envelope('SettlementBatchClosed', { ...nothingMoved, netMinor: '0', feesMinor: '0', carriedForwardMinor: '700' }))).toMatchObject({ valid: true });
  });

  it.each([
    ['RefundSettled', { ...refundSettled, amountMinor: '25.00' }, 'amountMinor'],
    ['RefundSettled', { ...refundSettled, amountMinor: '0' }, 'amountMinor'],
    ['RefundSettled', { ...refundSettled, feeMinor: '0' }, 'additional properties'],
    ['SettlementBatchClosed', { ...batchClosed, netMinor: '-5' }, 'netMinor'],
    ['SettlementBatchClosed', { ...batchClosed, reason: 'manual' }, 'reason'],
    ['SettlementBatchClosed', { ...batchClosed, batchNo: 0 }, 'batchNo'],
    ['SettlementBatchClosed', { ...batchClosed, currency: 'eur' }, 'currency'],
  ])('%s refuses %j and says where', (type, data, where) => {
    const result = validateEnvelope(envelope(type, data));
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toContain(where);
  });

  it('PaymentSettled v2 (the registered schema) takes a zero fee and a negative net, and no decimals', () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(paymentSettledV2Schema);
    const v2 = {
      paymentId: randomUUID(), merchantId: 'merchant-1', merchantAccountId: 'merchant-1-eur', settlementBatchId: BATCH_ID, currency: 'EUR',
      grossMinor: '20', feeMinor: '31', netMinor: '-11', capturedAt: '2026-11-27T10:00:00Z', settledAt: '2026-11-28T00:00:00Z',
    };
    expect(validate(v2)).toBe(true);
    expect(validate({ ...v2, feeMinor: '0', netMinor: '20' })).toBe(true);
    expect(validate({ ...v2, grossMinor: '0.20' })).toBe(false);
    expect(validateEnvelope({ ...envelope('PaymentSettled', v2), schemaVersion: 2 })).toMatchObject({ valid: true });
    expect(validateEnvelope(envelope('PaymentSettled', v2)).valid).toBe(false);
  });
});

// Proves what a closed batch publishes: one PaymentSettled (v2) per payment and one RefundSettled per
// refund, then SettlementBatchClosed, each valid against its JSON Schema, keyed by merchant, with ids
// derived from the batch so that publishing twice yields the same ids.
import { contractFor, deriveMessageId, paymentSettledV2Schema, validateEnvelope } from '@clearline/contracts';
import { moneyFromMinor } from '@clearline/money';
import { Ajv } from 'ajv';
import {
  decideSettlementBatch, evolveSettlementBatch, initialSettlementBatchState, type SettlementBatchCommand, type SettlementBatchState,
} from './settlement-batch.js';
import { settlementPublications } from './settlement-publications.js';

const BATCH_ID = deriveMessageId('merchant-1:EUR', 'batch-1');
const P1 = deriveMessageId('test', 'payment-1');
const P2 = deriveMessageId('test', 'payment-2');
const R1 = deriveMessageId('test', 'refund-1');
const CLOSED_AT = '2026-11-28T00:00:00Z';

const commands: SettlementBatchCommand[] = [
  {
    type: 'OpenSettlementBatch',
    data: {
      batchId: BATCH_ID, merchantId: 'merchant-1', currency: 'EUR', batchNo: 1, carriedInMinor: 0n, openedAt: '2026-11-27T00:00:00Z',
      feeSchedule: { percentBasisPoints: 290n, fixedMinor: 30n },
      accounts: { merchantAccountId: 'merchant-1-eur', settlementAccountId: 'merchant-1-payout-eur', feeRevenueAccountId: 'fee-revenue-eur' },
    },
  },
  { type: 'AddCapturedPayment', data: { paymentId: P1, amount: moneyFromMinor(10_000n, 'EUR'), capturedAt: '2026-11-27T10:00:00Z' } },
  // A fixed fee larger than a very small payment: its own net is negative, and says so.
  { type: 'AddCapturedPayment', data: { paymentId: P2, amount: moneyFromMinor(20n, 'EUR'), capturedAt: '2026-11-27T10:30:00Z' } },
  { type: 'AddRefund', data: { paymentId: P1, refundId: R1, amount: moneyFromMinor(2_500n, 'EUR'), refundedAt: '2026-11-27T11:00:00Z' } },
  { type: 'CloseSettlementBatch', data: { batchId: BATCH_ID, closedAt: CLOSED_AT, reason: 'schedule' } },
];

function closed() {
  const state = commands.reduce<SettlementBatchState>((current, command) => decideSettlementBatch(command, current).reduce(evolveSettlementBatch, current), initialSettlementBatchState());
  if (state.status !== 'closed') throw new Error('expected a closed batch');
  return state;
}

const metadata = { correlationId: 'corr-1', causationId: 'cause-1', occurredAt: CLOSED_AT, producer: 'payments' };

describe('settlementPublications', () => {
  const publications = settlementPublications(closed());

  it('publishes the lines in the batch order, then the close', () => {
    expect(publications.map((publication) => publication.type)).toEqual(['PaymentSettled', 'PaymentSettled', 'RefundSettled', 'SettlementBatchClosed']);
    expect(publications[0]?.data).toEqual({
      paymentId: P1, merchantId: 'merchant-1', merchantAccountId: 'merchant-1-eur', settlementBatchId: BATCH_ID, currency: 'EUR',
      grossMinor: '10000', feeMinor: '320', netMinor: '9680', capturedAt: '2026-11-27T10:00:00Z', settledAt: CLOSED_AT,
    });
    expect(publications[1]?.data).toMatchObject({ grossMinor: '20', feeMinor: '31', netMinor: '-11' });
  });

  it('RefundSettled and SettlementBatchClosed are valid against their registered contracts and keyed by merchant', () => {
    for (const publication of publications.filter((candidate) => candidate.type !== 'PaymentSettled')) {
      expect(validateEnvelope({ ...publication, metadata })).toMatchObject({ valid: true });
      expect(contractFor(publication.type).partitionKey(publication.data)).toBe('merchant-1');
    }
  });

  it('PaymentSettled data already fits the proposed version 2 schema', () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(paymentSettledV2Schema);
    for (const publication of publications.filter((candidate) => candidate.type === 'PaymentSettled')) {
      expect(publication.schemaVersion).toBe(2);
      expect(validate(publication.data)).toBe(true);
    }
  });

  it('derives message ids from the batch: the same close publishes the same ids, all distinct', () => {
    const ids = publications.map((publication) => publication.id);
    expect(settlementPublications(closed()).map((publication) => publication.id)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(deriveMessageId(BATCH_ID, `PaymentSettled:${P1}`));
  });
});

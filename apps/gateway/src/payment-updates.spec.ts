// Proves what a channel is told about its payments (no I/O): each payments.events type becomes an
// update with the status the event decides (null where it decides none), its amount as a minor-unit
// string with its currency and its Kafka offset as version; a tokenised card on PaymentRequested never
// reaches the update; and the long-poll's `wait` and `after` accept only what docs/api.md says, with
// a 400 problem naming the parameter otherwise.
import { testEnvelope } from '@clearline/testing';
import { ProblemException } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';
import { longPollOf, parseWaitMs, paymentUpdateOf, streamIdOf, type PaymentUpdateEvent } from './payment-updates.js';
import type { ContractEnvelope } from '@clearline/contracts';

const paymentId = randomUUID();
const holdId = randomUUID();
const refundId = randomUUID();
const money = (amountMinor: string) => ({ amountMinor, currency: 'EUR' });
const position = { partition: 2, offset: '1842' };
const updateOf = (envelope: ContractEnvelope) => paymentUpdateOf(envelope as ContractEnvelope<PaymentUpdateEvent>, position);

describe('paymentUpdateOf', () => {
  it.each<[string, ContractEnvelope, Record<string, unknown>]>([
    ['PaymentAuthorizationStarted', testEnvelope('PaymentAuthorizationStarted', { paymentId, holdId, riskScore: 12 }, 't'), { status: 'authorizing', amount: null }],
    ['PaymentInReview', testEnvelope('PaymentInReview', { paymentId, riskScore: 70, reasons: ['velocity'] }, 't'), { status: 'in_review', amount: null }],
    ['PaymentDeclined', testEnvelope('PaymentDeclined', { paymentId, stage: 'funds', reasonCode: 'insufficient_funds' }, 't'), { status: 'declined', declineStage: 'funds', reasonCode: 'insufficient_funds' }],
    ['PaymentAuthorized', testEnvelope('PaymentAuthorized', { paymentId, holdId, amount: money('1250') }, 't'), { status: 'authorized', amount: money('1250') }],
    ['PaymentCaptured', testEnvelope('PaymentCaptured', { paymentId, holdId, amount: money('1000'), authorizedAmount: money('1250') }, 't'), { status: 'captured', amount: money('1000') }],
    ['PaymentVoided', testEnvelope('PaymentVoided', { paymentId, holdId, releasedAmount: money('1250') }, 't'), { status: 'voided', amount: money('1250') }],
    ['PaymentExpired', testEnvelope('PaymentExpired', { paymentId, holdId, reasonCode: 'authorization_expired' }, 't'), { status: 'expired', reasonCode: 'authorization_expired' }],
    ['PaymentFailed', testEnvelope('PaymentFailed', { paymentId, reasonCode: 'ledger_timeout' }, 't'), { status: 'failed', reasonCode: 'ledger_timeout' }],
    ['PaymentRefunded', testEnvelope('PaymentRefunded', { paymentId, refundId, amount: money('200'), refundedTotal: money('500'), transferId: randomUUID() }, 't'),
      { status: null, amount: money('200'), refundedTotal: money('500'), refundId }],
    ['RefundFailed', testEnvelope('RefundFailed', { paymentId, refundId, amount: money('200'), reasonCode: 'insufficient_funds' }, 't'), { status: null, amount: money('200'), reasonCode: 'insufficient_funds' }],
    ['PaymentCommandRejected', testEnvelope('PaymentCommandRejected', { paymentId, commandId: 'c-1', commandType: 'CapturePayment', reasonCode: 'invalid_state', status: 'voided', detail: 'no' }, 't'),
      { status: 'voided', reasonCode: 'invalid_state', commandType: 'CapturePayment', commandId: 'c-1' }],
  ])('%s', (event, envelope, expected) => {
    expect(updateOf(envelope)).toMatchObject({ eventId: envelope.id, paymentId, event, occurredAt: envelope.metadata.occurredAt, version: '1842', ...expected });
  });

  it('tells the requested amount and never a tokenised card', () => {
    const card = { token: 'tok_AAAAAAAAAAAAAAAAAAAAAA', fingerprint: 'f'.repeat(64), last4: '4242', brand: 'visa' as const, expMonth: 12, expYear: 2030 };
    const envelope = testEnvelope('PaymentRequested', {
      paymentId, channel: 'card_acquiring', merchantId: 'm-1', merchantAccountId: 'm-1', payerAccountId: 'p-1', amount: money('990'), method: 'card', card, requestedAt: new Date().toISOString(),
    }, 't');
    const update = updateOf(envelope);
    expect(update).toMatchObject({ status: 'requested', amount: money('990') });
    const text = JSON.stringify(update);
    for (const secret of [card.token, card.fingerprint, card.last4, 'p-1', 'm-1']) expect(text).not.toContain(secret);
  });

  it('names a stream position as <partition>-<offset>', () => {
    expect(streamIdOf(position)).toBe('2-1842');
  });
});

describe('the long-poll query', () => {
  it.each([['5s', 5_000], ['1500ms', 1_500], ['5', 5_000], ['0', 0], ['30s', 30_000], ['30000ms', 30_000]])('wait=%s is %i ms', (text, waitMs) => {
    expect(parseWaitMs(text)).toBe(waitMs);
  });

  it.each(['31s', '30001ms', 'abc', '', '-1', '1.5s', '5m', ' 5s', '1e3'])('refuses wait=%j', (text) => {
    expect(parseWaitMs(text)).toBeUndefined();
  });

  it('is a 400 problem naming wait or after', () => {
    const problemOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error instanceof ProblemException ? { status: error.getStatus(), type: (error.getResponse() as { type: string }).type } : error;
      }
      return undefined;
    };
    expect(problemOf(() => longPollOf('31s', undefined))).toEqual({ status: 400, type: 'urn:clearline:problem:invalid-wait' });
    expect(problemOf(() => longPollOf('5s', '-3'))).toEqual({ status: 400, type: 'urn:clearline:problem:invalid-after' });
    expect(longPollOf('5s', '17')).toEqual({ timeoutMs: 5_000, after: 17n });
    expect(longPollOf(undefined, '17')).toEqual({ timeoutMs: 0, after: 17n });
  });
});

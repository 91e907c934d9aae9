// Proves which events become webhooks: every payment-keyed event on payments.events and
// settlement.events (each carries paymentId in its schema), none of another topic or a merchant's
// batch; that a delivery goes to the owner's subscriptions for that type only; and the body sent.
import { CONTRACTS, Topics } from '@clearline/contracts';
import { testEnvelope } from '@clearline/testing';
import { randomUUID } from 'node:crypto';
import { isWebhookEventType, matchingSubscriptions, paymentIdOfWebhookEvent, WEBHOOK_EVENT_TYPES, webhookPayloadOf } from './webhook-events.js';

describe('webhook event types', () => {
  it('are the events of payments.events and settlement.events that name a payment', () => {
    const paymentEvents = CONTRACTS
      .filter((contract) => contract.kind === 'event' && (contract.topic === Topics.paymentsEvents || contract.topic === Topics.settlementEvents))
      .filter((contract) => (contract.schema as { required?: string[] }).required?.includes('paymentId'))
      .map((contract) => contract.type);
    expect([...WEBHOOK_EVENT_TYPES].sort()).toEqual([...paymentEvents].sort());
    expect(isWebhookEventType('SettlementBatchClosed')).toBe(false);
    expect(isWebhookEventType('HoldPlaced')).toBe(false);
  });

  it("finds an event's payment, and none for an event that is not a webhook's", () => {
    const paymentId = randomUUID();
    expect(paymentIdOfWebhookEvent(testEnvelope('PaymentFailed', { paymentId, reasonCode: 'ledger_timeout' }, 'payments'))).toBe(paymentId);
    expect(paymentIdOfWebhookEvent(testEnvelope('AccountOpened', { accountId: 'a-1' } as never, 'ledger'))).toBeUndefined();
  });

  it('sends id, type, schema version, time, correlation and data', () => {
    const paymentId = randomUUID();
    const envelope = testEnvelope('PaymentFailed', { paymentId, reasonCode: 'ledger_timeout' }, 'payments');
    expect(JSON.parse(webhookPayloadOf(envelope))).toEqual({
      id: envelope.id, type: 'PaymentFailed', schemaVersion: 1, occurredAt: envelope.metadata.occurredAt, correlationId: envelope.metadata.correlationId,
      data: { paymentId, reasonCode: 'ledger_timeout' },
    });
  });
});

describe('matching subscriptions', () => {
  const subscriptions = [
    { subscriptionId: 's1', client: 'e_wallet', eventTypes: ['PaymentCaptured', 'PaymentDeclined'] },
    { subscriptionId: 's2', client: 'e_wallet', eventTypes: ['PaymentRefunded'] },
    { subscriptionId: 's3', client: 'mobile', eventTypes: ['PaymentCaptured'] },
  ];

  it("takes the owner's subscriptions to the event's type only", () => {
    expect(matchingSubscriptions(subscriptions, 'e_wallet', 'PaymentCaptured').map((subscription) => subscription.subscriptionId)).toEqual(['s1']);
    expect(matchingSubscriptions(subscriptions, 'mobile', 'PaymentCaptured').map((subscription) => subscription.subscriptionId)).toEqual(['s3']);
    expect(matchingSubscriptions(subscriptions, 'mobile', 'PaymentRefunded')).toEqual([]);
    expect(matchingSubscriptions(subscriptions, 'partner_bank', 'PaymentCaptured')).toEqual([]);
  });
});

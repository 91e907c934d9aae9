// Proves that every contract is well formed and that envelope validation accepts valid messages
// and refuses malformed ones with a reason that names the problem.
import { randomUUID } from 'node:crypto';
import { ALL_TOPICS, canonicalJson, CONTRACTS, assertValidEnvelope, contractFor, ContractViolationError, deadLetterTopicOf, deriveMessageId, isUuid, Topics, UnknownMessageTypeError, validateEnvelope } from './index.js';

function envelope(type: string, data: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    metadata: { correlationId: 'corr-1', causationId: 'cause-1', occurredAt: '2026-11-26T10:00:00.000Z', producer: 'test' },
    ...overrides,
  };
}

const paymentRequest = {
  paymentId: randomUUID(),
  channel: 'e_wallet',
  merchantId: 'acme',
  merchantAccountId: 'merchant-acme',
  payerAccountId: 'wallet-alice',
  amount: { amountMinor: '1250', currency: 'EUR' },
  method: 'wallet',
};

describe('the contract registry', () => {
  it('names each message type once, and every topic has a dead-letter twin', () => {
    const types = CONTRACTS.map((contract) => contract.type);
    expect(new Set(types).size).toBe(types.length);
    for (const topic of Object.values(Topics)) expect(ALL_TOPICS).toEqual(expect.arrayContaining([topic, deadLetterTopicOf(topic)]));
    expect(deadLetterTopicOf('payments.commands')).toBe('payments.commands.dlq');
  });

  it('commands are imperative and go to command topics; events are past tense and go to event topics', () => {
    for (const contract of CONTRACTS) {
      if (contract.kind === 'command') expect(contract.topic).toMatch(/\.commands$/);
      else expect(contract.topic).toMatch(/\.events$/);
    }
  });

  it('refuses an unknown type by name', () => {
    expect(() => contractFor('PayEveryone')).toThrow(UnknownMessageTypeError);
    expect(() => contractFor('PayEveryone')).toThrow("unknown message type 'PayEveryone'");
  });

  it('keys payment messages by payment id', () => {
    expect(contractFor('RequestPayment').partitionKey(paymentRequest as never)).toBe(paymentRequest.paymentId);
  });
});

describe('validateEnvelope', () => {
  it('accepts a valid RequestPayment', () => {
    expect(validateEnvelope(envelope('RequestPayment', paymentRequest))).toMatchObject({ valid: true });
  });

  it.each([
    ['a decimal amount', { amount: { amountMinor: '12.50', currency: 'EUR' } }, 'amountMinor'],
    ['a numeric amount', { amount: { amountMinor: 1250, currency: 'EUR' } }, 'amountMinor'],
    ['a zero amount', { amount: { amountMinor: '0', currency: 'EUR' } }, 'amountMinor'],
    ['a leading zero', { amount: { amountMinor: '01250', currency: 'EUR' } }, 'amountMinor'],
    ['a lower-case currency', { amount: { amountMinor: '1250', currency: 'eur' } }, 'currency'],
    ['an unknown field', { cardNumber: '4111111111111111' }, 'additional properties'],
    ['a non-uuid payment id', { paymentId: 'p-1' }, 'paymentId'],
    ['an unknown method', { method: 'cash' }, 'method'],
  ])('refuses %s and says where', (_label, override, where) => {
    const result = validateEnvelope(envelope('RequestPayment', { ...paymentRequest, ...override }));
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toContain(where);
  });

  it.each([
    ['not an object', 'hello', 'not a JSON object'],
    ['an array', [], 'not a JSON object'],
    ['no id', envelope('RequestPayment', paymentRequest, { id: 'x' }), 'id must be a uuid'],
    ['no correlation id', envelope('RequestPayment', paymentRequest, { metadata: { causationId: 'c', occurredAt: 't', producer: 'p' } }), 'metadata.correlationId'],
    ['an unknown type', envelope('PayEveryone', {}), "unknown message type 'PayEveryone'"],
    ['a future schema version', envelope('RequestPayment', paymentRequest, { schemaVersion: 2 }), 'schema version 2 is not supported'],
  ])('refuses an envelope with %s', (_label, candidate, reason) => {
    const result = validateEnvelope(candidate);
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toContain(reason);
  });

  it.each([
    ['RequestPayment', { ...paymentRequest, amount: { amountMinor: '1250', currency: 'XYZ' } }, "data/amount/currency 'XYZ' is not an ISO 4217 currency code"],
    ['RequestPayment', { ...paymentRequest, amount: { amountMinor: '1250', currency: 'XXX' } }, "data/amount/currency 'XXX'"],
    ['OpenAccount', { accountId: 'wallet-x', ownerId: 'x', kind: 'customer_wallet', currency: 'EUX' }, "data/currency 'EUX'"],
    ['CloseSettlementBatch', { commandId: 'c-1', merchantId: 'acme', currency: 'ABC' }, "data/currency 'ABC'"],
    ['TransferRejected', {
      transferId: randomUUID(), debitAccountId: 'a', creditAccountId: 'b', amount: { amountMinor: '1', currency: 'EUR' }, reasonCode: 'currency_mismatch',
      balancesAfter: { a: { currency: 'QQQ', postedMinor: '0', pendingMinor: '0', availableMinor: '0' } },
    }, "data/balancesAfter/a/currency 'QQQ'"],
  ])('refuses a %s naming a currency that does not exist, and says where (the schema states only its form)', (type, data, reason) => {
    const result = validateEnvelope(envelope(type, data));
    expect(result).toEqual({ valid: false, reason: expect.stringContaining(reason) });
  });

  it('accepts every ISO 4217 code it knows, with any exponent, and a metadata key named currency that is no currency', () => {
    for (const currency of ['EUR', 'JPY', 'BHD', 'USD']) {
      expect(validateEnvelope(envelope('RequestPayment', { ...paymentRequest, amount: { amountMinor: '1250', currency } })).valid).toBe(true);
    }
    const account = { accountId: 'wallet-x', ownerId: 'x', kind: 'customer_wallet', currency: 'EUR', metadata: { currency: 'loyalty points' } };
    expect(validateEnvelope(envelope('OpenAccount', account)).valid).toBe(true);
  });

  it('assertValidEnvelope throws a ContractViolationError naming the type', () => {
    expect(() => assertValidEnvelope(envelope('RequestPayment', { ...paymentRequest, method: 'cash' }))).toThrow(ContractViolationError);
    expect(() => assertValidEnvelope(envelope('RequestPayment', { ...paymentRequest, method: 'cash' }))).toThrow(/RequestPayment/);
  });
});

describe('deriveMessageId', () => {
  it('is a stable uuid per parent and name, and differs across names', () => {
    const parent = randomUUID();
    expect(deriveMessageId(parent, 'a')).toBe(deriveMessageId(parent, 'a'));
    expect(deriveMessageId(parent, 'a')).not.toBe(deriveMessageId(parent, 'b'));
    expect(isUuid(deriveMessageId(parent, 'a'))).toBe(true);
  });
});

describe('canonicalJson', () => {
  it('ignores key order and undefined fields, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 'x' }, e: undefined })).toBe(canonicalJson({ a: { c: 'x', d: [2, 1] }, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });
});

describe('the payment lifecycle contracts (issue 5)', () => {
  const paymentId = randomUUID();

  it.each([
    ['RequestPayment as a sale, as before (no capture mode)', 'RequestPayment', paymentRequest],
    ['RequestPayment to capture later, with its own authorization lifetime', 'RequestPayment', { ...paymentRequest, captureMode: 'manual', authorizationTtlMs: 60_000 }],
    ['CapturePayment of the whole authorization', 'CapturePayment', { paymentId, commandId: 'capture-1' }],
    ['CapturePayment of a part', 'CapturePayment', { paymentId, commandId: 'capture-1', amount: { amountMinor: '500', currency: 'EUR' } }],
    ['VoidPayment', 'VoidPayment', { paymentId, commandId: randomUUID() }],
    ['RefundPayment', 'RefundPayment', { paymentId, commandId: 'refund-1', refundId: randomUUID(), amount: { amountMinor: '500', currency: 'EUR' } }],
    ['ReviewPayment', 'ReviewPayment', { paymentId, commandId: 'review-1', decision: 'approve', reviewerId: 'analyst-7' }],
    ['FirePaymentTimeout of a refund', 'FirePaymentTimeout', { paymentId, wait: 'ledger', deadlineId: `ledger:refund:${randomUUID()}`, attempt: 2, dueAt: '2026-11-26T10:00:00.000Z' }],
    ['PaymentDeclined by an analyst', 'PaymentDeclined', { paymentId, stage: 'review', reasonCode: 'review_declined' }],
    ['PaymentCaptured of a part', 'PaymentCaptured', { paymentId, holdId: randomUUID(), amount: { amountMinor: '500', currency: 'EUR' }, authorizedAmount: { amountMinor: '900', currency: 'EUR' } }],
    ['PaymentCaptured as before (no authorized amount)', 'PaymentCaptured', { paymentId, holdId: randomUUID(), amount: { amountMinor: '500', currency: 'EUR' } }],
    ['PaymentVoided', 'PaymentVoided', { paymentId, holdId: randomUUID(), releasedAmount: { amountMinor: '900', currency: 'EUR' } }],
    ['PaymentExpired', 'PaymentExpired', { paymentId, holdId: randomUUID(), reasonCode: 'authorization_expired' }],
    ['PaymentFailed', 'PaymentFailed', { paymentId, reasonCode: 'ledger_timeout' }],
    ['PaymentRefunded', 'PaymentRefunded', {
      paymentId, refundId: randomUUID(), amount: { amountMinor: '500', currency: 'EUR' }, refundedTotal: { amountMinor: '800', currency: 'EUR' }, transferId: randomUUID(),
    }],
    ['RefundFailed', 'RefundFailed', { paymentId, refundId: randomUUID(), amount: { amountMinor: '500', currency: 'EUR' }, reasonCode: 'insufficient_funds' }],
    ['PaymentCommandRejected', 'PaymentCommandRejected', {
      paymentId, commandId: 'capture-1', commandType: 'CapturePayment', reasonCode: 'invalid_state', status: 'voided', detail: "cannot capture a payment in status 'voided'",
    }],
  ])('accepts %s', (_label, type, data) => {
    expect(validateEnvelope(envelope(type, data))).toMatchObject({ valid: true });
  });

  it.each([
    ['an unknown capture mode', 'RequestPayment', { ...paymentRequest, captureMode: 'later' }, 'captureMode'],
    ['an authorization lifetime under a second', 'RequestPayment', { ...paymentRequest, authorizationTtlMs: 999 }, 'authorizationTtlMs'],
    ['an authorization lifetime over 30 days', 'RequestPayment', { ...paymentRequest, authorizationTtlMs: 30 * 24 * 3_600_000 + 1 }, 'authorizationTtlMs'],
    ['a capture without a command id', 'CapturePayment', { paymentId }, 'commandId'],
    ['a zero capture', 'CapturePayment', { paymentId, commandId: 'c', amount: { amountMinor: '0', currency: 'EUR' } }, 'amountMinor'],
    ['a refund without a refund id', 'RefundPayment', { paymentId, commandId: 'r', amount: { amountMinor: '1', currency: 'EUR' } }, 'refundId'],
    ['a refund in decimals', 'RefundPayment', { paymentId, commandId: 'r', refundId: randomUUID(), amount: { amountMinor: '1.5', currency: 'EUR' } }, 'amountMinor'],
    ['a review that is neither approve nor decline', 'ReviewPayment', { paymentId, commandId: 'r', decision: 'maybe' }, 'decision'],
    ['a timeout of an unknown wait', 'FirePaymentTimeout', { paymentId, wait: 'coffee', deadlineId: 'risk', attempt: 1, dueAt: '2026-11-26T10:00:00.000Z' }, 'wait'],
  ])('refuses %s and says where', (_label, type, data, where) => {
    const result = validateEnvelope(envelope(type, data));
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toContain(where);
  });

  it('keys every lifecycle command and event by payment id, so one payment stays in order', () => {
    for (const type of ['CapturePayment', 'VoidPayment', 'RefundPayment', 'ReviewPayment', 'FirePaymentTimeout', 'PaymentRefunded', 'PaymentCommandRejected']) {
      expect(contractFor(type).partitionKey({ paymentId } as never)).toBe(paymentId);
    }
  });

  it('keeps schema version 1: the new fields are optional, so every earlier message is still valid', () => {
    for (const type of ['RequestPayment', 'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentDeclined', 'PaymentCaptured']) {
      expect(contractFor(type).schemaVersion).toBe(1);
    }
  });
});

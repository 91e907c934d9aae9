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

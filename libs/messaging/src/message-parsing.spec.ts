// Proves what a consumer accepts from a record value: a contract-valid envelope; and that anything
// else (no value, too large, not JSON, unknown type, schema violation) is a reason, never a throw.
import { randomUUID } from 'node:crypto';
import { parseMessage } from './message-parsing.js';
import { riskAssessed } from './test-envelopes.js';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseMessage', () => {
  it('accepts a contract-valid envelope', () => {
    const envelope = riskAssessed();
    expect(parseMessage(bytes(envelope))).toEqual({ accepted: true, envelope });
  });

  it.each([
    ['no value', null, /no value/],
    ['an empty value', Buffer.alloc(0), /no value/],
    ['a value that is not JSON', Buffer.from('{not json'), /not JSON/],
    ['JSON that is not an object', bytes([1, 2]), /not a JSON object/],
    ['an unknown type', bytes({ ...riskAssessed(), type: 'NoSuchThing' }), /unknown message type 'NoSuchThing'/],
    ['data that violates the schema', bytes({ ...riskAssessed(), data: { paymentId: randomUUID(), score: 500 } }), /RiskAssessed: data/],
    ['an unsupported schema version', bytes({ ...riskAssessed(), schemaVersion: 9 }), /schema version 9 is not supported/],
  ])('rejects %s with a reason', (_name, value, reason) => {
    const parsed = parseMessage(value);
    expect(parsed.accepted).toBe(false);
    if (!parsed.accepted) expect(parsed.reason).toMatch(reason);
  });

  it('rejects a value above the size bound without parsing it', () => {
    const parsed = parseMessage(bytes(riskAssessed()), 10);
    expect(parsed).toEqual({ accepted: false, reason: expect.stringMatching(/above the 10 bytes accepted/) });
  });
});

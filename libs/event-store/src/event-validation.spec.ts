// Proves that appends are checked before any I/O: stream ids carry a category, event ids are
// UUIDs, types are single words, and data is JSON that survives jsonb unchanged (no bigint, NaN,
// Date, cycles, NUL), each refused with an error that says where the bad value is.
import { EventStoreInputError } from './event-store.errors.js';
import { assertJsonValue, assertValidStreamId, categoryOf, validateNewEvent } from './event-validation.js';

const id = '0b6f3d6e-3f2a-4a57-9c39-2a7d0e1f5b11';

describe('stream ids', () => {
  it('takes the category from the part before the first dash', () => {
    expect(categoryOf('payment-123')).toBe('payment');
    expect(categoryOf('account-merchant-42')).toBe('account');
    expect(categoryOf('ledgerBatch_2-x')).toBe('ledgerBatch_2');
  });

  it.each(['', 'payment', '-123', 'payment-', 'pay ment-1', 'payment-1 2', '1payment-2', 'payment-\n', `payment-${'x'.repeat(300)}`])(
    'refuses %j',
    (streamId) => {
      expect(() => assertValidStreamId(streamId)).toThrow(EventStoreInputError);
    },
  );

  it('refuses a non-string', () => {
    expect(() => assertValidStreamId(42)).toThrow(/stream id 42 is invalid/);
  });
});

describe('validateNewEvent', () => {
  it('normalises the id to lower case and defaults schemaVersion and metadata', () => {
    const validated = validateNewEvent({ id: id.toUpperCase(), type: 'PaymentRequested', data: { amount: '1050' } }, 'payment-1', 0);
    expect(validated).toEqual({ id, type: 'PaymentRequested', schemaVersion: 1, dataJson: '{"amount":"1050"}', metadataJson: '{}' });
  });

  it('refuses an id that is not a UUID', () => {
    expect(() => validateNewEvent({ id: 'not-a-uuid', type: 'T', data: {} }, 'payment-1', 3)).toThrow(/event 3 of stream 'payment-1': id "not-a-uuid" is not a UUID/);
  });

  it.each([[''], ['Payment Requested'], [42]])('refuses type %j', (type) => {
    expect(() => validateNewEvent({ id, type: type as string, data: {} }, 'payment-1', 0)).toThrow(/type .* must be a non-empty string/);
  });

  it('refuses a schemaVersion below 1 or fractional', () => {
    expect(() => validateNewEvent({ id, type: 'T', data: {}, schemaVersion: 0 }, 'payment-1', 0)).toThrow(/schemaVersion/);
    expect(() => validateNewEvent({ id, type: 'T', data: {}, schemaVersion: 1.5 }, 'payment-1', 0)).toThrow(/schemaVersion/);
  });

  it('refuses missing data and non-object metadata', () => {
    expect(() => validateNewEvent({ id, type: 'T', data: undefined }, 'payment-1', 0)).toThrow(/data is missing/);
    expect(() => validateNewEvent({ id, type: 'T', data: {}, metadata: [] as unknown as Record<string, unknown> }, 'payment-1', 0)).toThrow(/metadata must be an object/);
  });
});

describe('assertJsonValue', () => {
  it('accepts JSON and drops undefined object properties the way JSON.stringify does', () => {
    expect(() => assertJsonValue({ a: [1, 'two', null, true, { b: 2.5 }], c: undefined, d: 'é ✓ 日本' }, 'data')).not.toThrow();
  });

  it('refuses a bigint and says to send money as a string of minor units', () => {
    expect(() => assertJsonValue({ amount: { minor: 1050n } }, 'event 0 data')).toThrow(/event 0 data: \$\.amount\.minor is a bigint; serialise it as a string/);
  });

  it.each([
    ['NaN', { x: Number.NaN }, /\$\.x is NaN/],
    ['Infinity', [Number.POSITIVE_INFINITY], /\$\[0\] is Infinity/],
    ['a Date', { at: new Date(0) }, /\$\.at is a Date, not a plain object/],
    ['a Map', { m: new Map() }, /\$\.m is a Map/],
    ['a function', { f: () => 1 }, /\$\.f is a function/],
    ['undefined in an array', [1, undefined], /\$\[1\] is undefined/],
    ['a NUL character', { s: 'a\u0000b' }, /NUL character/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => assertJsonValue(value, 'data')).toThrow(message);
  });

  it('refuses a circular structure instead of overflowing the stack', () => {
    const node: Record<string, unknown> = { name: 'loop' };
    node['self'] = node;
    expect(() => assertJsonValue(node, 'data')).toThrow(/\$\.self refers back to itself/);
  });

  it('accepts the same object twice side by side (a diamond is not a cycle)', () => {
    const shared = { currency: 'EUR' };
    expect(() => assertJsonValue({ debit: shared, credit: shared }, 'data')).not.toThrow();
  });

  it('refuses nesting deeper than the bound', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100; level += 1) deep = [deep];
    expect(() => assertJsonValue(deep, 'data')).toThrow(/nested deeper than 64/);
  });
});

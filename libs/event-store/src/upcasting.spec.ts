// Proves upcasting on read: an upcaster touches only its type and schema version, and a chain
// brings an old event through every version in one pass.
import type { RecordedEvent } from './event-store.types.js';
import { applyUpcasters, defineUpcaster } from './upcasting.js';

function recorded(type: string, schemaVersion: number, data: unknown): RecordedEvent {
  return {
    id: '00000000-0000-4000-8000-000000000001', type, data, metadata: {}, schemaVersion, streamId: 'payment-1', streamVersion: 0n,
    category: 'payment', globalPosition: 1n, transactionId: 1n, recordedAt: new Date(0),
  };
}

const amountToMinorUnits = defineUpcaster<{ amount: number }, { amountMinor: string; currency: string }>('PaymentRequested', 1, (data) => ({
  amountMinor: String(Math.round(data.amount * 100)),
  currency: 'EUR',
}));
const currencyToObject = defineUpcaster<{ amountMinor: string; currency: string }, { amount: { minor: string; currency: string } }>('PaymentRequested', 2, (data) => ({
  amount: { minor: data.amountMinor, currency: data.currency },
}));

describe('upcasting', () => {
  it('brings a v1 event to v3 through the chain', () => {
    const upcast = applyUpcasters(recorded('PaymentRequested', 1, { amount: 10.5 }), [amountToMinorUnits, currencyToObject]);
    expect(upcast.schemaVersion).toBe(3);
    expect(upcast.data).toEqual({ amount: { minor: '1050', currency: 'EUR' } });
  });

  it('leaves other types and current versions untouched (same object)', () => {
    const other = recorded('PaymentCaptured', 1, { amount: 1 });
    const current = recorded('PaymentRequested', 3, { amount: { minor: '1', currency: 'EUR' } });
    expect(applyUpcasters(other, [amountToMinorUnits, currencyToObject])).toBe(other);
    expect(applyUpcasters(current, [amountToMinorUnits, currencyToObject])).toBe(current);
  });

  it('refuses a schema version below 1', () => {
    expect(() => defineUpcaster('X', 0, (data) => data)).toThrow(RangeError);
  });
});

// Proves the account state survives a round trip through its snapshot JSON exactly (bigints beyond
// 2^53, every lifecycle status, flags, limits, metadata, holds with and without expiry, monitors),
// so an account loaded from an 'account-v2' snapshot decides as one replayed in full.
import fc from 'fast-check';
import { accountStateFromJson, accountStateToJson, initialAccountState, type AccountState, type OpenHold } from './account.js';

const minor = fc.bigInt({ min: 0n, max: 2n ** 80n });
const hold: fc.Arbitrary<OpenHold> = fc.record(
  { amountMinor: fc.bigInt({ min: 1n, max: 2n ** 70n }), expiresAt: fc.constantFrom('2026-11-26T10:00:00.000Z', '2030-01-01T00:00:00Z') },
  { requiredKeys: ['amountMinor'] },
);
const monitor = fc.record({
  balance: fc.constantFrom('posted' as const, 'available' as const),
  direction: fc.constantFrom('above' as const, 'below' as const),
  thresholdMinor: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
});

describe('account snapshot JSON', () => {
  it('round-trips an unopened account', () => {
    expect(accountStateFromJson(accountStateToJson(initialAccountState()))).toEqual(initialAccountState());
  });

  it('round-trips any opened account exactly, through JSON text', () => {
    fc.assert(fc.property(
      fc.constantFrom('open' as const, 'frozen' as const, 'closed' as const),
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
      fc.array(fc.tuple(fc.uuid(), hold), { maxLength: 5 }),
      fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), monitor), { maxLength: 4 }),
      fc.boolean(), minor, minor,
      fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
      (status, postedMinor, holdList, monitorList, debitsMustNotExceedCredits, overdraftLimitMinor, creditLimitMinor, metadata) => {
        const holds = new Map(holdList);
        const state: AccountState = {
          status, accountId: 'wallet-1', ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR',
          debitsMustNotExceedCredits, creditsMustNotExceedDebits: !debitsMustNotExceedCredits, overdraftLimitMinor, creditLimitMinor, metadata,
          postedMinor, pendingMinor: [...holds.values()].reduce((sum, open) => sum + open.amountMinor, 0n), holds, monitors: new Map(monitorList),
        };
        const restored = accountStateFromJson(JSON.parse(JSON.stringify(accountStateToJson(state))));
        expect(restored).toEqual(state);
      },
    ));
  });
});

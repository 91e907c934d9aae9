// Proves the account state survives a round trip through its snapshot JSON exactly, bigints beyond
// 2^53 and open holds included, so an account loaded from a snapshot decides as one replayed in full.
import fc from 'fast-check';
import { accountStateFromJson, accountStateToJson, initialAccountState, type AccountState } from './account.js';

describe('account snapshot JSON', () => {
  it('round-trips an unopened account', () => {
    expect(accountStateFromJson(accountStateToJson(initialAccountState()))).toEqual(initialAccountState());
  });

  it('round-trips any open account exactly, through JSON text', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
      fc.array(fc.tuple(fc.uuid(), fc.bigInt({ min: 1n, max: 2n ** 70n })), { maxLength: 5 }),
      fc.boolean(),
      (postedMinor, holdList, allowNegativeBalance) => {
        const holds = new Map(holdList);
        const state: AccountState = {
          status: 'open', accountId: 'wallet-1', ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR', allowNegativeBalance,
          postedMinor, pendingMinor: [...holds.values()].reduce((sum, amount) => sum + amount, 0n), holds,
        };
        const restored = accountStateFromJson(JSON.parse(JSON.stringify(accountStateToJson(state))));
        expect(restored).toEqual(state);
      },
    ));
  });
});

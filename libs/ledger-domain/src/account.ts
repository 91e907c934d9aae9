import type { AccountKind, OpenAccountData, WireBalances } from '@clearline/contracts';

/**
 * One ledger account as a decider's state. Balances are bigint minor units:
 * posted = credits - debits that are final; pending = the sum of open holds;
 * available = posted - pending, the amount a new debit or hold may use.
 */
export type AccountState =
  | { status: 'unopened' }
  | {
      status: 'open';
      accountId: string;
      ownerId: string;
      kind: AccountKind;
      currency: string;
      allowNegativeBalance: boolean;
      postedMinor: bigint;
      pendingMinor: bigint;
      holds: ReadonlyMap<string, bigint>;
    };

export type OpenAccountState = Extract<AccountState, { status: 'open' }>;

/** Events stored in `account-<id>` streams. Amounts are minor units as strings (JSON has no bigint). */
export type AccountEvent =
  | { type: 'AccountOpened'; data: OpenAccountData }
  | { type: 'AccountDebited'; data: { transferId: string; amountMinor: string } }
  | { type: 'AccountCredited'; data: { transferId: string; amountMinor: string } }
  | { type: 'AccountFundsHeld'; data: { holdId: string; amountMinor: string } }
  | { type: 'AccountHoldCaptured'; data: { holdId: string; amountMinor: string } };

export const ACCOUNT_EVENT_TYPES: ReadonlySet<string> = new Set<AccountEvent['type']>([
  'AccountOpened', 'AccountDebited', 'AccountCredited', 'AccountFundsHeld', 'AccountHoldCaptured',
]);

export function initialAccountState(): AccountState {
  return { status: 'unopened' };
}

export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    return { status: 'open', ...event.data, postedMinor: 0n, pendingMinor: 0n, holds: new Map() };
  }
  // Events other than AccountOpened only ever follow it in a stream; evolve never throws.
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'AccountDebited':
      return { ...state, postedMinor: state.postedMinor - BigInt(event.data.amountMinor) };
    case 'AccountCredited':
      return { ...state, postedMinor: state.postedMinor + BigInt(event.data.amountMinor) };
    case 'AccountFundsHeld': {
      const holds = new Map(state.holds);
      holds.set(event.data.holdId, BigInt(event.data.amountMinor));
      return { ...state, pendingMinor: state.pendingMinor + BigInt(event.data.amountMinor), holds };
    }
    case 'AccountHoldCaptured': {
      const holds = new Map(state.holds);
      const held = holds.get(event.data.holdId) ?? 0n;
      holds.delete(event.data.holdId);
      return {
        ...state,
        pendingMinor: state.pendingMinor - held,
        postedMinor: state.postedMinor - BigInt(event.data.amountMinor),
        holds,
      };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function availableMinor(account: OpenAccountState): bigint {
  return account.postedMinor - account.pendingMinor;
}

export function balancesOf(account: OpenAccountState): WireBalances {
  return {
    currency: account.currency,
    postedMinor: account.postedMinor.toString(),
    pendingMinor: account.pendingMinor.toString(),
    availableMinor: availableMinor(account).toString(),
  };
}

/** Can the account give `amountMinor` away now (as a debit or a hold) without breaking its limit? */
export function canGive(account: OpenAccountState, amountMinor: bigint): boolean {
  return account.allowNegativeBalance || availableMinor(account) >= amountMinor;
}

/** The account state as JSON (bigints as strings, holds as pairs), for snapshots. */
export interface AccountStateJson {
  status: AccountState['status'];
  account?: Omit<OpenAccountState, 'status' | 'postedMinor' | 'pendingMinor' | 'holds'> & { postedMinor: string; pendingMinor: string; holds: [string, string][] };
}

export function accountStateToJson(state: AccountState): AccountStateJson {
  if (state.status !== 'open') return { status: state.status };
  const { status, postedMinor, pendingMinor, holds, ...terms } = state;
  return {
    status,
    account: { ...terms, postedMinor: postedMinor.toString(), pendingMinor: pendingMinor.toString(), holds: [...holds].map(([holdId, amount]) => [holdId, amount.toString()]) },
  };
}

export function accountStateFromJson(json: AccountStateJson): AccountState {
  if (json.status !== 'open' || json.account === undefined) return { status: 'unopened' };
  const { postedMinor, pendingMinor, holds, ...terms } = json.account;
  return {
    status: 'open',
    ...terms,
    postedMinor: BigInt(postedMinor),
    pendingMinor: BigInt(pendingMinor),
    holds: new Map(holds.map(([holdId, amount]) => [holdId, BigInt(amount)])),
  };
}

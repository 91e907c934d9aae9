import {
  MAX_MINOR_UNITS,
  type AccountKind, type AccountModifiedData, type AccountReferenceData, type BalanceThresholdCrossedData, type MonitoredBalance,
  type OpenAccountData, type RegisterBalanceMonitorData, type ThresholdDirection, type WireBalances,
} from '@clearline/contracts';

/**
 * What an account promises about its balance, fixed at opening except limits and metadata.
 * The flags are TigerBeetle's: `debitsMustNotExceedCredits` for accounts that hold customers' money
 * (wallets, merchants), `creditsMustNotExceedDebits` for accounts that mirror money outside the
 * platform on the other side (card funding); neither for accounts that may go either way (suspense, FX).
 */
export interface AccountTerms {
  accountId: string;
  ownerId: string;
  kind: AccountKind;
  currency: string;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  overdraftLimitMinor: bigint;
  creditLimitMinor: bigint;
  metadata: Readonly<Record<string, string>>;
}

/** An open hold as the account sees it: what is still reserved, and until when. */
export interface OpenHold {
  amountMinor: bigint;
  expiresAt?: string;
}

export interface BalanceMonitor {
  balance: MonitoredBalance;
  direction: ThresholdDirection;
  thresholdMinor: bigint;
}

/**
 * One ledger account as a decider's state. Balances are bigint minor units:
 * posted = credits - debits that are final; pending = the sum of open holds;
 * available = posted - pending, the amount a new debit or hold may use.
 */
export interface ExistingAccountState extends AccountTerms {
  status: 'open' | 'frozen' | 'closed';
  postedMinor: bigint;
  pendingMinor: bigint;
  holds: ReadonlyMap<string, OpenHold>;
  monitors: ReadonlyMap<string, BalanceMonitor>;
}

export type AccountState = { status: 'unopened' } | ExistingAccountState;

type MovedAmount = { amountMinor: string };

/**
 * Events stored in `account-<id>` streams. Amounts are minor units as strings (JSON has no bigint).
 * AccountOpened holds the terms written out in full (see `openedAccountData`); events written before
 * the flags existed carry only `allowNegativeBalance` and are read with the same rules.
 */
export type AccountEvent =
  | { type: 'AccountOpened'; data: OpenAccountData }
  | { type: 'AccountModified'; data: AccountModifiedData }
  | { type: 'AccountFrozen'; data: AccountReferenceData }
  | { type: 'AccountUnfrozen'; data: AccountReferenceData }
  | { type: 'AccountClosed'; data: AccountReferenceData }
  | { type: 'AccountDebited'; data: { transferId: string } & MovedAmount }
  | { type: 'AccountCredited'; data: { transferId: string } & MovedAmount }
  | { type: 'AccountFundsHeld'; data: { holdId: string; expiresAt?: string } & MovedAmount }
  /** Posts `amountMinor` of the hold: posted and pending both fall by it. */
  | { type: 'AccountHoldCaptured'; data: { holdId: string } & MovedAmount }
  /** Gives `amountMinor` of the hold back to available: pending falls by it (void, expiry, rest of a partial capture). */
  | { type: 'AccountHoldReleased'; data: { holdId: string } & MovedAmount }
  | { type: 'BalanceMonitorRegistered'; data: RegisterBalanceMonitorData }
  | { type: 'BalanceThresholdCrossed'; data: BalanceThresholdCrossedData };

export const ACCOUNT_EVENT_TYPES: ReadonlySet<string> = new Set<AccountEvent['type']>([
  'AccountOpened', 'AccountModified', 'AccountFrozen', 'AccountUnfrozen', 'AccountClosed', 'AccountDebited', 'AccountCredited',
  'AccountFundsHeld', 'AccountHoldCaptured', 'AccountHoldReleased', 'BalanceMonitorRegistered', 'BalanceThresholdCrossed',
]);

export function initialAccountState(): AccountState {
  return { status: 'unopened' };
}

/**
 * The terms an OpenAccount asks for. Never throws, so evolve can use it on stored events; what
 * deciding an OpenAccount refuses (contradicting flags) never reaches a stream. Without any flag the
 * account may not overdraw: the safe default, and what `allowNegativeBalance: false` always meant.
 */
export function accountTermsOf(data: OpenAccountData): AccountTerms {
  const creditsMustNotExceedDebits = data.creditsMustNotExceedDebits ?? false;
  const debitsMustNotExceedCredits = data.debitsMustNotExceedCredits
    ?? (creditsMustNotExceedDebits ? false : !(data.allowNegativeBalance ?? false));
  return {
    accountId: data.accountId,
    ownerId: data.ownerId,
    kind: data.kind,
    currency: data.currency,
    debitsMustNotExceedCredits,
    creditsMustNotExceedDebits,
    overdraftLimitMinor: BigInt(data.overdraftLimitMinor ?? '0'),
    creditLimitMinor: BigInt(data.creditLimitMinor ?? '0'),
    metadata: { ...(data.metadata ?? {}) },
  };
}

/** The terms written out in full, as AccountOpened stores them: no reader has to know the defaults. */
export function openedAccountData(terms: AccountTerms): OpenAccountData {
  return {
    accountId: terms.accountId,
    ownerId: terms.ownerId,
    kind: terms.kind,
    currency: terms.currency,
    debitsMustNotExceedCredits: terms.debitsMustNotExceedCredits,
    creditsMustNotExceedDebits: terms.creditsMustNotExceedDebits,
    overdraftLimitMinor: terms.overdraftLimitMinor.toString(),
    creditLimitMinor: terms.creditLimitMinor.toString(),
    metadata: { ...terms.metadata },
  };
}

export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  if (event.type === 'AccountOpened') {
    return { status: 'open', ...accountTermsOf(event.data), postedMinor: 0n, pendingMinor: 0n, holds: new Map(), monitors: new Map() };
  }
  // Events other than AccountOpened only ever follow it in a stream; evolve never throws.
  if (state.status === 'unopened') return state;
  switch (event.type) {
    case 'AccountModified':
      return {
        ...state,
        overdraftLimitMinor: BigInt(event.data.overdraftLimitMinor),
        creditLimitMinor: BigInt(event.data.creditLimitMinor),
        metadata: { ...event.data.metadata },
      };
    case 'AccountFrozen':
      return state.status === 'open' ? { ...state, status: 'frozen' } : state;
    case 'AccountUnfrozen':
      return state.status === 'frozen' ? { ...state, status: 'open' } : state;
    case 'AccountClosed':
      return { ...state, status: 'closed' };
    case 'AccountDebited':
      return { ...state, postedMinor: state.postedMinor - BigInt(event.data.amountMinor) };
    case 'AccountCredited':
      return { ...state, postedMinor: state.postedMinor + BigInt(event.data.amountMinor) };
    case 'AccountFundsHeld': {
      const holds = new Map(state.holds);
      const amountMinor = BigInt(event.data.amountMinor);
      holds.set(event.data.holdId, event.data.expiresAt === undefined ? { amountMinor } : { amountMinor, expiresAt: event.data.expiresAt });
      return { ...state, pendingMinor: state.pendingMinor + amountMinor, holds };
    }
    case 'AccountHoldCaptured': {
      const amountMinor = BigInt(event.data.amountMinor);
      const { holds, releasedMinor } = takeFromHold(state.holds, event.data.holdId, amountMinor);
      return { ...state, postedMinor: state.postedMinor - amountMinor, pendingMinor: state.pendingMinor - releasedMinor, holds };
    }
    case 'AccountHoldReleased': {
      const { holds, releasedMinor } = takeFromHold(state.holds, event.data.holdId, BigInt(event.data.amountMinor));
      return { ...state, pendingMinor: state.pendingMinor - releasedMinor, holds };
    }
    case 'BalanceMonitorRegistered': {
      const monitors = new Map(state.monitors);
      const { monitorId, balance, direction, thresholdMinor } = event.data;
      monitors.set(monitorId, { balance, direction, thresholdMinor: BigInt(thresholdMinor) });
      return { ...state, monitors };
    }
    case 'BalanceThresholdCrossed':
      // A record for subscribers; crossings are found by comparing balances, so nothing to remember.
      return state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/**
 * Takes up to `amountMinor` out of an open hold, forgetting the hold once nothing is left. Pending
 * only ever falls by what the hold still had, so pending always equals the sum of open holds, even
 * for a capture of a hold the account does not know (it lowers posted only).
 */
function takeFromHold(holds: ReadonlyMap<string, OpenHold>, holdId: string, amountMinor: bigint): { holds: ReadonlyMap<string, OpenHold>; releasedMinor: bigint } {
  const hold = holds.get(holdId);
  if (hold === undefined) return { holds, releasedMinor: 0n };
  const releasedMinor = amountMinor < hold.amountMinor ? amountMinor : hold.amountMinor;
  const next = new Map(holds);
  if (releasedMinor === hold.amountMinor) next.delete(holdId);
  else next.set(holdId, { ...hold, amountMinor: hold.amountMinor - releasedMinor });
  return { holds: next, releasedMinor };
}

export function availableMinor(account: ExistingAccountState): bigint {
  return account.postedMinor - account.pendingMinor;
}

export function balancesOf(account: ExistingAccountState): WireBalances {
  return {
    currency: account.currency,
    postedMinor: account.postedMinor.toString(),
    pendingMinor: account.pendingMinor.toString(),
    availableMinor: availableMinor(account).toString(),
  };
}

/** Posted and pending debits exceed posted credits by more than the overdraft limit. */
export function breachesDebitLimit(account: ExistingAccountState): boolean {
  return account.debitsMustNotExceedCredits && availableMinor(account) < -account.overdraftLimitMinor;
}

/**
 * Posted credits exceed posted debits by more than the credit limit. Holds reserve only the debit
 * side (the receiving account is named at capture), so there are no pending credits to count.
 */
export function breachesCreditLimit(account: ExistingAccountState): boolean {
  return account.creditsMustNotExceedDebits && account.postedMinor > account.creditLimitMinor;
}

/**
 * A posted, pending or available balance past what the contracts carry (MAX_MINOR_UNITS, either sign):
 * the outcome naming it could not be published, so the movement is refused (limit_exceeded) instead
 * of moving money whose record would be dead-lettered.
 */
export function beyondContractRange(account: ExistingAccountState): boolean {
  const within = (minor: bigint): boolean => minor <= MAX_MINOR_UNITS && minor >= -MAX_MINOR_UNITS;
  return !(within(account.postedMinor) && within(account.pendingMinor) && within(availableMinor(account)));
}

/** Can the account give `amountMinor` away now (as a debit or a hold) without breaking its limit? */
export function canGive(account: ExistingAccountState, amountMinor: bigint): boolean {
  return !account.debitsMustNotExceedCredits || availableMinor(account) - amountMinor >= -account.overdraftLimitMinor;
}

/**
 * The account state as JSON (bigints as strings, maps as pairs), for snapshots. The shape is
 * versioned by the snapshot name the caller uses ('account-v2' since flags, limits, holds with
 * expiry and monitors).
 */
export interface AccountStateJson {
  status: AccountState['status'];
  account?: {
    accountId: string;
    ownerId: string;
    kind: AccountKind;
    currency: string;
    debitsMustNotExceedCredits: boolean;
    creditsMustNotExceedDebits: boolean;
    overdraftLimitMinor: string;
    creditLimitMinor: string;
    metadata: Record<string, string>;
    postedMinor: string;
    pendingMinor: string;
    holds: [string, { amountMinor: string; expiresAt?: string }][];
    monitors: [string, { balance: MonitoredBalance; direction: ThresholdDirection; thresholdMinor: string }][];
  };
}

export function accountStateToJson(state: AccountState): AccountStateJson {
  if (state.status === 'unopened') return { status: state.status };
  const { status, postedMinor, pendingMinor, overdraftLimitMinor, creditLimitMinor, holds, monitors, metadata, ...terms } = state;
  return {
    status,
    account: {
      ...terms,
      overdraftLimitMinor: overdraftLimitMinor.toString(),
      creditLimitMinor: creditLimitMinor.toString(),
      metadata: { ...metadata },
      postedMinor: postedMinor.toString(),
      pendingMinor: pendingMinor.toString(),
      holds: [...holds].map(([holdId, hold]) => [holdId, { ...hold, amountMinor: hold.amountMinor.toString() }]),
      monitors: [...monitors].map(([monitorId, monitor]) => [monitorId, { ...monitor, thresholdMinor: monitor.thresholdMinor.toString() }]),
    },
  };
}

export function accountStateFromJson(json: AccountStateJson): AccountState {
  if (json.status === 'unopened' || json.account === undefined) return { status: 'unopened' };
  const { postedMinor, pendingMinor, overdraftLimitMinor, creditLimitMinor, holds, monitors, metadata, ...terms } = json.account;
  return {
    status: json.status,
    ...terms,
    overdraftLimitMinor: BigInt(overdraftLimitMinor),
    creditLimitMinor: BigInt(creditLimitMinor),
    metadata: { ...metadata },
    postedMinor: BigInt(postedMinor),
    pendingMinor: BigInt(pendingMinor),
    holds: new Map(holds.map(([holdId, hold]) => [holdId, { ...hold, amountMinor: BigInt(hold.amountMinor) }])),
    monitors: new Map(monitors.map(([monitorId, monitor]) => [monitorId, { ...monitor, thresholdMinor: BigInt(monitor.thresholdMinor) }])),
  };
}

// Ledger contracts beyond open / transfer / hold / capture: account lifecycle, balance monitors,
// linked transfers, currency exchange, reversals, and the end of a hold other than its capture.
import { defineContract } from './contract.js';
import {
  accountMetadataSchema, balancesByAccountSchema, LEDGER_REJECTION_CODES, limitMinorSchema,
  type LedgerRejectionCode, type PostTransferData, type WireBalancesByAccount,
} from './ledger.js';
import {
  balancesSchema, currencySchema, enumSchema, identifierSchema, objectSchema, positiveMoneySchema, POSITIVE_MINOR_UNITS_PATTERN,
  SIGNED_MINOR_UNITS_PATTERN, timestampSchema, uuidSchema, type JsonSchema, type WireBalances, type WireMoney,
} from './schema.js';
import { Topics } from './topics.js';

const accountIdOnly = objectSchema({ accountId: identifierSchema });

// ---------------------------------------------------------------- account lifecycle

export interface ModifyAccountData {
  accountId: string;
  overdraftLimitMinor?: string;
  creditLimitMinor?: string;
  /** Replaces the whole metadata map when given. */
  metadata?: Record<string, string>;
}

export const ModifyAccount = defineContract<'ModifyAccount', ModifyAccountData>({
  type: 'ModifyAccount',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: "Change an account's overdraft or credit limit, or replace its metadata.",
  partitionKey: (data) => data.accountId,
  schema: objectSchema(
    { accountId: identifierSchema, overdraftLimitMinor: limitMinorSchema, creditLimitMinor: limitMinorSchema, metadata: accountMetadataSchema },
    ['overdraftLimitMinor', 'creditLimitMinor', 'metadata'],
  ),
});

/** The account's terms after the change, in full, so a reader needs no earlier event. */
export interface AccountModifiedData {
  accountId: string;
  overdraftLimitMinor: string;
  creditLimitMinor: string;
  metadata: Record<string, string>;
}

export const AccountModified = defineContract<'AccountModified', AccountModifiedData>({
  type: 'AccountModified',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: "The account's limits or metadata changed; the data holds the new values in full.",
  partitionKey: (data) => data.accountId,
  schema: objectSchema({ accountId: identifierSchema, overdraftLimitMinor: limitMinorSchema, creditLimitMinor: limitMinorSchema, metadata: accountMetadataSchema }),
});

export interface AccountReferenceData {
  accountId: string;
}

function accountCommand<Type extends string>(type: Type, description: string) {
  return defineContract<Type, AccountReferenceData>({
    type, kind: 'command', schemaVersion: 1, topic: Topics.ledgerCommands, description, partitionKey: (data) => data.accountId, schema: accountIdOnly,
  });
}

function accountEvent<Type extends string>(type: Type, description: string) {
  return defineContract<Type, AccountReferenceData>({
    type, kind: 'event', schemaVersion: 1, topic: Topics.ledgerEvents, description, partitionKey: (data) => data.accountId, schema: accountIdOnly,
  });
}

export const FreezeAccount = accountCommand('FreezeAccount', 'Stop all money movement into and out of an account until it is unfrozen.');
export const UnfreezeAccount = accountCommand('UnfreezeAccount', 'Let a frozen account move money again.');
export const CloseAccount = accountCommand('CloseAccount', 'Close an account at zero balance with no open holds; its history stays.');
export const AccountFrozen = accountEvent('AccountFrozen', 'The account refuses transfers, holds and captures; voids and expiries still release holds.');
export const AccountUnfrozen = accountEvent('AccountUnfrozen', 'The account moves money again.');
export const AccountClosed = accountEvent('AccountClosed', 'The account is closed for good; it refuses every new movement.');

/** The account commands whose refusal the ledger answers with AccountCommandRejected. */
export const ACCOUNT_COMMAND_TYPES = ['OpenAccount', 'ModifyAccount', 'FreezeAccount', 'UnfreezeAccount', 'CloseAccount', 'RegisterBalanceMonitor'] as const;
export type AccountCommandType = (typeof ACCOUNT_COMMAND_TYPES)[number];

export interface AccountCommandRejectedData {
  accountId: string;
  command: AccountCommandType;
  reasonCode: LedgerRejectionCode;
  /** The account's balances, unchanged by the refusal; absent when the account does not exist. */
  balances?: WireBalances;
}

export const AccountCommandRejected = defineContract<'AccountCommandRejected', AccountCommandRejectedData>({
  type: 'AccountCommandRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused an account command (open with other terms, modify past a balance, freeze or close a closed account, close with money or open holds, a monitor beyond the limit ...); nothing changed.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(
    { accountId: identifierSchema, command: enumSchema(ACCOUNT_COMMAND_TYPES), reasonCode: enumSchema(LEDGER_REJECTION_CODES), balances: balancesSchema },
    ['balances'],
  ),
});

// ---------------------------------------------------------------- balance monitors

export const MONITORED_BALANCES = ['posted', 'available'] as const;
export type MonitoredBalance = (typeof MONITORED_BALANCES)[number];
export const THRESHOLD_DIRECTIONS = ['above', 'below'] as const;
export type ThresholdDirection = (typeof THRESHOLD_DIRECTIONS)[number];
/** Bounds the work each movement does on a hot account. */
export const MAX_BALANCE_MONITORS_PER_ACCOUNT = 16;

export interface RegisterBalanceMonitorData {
  monitorId: string;
  accountId: string;
  balance: MonitoredBalance;
  direction: ThresholdDirection;
  thresholdMinor: string;
}

const signedMinorSchema: JsonSchema = { type: 'string', pattern: SIGNED_MINOR_UNITS_PATTERN };

const balanceMonitorProperties = {
  monitorId: identifierSchema,
  accountId: identifierSchema,
  balance: enumSchema(MONITORED_BALANCES),
  direction: enumSchema(THRESHOLD_DIRECTIONS),
  thresholdMinor: signedMinorSchema,
};

export const RegisterBalanceMonitor = defineContract<'RegisterBalanceMonitor', RegisterBalanceMonitorData>({
  type: 'RegisterBalanceMonitor',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: "Watch an account's posted or available balance for crossing a threshold upwards ('above') or downwards ('below').",
  partitionKey: (data) => data.accountId,
  schema: objectSchema(balanceMonitorProperties),
});

export const BalanceMonitorRegistered = defineContract<'BalanceMonitorRegistered', RegisterBalanceMonitorData>({
  type: 'BalanceMonitorRegistered',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The account is watched from now on; each crossing emits BalanceThresholdCrossed.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(balanceMonitorProperties),
});

export interface BalanceThresholdCrossedData extends RegisterBalanceMonitorData {
  previousMinor: string;
  currentMinor: string;
  /** The transfer, batch or hold whose decision moved the balance across. */
  causedBy: string;
  balances: WireBalances;
}

export const BalanceThresholdCrossed = defineContract<'BalanceThresholdCrossed', BalanceThresholdCrossedData>({
  type: 'BalanceThresholdCrossed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'A movement took the watched balance across the threshold in the watched direction.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema({
    ...balanceMonitorProperties, previousMinor: signedMinorSchema, currentMinor: signedMinorSchema, causedBy: uuidSchema, balances: balancesSchema,
  }),
});

// ---------------------------------------------------------------- linked transfers

/** Bounds one atomic batch: it is decided and appended as a unit. */
export const MAX_LINKED_TRANSFERS = 32;

export interface PostLinkedTransfersData {
  batchId: string;
  transfers: PostTransferData[];
}

const transferLegSchema = objectSchema({ transferId: uuidSchema, debitAccountId: identifierSchema, creditAccountId: identifierSchema, amount: positiveMoneySchema });
const linkedTransfersProperties = {
  batchId: uuidSchema,
  transfers: { type: 'array', items: transferLegSchema, minItems: 1, maxItems: MAX_LINKED_TRANSFERS },
};

export const PostLinkedTransfers = defineContract<'PostLinkedTransfers', PostLinkedTransfersData>({
  type: 'PostLinkedTransfers',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Post several transfers as one: all of them, in order, or none (fees, splits).',
  partitionKey: (data) => data.batchId,
  schema: objectSchema(linkedTransfersProperties),
});

export interface LinkedTransfersPostedData extends PostLinkedTransfersData {
  balancesAfter: WireBalancesByAccount;
}

export const LinkedTransfersPosted = defineContract<'LinkedTransfersPosted', LinkedTransfersPostedData>({
  type: 'LinkedTransfersPosted',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'Every transfer of the batch was posted; each also has its own TransferPosted.',
  partitionKey: (data) => data.batchId,
  schema: objectSchema({ ...linkedTransfersProperties, balancesAfter: balancesByAccountSchema }),
});

export interface LinkedTransfersRejectedData extends PostLinkedTransfersData {
  /** Position in `transfers` of the first transfer that failed; the others were not tried or were undone with it. */
  failedTransferIndex: number;
  reasonCode: LedgerRejectionCode;
  balancesAfter: WireBalancesByAccount;
}

export const LinkedTransfersRejected = defineContract<'LinkedTransfersRejected', LinkedTransfersRejectedData>({
  type: 'LinkedTransfersRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'One transfer of the batch failed, so none was posted.',
  partitionKey: (data) => data.batchId,
  schema: objectSchema({
    ...linkedTransfersProperties,
    failedTransferIndex: { type: 'integer', minimum: 0, maximum: MAX_LINKED_TRANSFERS - 1 },
    reasonCode: enumSchema(LEDGER_REJECTION_CODES),
    balancesAfter: balancesByAccountSchema,
  }),
});

// ---------------------------------------------------------------- currency exchange

/** One major unit of the source currency is worth numerator / denominator major units of the target currency. */
export interface WireExchangeRate {
  numerator: string;
  denominator: string;
}

/** The only rounding the ledger applies to a conversion; written into the outcome so it can be recomputed. */
export const EXCHANGE_ROUNDING = 'half-even';

export interface ExchangeCurrencyData {
  transferId: string;
  /** Pays `amount` in the source currency. */
  debitAccountId: string;
  /** Receives the converted amount in the target currency. */
  creditAccountId: string;
  /** The platform's FX position in the source currency: it receives `amount`. */
  fxSourceAccountId: string;
  /** The platform's FX position in the target currency: it pays the converted amount. */
  fxTargetAccountId: string;
  amount: WireMoney;
  targetCurrency: string;
  rate: WireExchangeRate;
}

const positiveIntegerSchema: JsonSchema = { type: 'string', pattern: POSITIVE_MINOR_UNITS_PATTERN };
const exchangeProperties = {
  transferId: uuidSchema,
  debitAccountId: identifierSchema,
  creditAccountId: identifierSchema,
  fxSourceAccountId: identifierSchema,
  fxTargetAccountId: identifierSchema,
  amount: positiveMoneySchema,
  targetCurrency: currencySchema,
  rate: objectSchema({ numerator: positiveIntegerSchema, denominator: positiveIntegerSchema }),
};

export const ExchangeCurrency = defineContract<'ExchangeCurrency', ExchangeCurrencyData>({
  type: 'ExchangeCurrency',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Move money across currencies as a linked pair through FX accounts at a stated rate, rounded half-even once.',
  partitionKey: (data) => data.debitAccountId,
  schema: objectSchema(exchangeProperties),
});

export interface CurrencyExchangedData extends ExchangeCurrencyData {
  targetAmount: WireMoney;
  rounding: typeof EXCHANGE_ROUNDING;
  balancesAfter: WireBalancesByAccount;
}

export const CurrencyExchanged = defineContract<'CurrencyExchanged', CurrencyExchangedData>({
  type: 'CurrencyExchanged',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'Both legs posted: the payer to the source FX account, the target FX account to the receiver.',
  partitionKey: (data) => data.transferId,
  schema: objectSchema({
    ...exchangeProperties, targetAmount: positiveMoneySchema, rounding: enumSchema([EXCHANGE_ROUNDING]), balancesAfter: balancesByAccountSchema,
  }),
});

export interface CurrencyExchangeRejectedData extends ExchangeCurrencyData {
  reasonCode: LedgerRejectionCode;
  balancesAfter: WireBalancesByAccount;
}

export const CurrencyExchangeRejected = defineContract<'CurrencyExchangeRejected', CurrencyExchangeRejectedData>({
  type: 'CurrencyExchangeRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'Neither leg of the exchange was posted.',
  partitionKey: (data) => data.transferId,
  schema: objectSchema({ ...exchangeProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES), balancesAfter: balancesByAccountSchema }),
});

// ---------------------------------------------------------------- reversals and refunds

export interface ReverseTransferData {
  /** The reversal's own id: it is a new transfer. */
  transferId: string;
  /** A posted transfer (or a linked transfer's leg), or a captured hold's id for a refund. */
  originalTransferId: string;
  /** At most what is left to reverse of the original. */
  amount: WireMoney;
}

const reverseTransferProperties = { transferId: uuidSchema, originalTransferId: uuidSchema, amount: positiveMoneySchema };

export const ReverseTransfer = defineContract<'ReverseTransfer', ReverseTransferData>({
  type: 'ReverseTransfer',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Move money back along a posted transfer or captured hold, in full or in part (refunds, chargebacks).',
  partitionKey: (data) => data.originalTransferId,
  schema: objectSchema(reverseTransferProperties),
});

export interface TransferReversedData extends ReverseTransferData {
  /** The original's credit account, debited now. */
  debitAccountId: string;
  /** The original's debit account, credited now. */
  creditAccountId: string;
  balancesAfter: WireBalancesByAccount;
}

export const TransferReversed = defineContract<'TransferReversed', TransferReversedData>({
  type: 'TransferReversed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The amount moved back from the original credit account to the original debit account.',
  partitionKey: (data) => data.originalTransferId,
  schema: objectSchema({ ...reverseTransferProperties, debitAccountId: identifierSchema, creditAccountId: identifierSchema, balancesAfter: balancesByAccountSchema }),
});

export interface TransferReversalRejectedData extends ReverseTransferData {
  reasonCode: LedgerRejectionCode;
  balancesAfter: WireBalancesByAccount;
}

export const TransferReversalRejected = defineContract<'TransferReversalRejected', TransferReversalRejectedData>({
  type: 'TransferReversalRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The reversal was refused; nothing moved.',
  partitionKey: (data) => data.originalTransferId,
  schema: objectSchema({ ...reverseTransferProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES), balancesAfter: balancesByAccountSchema }),
});

// ---------------------------------------------------------------- void and expiry of holds

export interface ReleaseHoldData {
  holdId: string;
  accountId: string;
}

const releaseHoldSchema = objectSchema({ holdId: uuidSchema, accountId: identifierSchema });

export const VoidHold = defineContract<'VoidHold', ReleaseHoldData>({
  type: 'VoidHold',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Release an open hold in full without moving money.',
  partitionKey: (data) => data.accountId,
  schema: releaseHoldSchema,
});

export const ExpireHold = defineContract<'ExpireHold', ReleaseHoldData>({
  type: 'ExpireHold',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: "Release an open hold whose expiry time has passed (the timeout, issued as a command and decided against 'now').",
  partitionKey: (data) => data.accountId,
  schema: releaseHoldSchema,
});

export interface HoldReleasedData extends ReleaseHoldData {
  releasedAmountMinor: string;
  balances: WireBalances;
}

const holdReleasedProperties = { holdId: uuidSchema, accountId: identifierSchema, releasedAmountMinor: limitMinorSchema, balances: balancesSchema };

export const HoldVoided = defineContract<'HoldVoided', HoldReleasedData>({
  type: 'HoldVoided',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The hold was released in full; nothing moved.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema(holdReleasedProperties),
});

export interface HoldReleaseRejectedData extends ReleaseHoldData {
  command: 'VoidHold' | 'ExpireHold';
  reasonCode: LedgerRejectionCode;
  /** The account's balances, unchanged by the refusal; absent when the account does not exist. */
  balances?: WireBalances;
}

export const HoldReleaseRejected = defineContract<'HoldReleaseRejected', HoldReleaseRejectedData>({
  type: 'HoldReleaseRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused to void or expire a hold (already captured, voided or expired; not expired yet; unknown); nothing changed.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema(
    { holdId: uuidSchema, accountId: identifierSchema, command: enumSchema(['VoidHold', 'ExpireHold']), reasonCode: enumSchema(LEDGER_REJECTION_CODES), balances: balancesSchema },
    ['balances'],
  ),
});

export interface HoldExpiredData extends HoldReleasedData {
  expiresAt: string;
}

export const HoldExpired = defineContract<'HoldExpired', HoldExpiredData>({
  type: 'HoldExpired',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The hold reached its expiry time uncaptured and was released in full.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...holdReleasedProperties, expiresAt: timestampSchema }),
});

import { defineContract } from './contract.js';
import {
  balancesSchema, currencySchema, enumSchema, identifierSchema, MINOR_UNITS_PATTERN, objectSchema, positiveMoneySchema, timestampSchema, uuidSchema,
  type JsonSchema, type WireBalances, type WireMoney,
} from './schema.js';
import { Topics } from './topics.js';

/** 'funding' is the generic funding account of the walking skeleton; the others name their rail. */
export const ACCOUNT_KINDS = [
  'customer_wallet', 'merchant', 'funding', 'bank_card_funding', 'e_wallet', 'mobile_money',
  'fee_revenue', 'settlement', 'suspense', 'fx',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/**
 * Why the ledger refused a command. Stable codes: callers branch on them, so a code is only ever
 * added, never renamed or removed (`hold_amount_mismatch` and `duplicate_hold_id` are no longer
 * produced since partial capture and hold idempotency arrived, but old events still carry them).
 */
export const LEDGER_REJECTION_CODES = [
  'account_not_found',
  'account_already_exists',
  'insufficient_funds',
  'limit_exceeded',
  'currency_mismatch',
  'same_account',
  'account_frozen',
  'account_closed',
  'account_has_balance',
  'account_has_open_holds',
  'duplicate_id_different_body',
  'hold_not_found',
  'hold_amount_mismatch',
  'duplicate_hold_id',
  'hold_expired',
  'hold_not_expired',
  'hold_already_final',
  'amount_exceeds_hold',
  'transfer_not_found',
  'transfer_not_reversible',
  'reversal_exceeds_original',
  'amount_rounds_to_zero',
  'monitor_limit_reached',
] as const;
export type LedgerRejectionCode = (typeof LEDGER_REJECTION_CODES)[number];

/** At most this many metadata entries per account, each key an identifier and each value short. */
export const ACCOUNT_METADATA_MAX_ENTRIES = 16;
export const ACCOUNT_METADATA_VALUE_MAX_LENGTH = 256;

export const accountMetadataSchema: JsonSchema = {
  type: 'object',
  maxProperties: ACCOUNT_METADATA_MAX_ENTRIES,
  propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' },
  additionalProperties: { type: 'string', maxLength: ACCOUNT_METADATA_VALUE_MAX_LENGTH },
};

export const limitMinorSchema: JsonSchema = { type: 'string', pattern: MINOR_UNITS_PATTERN };

/** Balances of every account a decision touched, keyed by account id. */
export type WireBalancesByAccount = Record<string, WireBalances>;
export const balancesByAccountSchema: JsonSchema = { type: 'object', maxProperties: 128, additionalProperties: balancesSchema };

export interface OpenAccountData {
  accountId: string;
  ownerId: string;
  kind: AccountKind;
  currency: string;
  /**
   * Shorthand kept from the first contract: false means debitsMustNotExceedCredits, true means no
   * balance flag (funding and settlement accounts mirror money outside the platform). The flags
   * below say the same thing precisely; giving both in contradiction is refused.
   */
  allowNegativeBalance?: boolean;
  /** TigerBeetle's flag: posted and pending debits may not exceed posted credits (plus the overdraft limit). */
  debitsMustNotExceedCredits?: boolean;
  /** TigerBeetle's flag: posted credits may not exceed posted debits (plus the credit limit). */
  creditsMustNotExceedDebits?: boolean;
  /** How far debits may exceed credits on a debitsMustNotExceedCredits account; minor units, default 0. */
  overdraftLimitMinor?: string;
  /** How far credits may exceed debits on a creditsMustNotExceedDebits account; minor units, default 0. */
  creditLimitMinor?: string;
  metadata?: Record<string, string>;
}

const openAccountSchema = objectSchema({
  accountId: identifierSchema,
  ownerId: identifierSchema,
  kind: enumSchema(ACCOUNT_KINDS),
  currency: currencySchema,
  allowNegativeBalance: { type: 'boolean' },
  debitsMustNotExceedCredits: { type: 'boolean' },
  creditsMustNotExceedDebits: { type: 'boolean' },
  overdraftLimitMinor: limitMinorSchema,
  creditLimitMinor: limitMinorSchema,
  metadata: accountMetadataSchema,
}, ['allowNegativeBalance', 'debitsMustNotExceedCredits', 'creditsMustNotExceedDebits', 'overdraftLimitMinor', 'creditLimitMinor', 'metadata']);

export const OpenAccount = defineContract<'OpenAccount', OpenAccountData>({
  type: 'OpenAccount',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Open a ledger account in one currency.',
  partitionKey: (data) => data.accountId,
  schema: openAccountSchema,
});

export const AccountOpened = defineContract<'AccountOpened', OpenAccountData>({
  type: 'AccountOpened',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'A ledger account exists from now on, with a zero balance.',
  partitionKey: (data) => data.accountId,
  schema: openAccountSchema,
});

export interface PostTransferData {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: WireMoney;
}

const postTransferProperties = {
  transferId: uuidSchema,
  debitAccountId: identifierSchema,
  creditAccountId: identifierSchema,
  amount: positiveMoneySchema,
};

export const PostTransfer = defineContract<'PostTransfer', PostTransferData>({
  type: 'PostTransfer',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Move an amount from one account to another in one step (same currency).',
  partitionKey: (data) => data.debitAccountId,
  schema: objectSchema(postTransferProperties),
});

export interface TransferPostedData extends PostTransferData {
  debitBalances: WireBalances;
  creditBalances: WireBalances;
}

export const TransferPosted = defineContract<'TransferPosted', TransferPostedData>({
  type: 'TransferPosted',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The transfer debited one account and credited the other by the same amount.',
  partitionKey: (data) => data.transferId,
  schema: objectSchema({ ...postTransferProperties, debitBalances: balancesSchema, creditBalances: balancesSchema }),
});

export interface TransferRejectedData extends PostTransferData {
  reasonCode: LedgerRejectionCode;
  /** Balances of the accounts that exist, unchanged by the rejection. */
  balancesAfter?: WireBalancesByAccount;
}

export const TransferRejected = defineContract<'TransferRejected', TransferRejectedData>({
  type: 'TransferRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused the transfer; no balance changed.',
  partitionKey: (data) => data.transferId,
  schema: objectSchema({ ...postTransferProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES), balancesAfter: balancesByAccountSchema }, ['balancesAfter']),
});

export interface PlaceHoldData {
  holdId: string;
  accountId: string;
  amount: WireMoney;
  paymentId: string;
  /** When the hold may be expired (ExpireHold) and may no longer be captured; none means never. */
  expiresAt?: string;
}

const placeHoldProperties = {
  holdId: uuidSchema,
  accountId: identifierSchema,
  amount: positiveMoneySchema,
  paymentId: uuidSchema,
  expiresAt: timestampSchema,
};

export const PlaceHold = defineContract<'PlaceHold', PlaceHoldData>({
  type: 'PlaceHold',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Reserve an amount on an account (authorization); it lowers the available balance at once.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(placeHoldProperties, ['expiresAt']),
});

export interface HoldPlacedData extends PlaceHoldData {
  balances: WireBalances;
}

export const HoldPlaced = defineContract<'HoldPlaced', HoldPlacedData>({
  type: 'HoldPlaced',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The amount is held on the account until it is captured or released.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...placeHoldProperties, balances: balancesSchema }, ['expiresAt']),
});

export interface HoldRejectedData extends PlaceHoldData {
  reasonCode: LedgerRejectionCode;
  balancesAfter?: WireBalancesByAccount;
}

export const HoldRejected = defineContract<'HoldRejected', HoldRejectedData>({
  type: 'HoldRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused to hold the amount; nothing is reserved.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...placeHoldProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES), balancesAfter: balancesByAccountSchema }, ['expiresAt', 'balancesAfter']),
});

export interface CaptureHoldData {
  holdId: string;
  accountId: string;
  creditAccountId: string;
  /** Up to the held amount: a partial capture releases the rest of the hold. */
  amount: WireMoney;
  paymentId: string;
}

const captureHoldProperties = {
  holdId: uuidSchema,
  accountId: identifierSchema,
  creditAccountId: identifierSchema,
  amount: positiveMoneySchema,
  paymentId: uuidSchema,
};

export const CaptureHold = defineContract<'CaptureHold', CaptureHoldData>({
  type: 'CaptureHold',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Post a held amount, in full or in part: debit the held account, credit the receiving account, release the rest.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(captureHoldProperties),
});

export interface HoldCapturedData extends CaptureHoldData {
  debitBalances: WireBalances;
  creditBalances: WireBalances;
  /** What a partial capture gave back to the held account's available balance. */
  releasedAmountMinor?: string;
}

export const HoldCaptured = defineContract<'HoldCaptured', HoldCapturedData>({
  type: 'HoldCaptured',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The held amount moved from the payer account to the receiving account.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema(
    { ...captureHoldProperties, debitBalances: balancesSchema, creditBalances: balancesSchema, releasedAmountMinor: limitMinorSchema },
    ['releasedAmountMinor'],
  ),
});

export interface CaptureRejectedData extends CaptureHoldData {
  reasonCode: LedgerRejectionCode;
  balancesAfter?: WireBalancesByAccount;
}

export const CaptureRejected = defineContract<'CaptureRejected', CaptureRejectedData>({
  type: 'CaptureRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused to capture the hold; the hold is unchanged.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...captureHoldProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES), balancesAfter: balancesByAccountSchema }, ['balancesAfter']),
});

import { defineContract } from './contract.js';
import {
  balancesSchema, currencySchema, enumSchema, identifierSchema, objectSchema, positiveMoneySchema, uuidSchema,
  type WireBalances, type WireMoney,
} from './schema.js';
import { Topics } from './topics.js';

export const ACCOUNT_KINDS = ['customer_wallet', 'merchant', 'funding', 'fee_revenue', 'settlement', 'suspense'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

/** Why the ledger refused a transfer or a hold. Stable codes: callers branch on them. */
export const LEDGER_REJECTION_CODES = [
  'account_not_found',
  'account_already_exists',
  'insufficient_funds',
  'currency_mismatch',
  'same_account',
  'hold_not_found',
  'hold_amount_mismatch',
  'duplicate_hold_id',
] as const;
export type LedgerRejectionCode = (typeof LEDGER_REJECTION_CODES)[number];

export interface OpenAccountData {
  accountId: string;
  ownerId: string;
  kind: AccountKind;
  currency: string;
  /** Funding and settlement accounts may go below zero: they mirror money outside the platform. */
  allowNegativeBalance: boolean;
}

const openAccountSchema = objectSchema({
  accountId: identifierSchema,
  ownerId: identifierSchema,
  kind: enumSchema(ACCOUNT_KINDS),
  currency: currencySchema,
  allowNegativeBalance: { type: 'boolean' },
});

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
}

export const TransferRejected = defineContract<'TransferRejected', TransferRejectedData>({
  type: 'TransferRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused the transfer; no balance changed.',
  partitionKey: (data) => data.transferId,
  schema: objectSchema({ ...postTransferProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES) }),
});

export interface PlaceHoldData {
  holdId: string;
  accountId: string;
  amount: WireMoney;
  paymentId: string;
}

const placeHoldProperties = {
  holdId: uuidSchema,
  accountId: identifierSchema,
  amount: positiveMoneySchema,
  paymentId: uuidSchema,
};

export const PlaceHold = defineContract<'PlaceHold', PlaceHoldData>({
  type: 'PlaceHold',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.ledgerCommands,
  description: 'Reserve an amount on an account (authorization); it lowers the available balance at once.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(placeHoldProperties),
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
  schema: objectSchema({ ...placeHoldProperties, balances: balancesSchema }),
});

export interface HoldRejectedData extends PlaceHoldData {
  reasonCode: LedgerRejectionCode;
}

export const HoldRejected = defineContract<'HoldRejected', HoldRejectedData>({
  type: 'HoldRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused to hold the amount; nothing is reserved.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...placeHoldProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES) }),
});

export interface CaptureHoldData {
  holdId: string;
  accountId: string;
  creditAccountId: string;
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
  description: 'Post a held amount: debit the held account, credit the receiving account.',
  partitionKey: (data) => data.accountId,
  schema: objectSchema(captureHoldProperties),
});

export interface HoldCapturedData extends CaptureHoldData {
  debitBalances: WireBalances;
  creditBalances: WireBalances;
}

export const HoldCaptured = defineContract<'HoldCaptured', HoldCapturedData>({
  type: 'HoldCaptured',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The held amount moved from the payer account to the receiving account.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...captureHoldProperties, debitBalances: balancesSchema, creditBalances: balancesSchema }),
});

export interface CaptureRejectedData extends CaptureHoldData {
  reasonCode: LedgerRejectionCode;
}

export const CaptureRejected = defineContract<'CaptureRejected', CaptureRejectedData>({
  type: 'CaptureRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.ledgerEvents,
  description: 'The ledger refused to capture the hold; the hold is unchanged.',
  partitionKey: (data) => data.holdId,
  schema: objectSchema({ ...captureHoldProperties, reasonCode: enumSchema(LEDGER_REJECTION_CODES) }),
});

// The shapes of the gateway's answers, for the OpenAPI document only: reads are analytics' JSON
// passed through as it is, and these classes describe it (nothing is validated against them).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const MINOR_UNITS = { type: String, pattern: '^(0|-?[1-9][0-9]*)$', description: 'Integer minor units as a string' } as const;
const POSITION = { type: String, pattern: '^(0|[1-9][0-9]*)$', description: 'A global position of the event store, as a string' } as const;
const NULLABLE_STRING = { type: String, nullable: true } as const;
const INSTANT = { type: String, format: 'date-time', description: 'UTC, to the microsecond' } as const;

/** RFC 9457 problem details, the body of every error (content type application/problem+json). */
export class ProblemDocumentView {
  @ApiProperty({ type: String, description: 'A stable URN to branch on', example: 'urn:clearline:problem:invalid-request' })
  type!: string;

  @ApiProperty({ type: String, example: 'Invalid limit' })
  title!: string;

  @ApiProperty({ type: Number, example: 400 })
  status!: number;

  @ApiPropertyOptional({ type: String })
  detail?: string;

  @ApiPropertyOptional({ type: String, description: 'The request path' })
  instance?: string;

  @ApiPropertyOptional({ type: [String], description: 'Each validation failure, for a body or query that failed validation' })
  errors?: string[];
}

export class MoneyView {
  @ApiProperty(MINOR_UNITS)
  amountMinor!: string;

  @ApiProperty({ type: String, example: 'EUR' })
  currency!: string;
}

export class BalancesView {
  @ApiProperty({ ...MINOR_UNITS, description: 'Final credits minus final debits' })
  postedMinor!: string;

  @ApiProperty({ ...MINOR_UNITS, description: 'The sum of open holds' })
  pendingMinor!: string;

  @ApiProperty({ ...MINOR_UNITS, description: 'posted - pending: what a new debit or hold may use' })
  availableMinor!: string;
}

export class BalanceChangeView {
  @ApiProperty(MINOR_UNITS)
  postedMinor!: string;

  @ApiProperty(MINOR_UNITS)
  pendingMinor!: string;
}

export class AccountEntryView {
  @ApiProperty(POSITION)
  globalPosition!: string;

  @ApiProperty({ type: String, description: "The event's version in the account stream" })
  streamVersion!: string;

  @ApiProperty({ enum: ['AccountDebited', 'AccountCredited', 'AccountFundsHeld', 'AccountHoldCaptured', 'AccountHoldReleased'] })
  type!: string;

  @ApiProperty({ ...NULLABLE_STRING, description: 'The transfer (or, for a capture\'s credit, the hold) that moved posted money' })
  transferId!: string | null;

  @ApiProperty({ ...NULLABLE_STRING, description: 'The hold a hold event belongs to' })
  holdId!: string | null;

  @ApiProperty({ type: BalanceChangeView, description: 'Signed change of each balance' })
  change!: BalanceChangeView;

  @ApiProperty({ type: BalancesView })
  balancesAfter!: BalancesView;

  @ApiProperty(NULLABLE_STRING)
  correlationId!: string | null;

  @ApiProperty({ ...INSTANT, description: "The event's recorded time" })
  recordedAt!: string;

  @ApiProperty({ ...INSTANT, description: 'recordedAt, raised to the previous entry\'s: what "asOf" compares with' })
  visibleAt!: string;
}

export class TransferEntryView extends AccountEntryView {
  @ApiProperty({ type: String })
  accountId!: string;
}

export class BalancePointView {
  @ApiPropertyOptional(INSTANT)
  time?: string;

  @ApiPropertyOptional(POSITION)
  position?: string;
}

export class BalanceView {
  @ApiProperty({ type: String })
  accountId!: string;

  @ApiProperty({ type: String, example: 'EUR' })
  currency!: string;

  @ApiProperty({ type: BalancePointView, nullable: true, description: 'The point asked for; null for now' })
  asOf!: BalancePointView | null;

  @ApiProperty({ type: BalancesView })
  balances!: BalancesView;

  @ApiProperty({ type: AccountEntryView, nullable: true, description: 'The last entry counted; null when none was yet' })
  lastEntry!: AccountEntryView | null;
}

export class PageView {
  @ApiProperty({ type: Number })
  limit!: number;

  @ApiProperty({ ...NULLABLE_STRING, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}

export class PageLinksView {
  @ApiProperty({ type: String })
  self!: string;

  @ApiProperty({ ...NULLABLE_STRING, description: 'The next page, null on the last' })
  next!: string | null;
}

export class HistoryPageView {
  @ApiProperty({ type: String })
  accountId!: string;

  @ApiProperty({ type: String })
  currency!: string;

  @ApiProperty({ type: [AccountEntryView], description: 'Newest first' })
  entries!: AccountEntryView[];

  @ApiProperty({ type: PageView })
  page!: PageView;

  @ApiProperty({ type: PageLinksView })
  links!: PageLinksView;
}

export class TransferView {
  @ApiProperty({ type: String })
  transferId!: string;

  @ApiProperty({ enum: ['TransferPosted', 'TransferRejected', 'LinkedTransfersPosted', 'LinkedTransfersRejected', 'CurrencyExchanged', 'CurrencyExchangeRejected', 'TransferReversed', 'TransferReversalRejected'] })
  outcome!: string;

  @ApiProperty({ enum: ['posted', 'rejected'] })
  status!: string;

  @ApiProperty(NULLABLE_STRING)
  reasonCode!: string | null;

  @ApiProperty(NULLABLE_STRING)
  debitAccountId!: string | null;

  @ApiProperty(NULLABLE_STRING)
  creditAccountId!: string | null;

  @ApiProperty({ type: MoneyView, nullable: true })
  amount!: MoneyView | null;

  @ApiProperty({ type: MoneyView, nullable: true, description: 'What the credited account received in a currency exchange' })
  targetAmount!: MoneyView | null;

  @ApiProperty(NULLABLE_STRING)
  originalTransferId!: string | null;

  @ApiProperty({ type: [String], nullable: true, description: "A linked batch's legs" })
  legTransferIds!: string[] | null;

  @ApiProperty({ ...MINOR_UNITS, description: 'Reversed so far' })
  reversedMinor!: string;

  @ApiProperty(POSITION)
  globalPosition!: string;

  @ApiProperty(INSTANT)
  recordedAt!: string;

  @ApiProperty({ type: [TransferEntryView] })
  entries!: TransferEntryView[];
}

export class TransfersPageView {
  @ApiProperty({ type: String })
  correlationId!: string;

  @ApiProperty({ type: [TransferView], description: 'Oldest first' })
  transfers!: TransferView[];

  @ApiProperty({ type: PageView })
  page!: PageView;

  @ApiProperty({ type: PageLinksView })
  links!: PageLinksView;
}

export class AccountView {
  @ApiProperty({ type: String })
  accountId!: string;

  @ApiProperty({ type: String })
  ownerId!: string;

  @ApiProperty({ type: String })
  kind!: string;

  @ApiProperty({ type: String })
  currency!: string;

  @ApiProperty({ enum: ['open', 'frozen', 'closed'] })
  status!: string;

  @ApiProperty({ type: BalancesView })
  balances!: BalancesView;

  @ApiProperty(INSTANT)
  openedAt!: string;

  @ApiProperty(INSTANT)
  updatedAt!: string;
}

export class SelfLinkView {
  @ApiProperty({ type: String })
  self!: string;
}

/** 202: the command is on its way to the ledger; its effect is read with the GET routes. */
export class AccountCommandAcceptedView {
  @ApiProperty({ type: String })
  accountId!: string;

  @ApiProperty({ enum: ['OpenAccount', 'ModifyAccount', 'FreezeAccount', 'UnfreezeAccount', 'CloseAccount'] })
  command!: string;

  @ApiProperty({ type: String, description: "'opening' for a new account, 'accepted' for the other commands" })
  status!: string;

  @ApiProperty({ type: String })
  correlationId!: string;

  @ApiProperty({ type: SelfLinkView })
  links!: SelfLinkView;
}

export class TransferAcceptedView {
  @ApiProperty({ type: String, format: 'uuid' })
  transferId!: string;

  @ApiProperty({ enum: ['pending'] })
  status!: string;

  @ApiProperty({ type: String, description: 'Find the transfer with GET /v1/transfers?correlationId=' })
  correlationId!: string;
}

export class PaymentAcceptedView {
  @ApiProperty({ type: String, format: 'uuid' })
  paymentId!: string;

  @ApiProperty({ enum: ['requested'] })
  status!: string;

  @ApiProperty({ type: String })
  correlationId!: string;

  @ApiProperty({ type: SelfLinkView })
  links!: SelfLinkView;
}

export class PaymentLinksView {
  @ApiProperty({ type: String, description: 'Read the payment (its status follows the command shortly after)', example: '/v1/payments/0b7e5f0e-8a0a-4b8e-9d7e-5c1f0d1e2a3b' })
  payment!: string;
}

/** 202: a lifecycle command is on its way to the payments service; its effect is read with GET /v1/payments/{paymentId}. */
export class PaymentCommandAcceptedView {
  @ApiProperty({ type: String, format: 'uuid' })
  paymentId!: string;

  @ApiProperty({ enum: ['CapturePayment', 'VoidPayment', 'RefundPayment', 'ReviewPayment'] })
  command!: string;

  @ApiProperty({ type: String, description: 'The command id the payments service de-duplicates by: derived from the Idempotency-Key, so a retry has one effect' })
  commandId!: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', description: 'Refunds only: the refund (given, or derived from the Idempotency-Key)' })
  refundId?: string;

  @ApiProperty({ enum: ['accepted'] })
  status!: string;

  @ApiProperty({ type: String })
  correlationId!: string;

  @ApiProperty({ type: PaymentLinksView })
  links!: PaymentLinksView;
}

/** The payment read model (abridged here: risk, decline, holdId and the lifecycle times come with it). */
/** The statuses analytics shows (read model 'payments': the aggregate's, and settled). */
export const PAYMENT_STATUSES = ['requested', 'in_review', 'authorizing', 'authorized', 'capturing', 'captured', 'settled', 'voiding', 'voided', 'expired', 'declined', 'failed', 'refunding', 'partially_refunded', 'refunded'] as const;

export class PaymentView {
  @ApiProperty({ type: String, format: 'uuid' })
  paymentId!: string;

  @ApiProperty({ enum: PAYMENT_STATUSES })
  status!: string;

  @ApiProperty({ type: MoneyView })
  amount!: MoneyView;
}

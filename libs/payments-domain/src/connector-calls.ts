import { deriveMessageId, type PaymentRequestedData, type WireMoney } from '@clearline/contracts';

/**
 * The vocabulary of the external rails (card, e_wallet, mobile_money) as the Payment decider and its
 * process manager see it (docs/payments.md, "Connectors"). Pure data: the calls themselves run in
 * apps/payments through libs/connectors, whose answers come back as ConnectorCallCompleted.
 */

export const EXTERNAL_RAILS = ['card', 'e_wallet', 'mobile_money'] as const;
export type ExternalRail = (typeof EXTERNAL_RAILS)[number];

export const CONNECTOR_CALL_OPERATIONS = ['authorize', 'capture', 'void', 'refund'] as const;
export type ConnectorCallOperation = (typeof CONNECTOR_CALL_OPERATIONS)[number];

/** Where an authorization takes the money from: never a PAN, only the vault's token. */
export type ConnectorSourceData =
  | { rail: 'card'; token: string }
  | { rail: 'e_wallet'; walletId: string }
  | { rail: 'mobile_money'; phoneNumber: string };

/**
 * One connector call the process asks for. `callId` is also the idempotency key the connector sees:
 * derived from the payment, the operation and its subject, so running the call again (after a crash,
 * a redelivery) asks the provider for the very same thing and gets the same answer.
 */
export interface CallConnectorData {
  callId: string;
  paymentId: string;
  operation: ConnectorCallOperation;
  rail: ExternalRail;
  /** Authorize, capture and refund; absent for a void (it releases what is left). */
  amount?: WireMoney;
  /** Authorize only. */
  source?: ConnectorSourceData;
  /** Capture, void and refund: the connector that holds the authorization, and its reference there. */
  connectorId?: string;
  authorizationReference?: string;
  /** Refund only. */
  refundId?: string;
}

export type ConnectorCallResult =
  | { outcome: 'approved'; reference: string }
  | { outcome: 'declined'; code: string }
  | { outcome: 'failed'; retryable: boolean; code: string };

/** One attempt as libs/connectors reports it (a call made, or a connector skipped: breaker open, busy). */
export interface ConnectorAttemptRecord {
  connectorId: string;
  attempt: number;
  latencyMs: number;
  outcome: 'approved' | 'declined' | 'failed' | 'skipped';
  code: string | null;
  retryable: boolean | null;
  reference: string | null;
}

/** What the executor feeds back into the process once a call ended (or every route failed). */
export interface ConnectorCallCompletedData {
  callId: string;
  operation: ConnectorCallOperation;
  refundId?: string;
  /** The connector that gave `result`; null when none answered finally. */
  connectorId: string | null;
  result: ConnectorCallResult;
  attempts: ConnectorAttemptRecord[];
}

/**
 * An attempt as recorded on the payment stream (internal events, never published): the connector
 * answered (`ConnectorAttemptSucceeded`: approved or declined) or did not (`ConnectorAttemptFailed`:
 * failed or skipped).
 */
export interface ConnectorAttemptData extends ConnectorAttemptRecord {
  paymentId: string;
  callId: string;
  operation: ConnectorCallOperation;
  refundId?: string;
}

/** Where a payment's authorization lives at its provider, once a connector approved it. */
export interface ConnectorAuthorization {
  connectorId: string;
  reference: string;
}

/** The rail of a payment that goes through a connector; undefined for the wallet (and for old card payments without card data). */
export function externalRailOf(payment: PaymentRequestedData): ExternalRail | undefined {
  return connectorSourceOf(payment)?.rail;
}

/** The source of an external-rail payment, from the fields its method requires. */
export function connectorSourceOf(payment: PaymentRequestedData): ConnectorSourceData | undefined {
  switch (payment.method) {
    case 'card':
      return payment.card ? { rail: 'card', token: payment.card.token } : undefined;
    case 'e_wallet':
      return payment.eWallet ? { rail: 'e_wallet', walletId: payment.eWallet.walletId } : undefined;
    case 'mobile_money':
      return payment.mobileMoney ? { rail: 'mobile_money', phoneNumber: payment.mobileMoney.phoneNumber } : undefined;
    case 'wallet':
      return undefined;
    default: {
      const unreachable: never = payment.method;
      return unreachable;
    }
  }
}

/** The id (and idempotency key) of a connector call: one per payment, operation and subject (hold, command or refund id). */
export function connectorCallId(paymentId: string, operation: ConnectorCallOperation, subject: string): string {
  return deriveMessageId(paymentId, `connector:${operation}:${subject}`);
}

/**
 * The ledger account that stands for what a connector's scheme owes us in a currency (kind
 * `settlement`, negative balance allowed): captures debit it, refunds credit it.
 */
export function clearingAccountId(connectorId: string, currency: string): string {
  return `clearing-${connectorId}-${currency}`;
}

/** The ledger transfer that books an external capture (clearing -> merchant): one per payment. */
export function captureTransferId(paymentId: string, holdId: string): string {
  return deriveMessageId(paymentId, `capture-transfer:${holdId}`);
}

/** A provider's code as part of a reason code: identifier characters only, bounded (the contracts' identifier pattern). */
export function connectorReasonCode(prefix: 'connector_declined' | 'connector_failed', code: string): string {
  const safe = code.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64 - prefix.length - 1);
  return `${prefix}:${safe || 'unknown'}`;
}

/** The payment's reason for a connector's final answer other than an approval. */
export function connectorRefusalReason(result: Exclude<ConnectorCallResult, { outcome: 'approved' }>): string {
  if (result.outcome === 'declined') return connectorReasonCode('connector_declined', result.code);
  // Every connector of the route down, open or out of budget: the rail is unavailable, whatever the last code.
  return result.retryable ? 'connector_unavailable' : connectorReasonCode('connector_failed', result.code);
}

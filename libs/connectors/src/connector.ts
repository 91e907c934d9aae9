// The one interface every external rail (card acquirer, e-wallet, mobile money operator) is called
// through, and the answers it may give. Adapters translate a provider's protocol into these types;
// the resilience layer (retries, breaker, routing) and the payments service only ever see these.
import type { Money } from '@clearline/money';
import type { SecretString } from '@clearline/cards';

/** The external rails; the same names as the payment methods in @clearline/contracts, minus `wallet` (our own ledger). */
export const CONNECTOR_RAILS = ['card', 'e_wallet', 'mobile_money'] as const;
export type ConnectorRail = (typeof CONNECTOR_RAILS)[number];

export const CONNECTOR_OPERATIONS = ['authorize', 'capture', 'void', 'refund'] as const;
export type ConnectorOperation = (typeof CONNECTOR_OPERATIONS)[number];

/**
 * Where an authorization takes the money from. A card travels only as a vault token: the adapter
 * detokenizes it at the last moment, so the PAN never crosses the payments service. The CVV may be
 * passed through to authorize (wrapped so it cannot be logged or serialised) and is never stored.
 */
export type PaymentSource =
  | { readonly rail: 'card'; readonly token: string; readonly cvv?: SecretString }
  | { readonly rail: 'e_wallet'; readonly walletId: string }
  | { readonly rail: 'mobile_money'; readonly msisdn: string };

/**
 * Every request carries the caller's idempotency key: the same key with the same body gets the
 * same answer, however often it is sent, so a retry after a timeout cannot authorize or capture twice.
 */
export interface AuthorizeRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly amount: Money;
  readonly source: PaymentSource;
}

/** Captures `amount` (at most what is still authorized) of an earlier authorization. */
export interface CaptureRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly authorizationReference: string;
  readonly amount: Money;
}

/** Releases what is left of an authorization that was not captured. */
export interface VoidRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly authorizationReference: string;
}

/** Returns `amount` (at most what was captured and not yet refunded) of an authorization's captures. */
export interface RefundRequest {
  readonly idempotencyKey: string;
  readonly paymentId: string;
  readonly authorizationReference: string;
  readonly amount: Money;
}

export interface ConnectorRequests {
  authorize: AuthorizeRequest;
  capture: CaptureRequest;
  void: VoidRequest;
  refund: RefundRequest;
}

/**
 * A connector's answer. `declined` is final (the provider looked and said no: retrying or routing
 * elsewhere will not change it); `failed` says whether trying again may help (a timeout, an outage)
 * or not (a malformed request, an idempotency key reused with another body).
 */
export type ConnectorResult =
  | { readonly outcome: 'approved'; readonly reference: string }
  | { readonly outcome: 'declined'; readonly code: string }
  | { readonly outcome: 'failed'; readonly retryable: boolean; readonly code: string };

/** Per call: the signal aborts when the attempt times out, so an adapter can stop waiting on the network. */
export interface ConnectorCallOptions {
  readonly signal: AbortSignal;
}

export interface Connector {
  /** Stable id, used in routes, breaker metrics, attempt events and the clearing account name. */
  readonly id: string;
  readonly rail: ConnectorRail;
  authorize(request: AuthorizeRequest, options: ConnectorCallOptions): Promise<ConnectorResult>;
  capture(request: CaptureRequest, options: ConnectorCallOptions): Promise<ConnectorResult>;
  void(request: VoidRequest, options: ConnectorCallOptions): Promise<ConnectorResult>;
  refund(request: RefundRequest, options: ConnectorCallOptions): Promise<ConnectorResult>;
}

/**
 * Codes produced by this library itself (as opposed to a provider's decline codes). The payments
 * service maps them to its stable reason codes (`connector_timeout`, `connector_unavailable`).
 */
export const ConnectorFailureCodes = {
  /** The attempt did not answer within its timeout; the provider may or may not have acted on it. */
  timeout: 'connector_timeout',
  /** The adapter threw instead of answering: treated as an unknown outcome, retryable. */
  adapterError: 'connector_error',
  /** The connector's breaker is open (or its half-open probes are taken): it was not called. */
  circuitOpen: 'circuit_open',
  /** The connector already has its maximum of calls in flight: it was not called. */
  saturated: 'connector_busy',
  /** Every connector of the route failed retryably, was open, or the time budget ran out. */
  unavailable: 'connector_unavailable',
  /** No connector is configured for the rail, or the named connector does not exist. */
  noRoute: 'no_route',
  /** The caller aborted the call (shutdown) before an answer. */
  aborted: 'aborted',
} as const;

export function approved(reference: string): ConnectorResult {
  return { outcome: 'approved', reference };
}

export function declined(code: string): ConnectorResult {
  return { outcome: 'declined', code };
}

export function failed(code: string, retryable: boolean): ConnectorResult {
  return { outcome: 'failed', retryable, code };
}

/** Calls the connector method named by `operation`, keeping the request type tied to the operation. */
export function invokeConnector<O extends ConnectorOperation>(
  connector: Connector,
  operation: O,
  request: ConnectorRequests[O],
  options: ConnectorCallOptions,
): Promise<ConnectorResult> {
  // The casts are sound: `operation` and `request` are tied together by the generic signature.
  switch (operation) {
    case 'authorize':
      return connector.authorize(request as AuthorizeRequest, options);
    case 'capture':
      return connector.capture(request as CaptureRequest, options);
    case 'void':
      return connector.void(request as VoidRequest, options);
    case 'refund':
      return connector.refund(request as RefundRequest, options);
    default: {
      const unreachable: never = operation;
      throw new Error(`unknown connector operation ${String(unreachable)}`);
    }
  }
}

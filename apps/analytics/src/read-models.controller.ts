import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { POSTGRES_POOL, ProblemException } from '@clearline/service-runtime';
import type { Request } from 'express';
import type { Pool, QueryResultRow } from 'pg';
import { conditions, decodeCursor, encodeCursor, filtersOf, problem, text, whereClause, type Query } from './insights.controller.js';
import { parseInstant, parseLimit } from './query-parameters.js';

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The statuses of read model 'payments' (migration 0004): the aggregate's, and settled. */
export const PAYMENT_STATUSES = [
  'requested', 'in_review', 'authorizing', 'authorized', 'capturing', 'captured', 'settled', 'voiding', 'voided', 'expired', 'declined', 'failed',
  'refunding', 'partially_refunded', 'refunded',
] as const;

export interface PaymentView {
  paymentId: string;
  status: string;
  channel: string;
  method: string;
  merchantId: string;
  merchantAccountId: string;
  payerAccountId: string;
  amount: { amountMinor: string; currency: string };
  risk: { score: number; decision: string; reasons: string[] } | null;
  decline: { stage: string; reasonCode: string } | null;
  captureMode: string;
  /** Integer minor units of `amount.currency`, as strings: what the ledger held, posted and gave back. */
  authorizedMinor: string | null;
  capturedMinor: string | null;
  refundedMinor: string;
  /** Refunds accepted and not yet answered by the ledger. */
  pendingRefundMinor: string;
  refundCount: number;
  /** Manual review: what a timeout applies, the decision and who made it (an analyst, or review_timeout). */
  review: { timeoutOutcome: string | null; decision: string | null; reviewedBy: string | null; startedAt: string | null; reviewedAt: string | null } | null;
  failureReason: string | null;
  expiryReason: string | null;
  /** The latest refund the ledger refused (the payment stays captured). */
  refundFailureReason: string | null;
  holdId: string | null;
  settlementBatchId: string | null;
  requestedAt: string;
  authorizationStartedAt: string | null;
  authorizedAt: string | null;
  /** The first decision the channel hears: authorized, declined or failed. */
  decidedAt: string | null;
  captureStartedAt: string | null;
  capturedAt: string | null;
  voidStartedAt: string | null;
  voidedAt: string | null;
  expiredAt: string | null;
  refundStartedAt: string | null;
  refundedAt: string | null;
  settledAt: string | null;
  /** When the payment reached a final status (declined, failed, voided, expired, refunded). */
  endedAt: string | null;
  updatedAt: string;
}

/** Read-only queries over the read models; amounts leave as strings of minor units, never floats. */
@Controller()
export class ReadModelsController {
  constructor(@Inject(POSTGRES_POOL) private readonly pool: Pool) {}

  /**
   * Payments newest first (requested_at, then payment_id, both descending), with keyset paging; also the
   * analysts' review queue (status=in_review). The gateway lets a channel ask only with one of its own
   * merchantAccountId / payerAccountId. from (inclusive) and to (exclusive) bound requested_at.
   */
  @Get('payments')
  async payments(@Req() request: Request): Promise<{ items: PaymentView[]; nextCursor: string | null }> {
    const query = request.query as Query;
    const filters = filtersOf(query);
    if (filters.currency !== undefined) throw problem('currency', 'payments are not filtered by currency: filter by status, merchantId, merchantAccountId, payerAccountId, channel, from / to');
    const limit = parseLimit(query['limit']);
    const parameters: unknown[] = [];
    const where = conditions(filters, 'requested_at', parameters);
    const add = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      parameters.push(value);
      where.push(`${column} = $${parameters.length}`);
    };
    add('status', text(query, 'status', new RegExp(`^(${PAYMENT_STATUSES.join('|')})$`)));
    add('merchant_account_id', text(query, 'merchantAccountId', IDENTIFIER));
    add('payer_account_id', text(query, 'payerAccountId', IDENTIFIER));
    const cursor = paymentCursor(query);
    if (cursor !== undefined) {
      parameters.push(cursor.requestedAt, cursor.paymentId);
      where.push(`(requested_at, payment_id) < ($${parameters.length - 1}::timestamptz, $${parameters.length}::uuid)`);
    }
    parameters.push(limit + 1);
    // The cursor keeps requested_at to the microsecond: a Date (milliseconds) could skip a row.
    const { rows } = await this.pool.query(
      `select *, to_char(requested_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as requested_at_key
       from analytics.payments ${whereClause(where)} order by requested_at desc, payment_id desc limit $${parameters.length}`,
      parameters,
    );
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { items: rows.slice(0, limit).map(paymentView), nextCursor: last === undefined ? null : encodeCursor([last.requested_at_key, last.payment_id]) };
  }

  @Get('payments/:paymentId')
  async payment(@Param('paymentId') paymentId: string): Promise<PaymentView> {
    if (!UUID.test(paymentId)) throw new ProblemException(400, 'invalid-payment-id', 'Invalid payment id', `'${paymentId}' is not a uuid`);
    const { rows } = await this.pool.query('select * from analytics.payments where payment_id = $1', [paymentId]);
    const row = rows[0];
    if (!row) throw new ProblemException(404, 'payment-not-found', 'Payment not found', `no payment ${paymentId} (it may still be on its way: retry shortly)`);
    return paymentView(row);
  }

  @Get('accounts/:accountId')
  async account(@Param('accountId') accountId: string): Promise<Record<string, unknown>> {
    if (!IDENTIFIER.test(accountId)) throw new ProblemException(400, 'invalid-account-id', 'Invalid account id', `'${accountId}' is not a valid account id`);
    const { rows } = await this.pool.query('select * from analytics.account_balances where account_id = $1', [accountId]);
    const row = rows[0];
    if (!row) throw new ProblemException(404, 'account-not-found', 'Account not found', `no account ${accountId}`);
    const posted = BigInt(row.posted_minor);
    const pending = BigInt(row.pending_minor);
    return {
      accountId: row.account_id,
      ownerId: row.owner_id,
      kind: row.kind,
      currency: row.currency,
      status: row.status,
      balances: { postedMinor: posted.toString(), pendingMinor: pending.toString(), availableMinor: (posted - pending).toString() },
      openedAt: iso(row.opened_at),
      updatedAt: iso(row.updated_at),
    };
  }

  /** One settlement batch (the same fields as an item of GET /analytics/settlement-batches, and the payout's reason code). */
  @Get('settlement-batches/:batchId')
  async settlementBatch(@Param('batchId') batchId: string): Promise<Record<string, unknown>> {
    if (!UUID.test(batchId)) throw new ProblemException(400, 'invalid-settlement-batch-id', 'Invalid settlement batch id', 'The settlement batch id must be a uuid.');
    const { rows } = await this.pool.query('select * from analytics.settlement_batches where batch_id = $1', [batchId]);
    const row = rows[0];
    if (!row) throw new ProblemException(404, 'settlement-batch-not-found', 'Settlement batch not found', `no settlement batch ${batchId}`);
    return {
      batchId: row.batch_id, merchantId: row.merchant_id, merchantAccountId: row.merchant_account_id, currency: row.currency, batchNo: row.batch_no, status: row.status,
      openedAt: iso(row.opened_at), closedAt: iso(row.closed_at), closeReason: row.close_reason,
      paymentCount: row.payment_count, refundCount: row.refund_count, grossMinor: row.gross_minor, refundsMinor: row.refunds_minor,
      feesMinor: row.fees_minor, carriedInMinor: row.carried_in_minor, netMinor: row.net_minor, carriedForwardMinor: row.carried_forward_minor,
      payoutStatus: row.payout_status, payoutReasonCode: row.payout_reason_code,
    };
  }
}

/** A row of analytics.payments as GET /payments/:paymentId and the items of GET /payments show it. */
function paymentView(row: QueryResultRow): PaymentView {
  return {
    paymentId: row.payment_id,
    status: row.status,
    channel: row.channel,
    method: row.method,
    merchantId: row.merchant_id,
    merchantAccountId: row.merchant_account_id,
    payerAccountId: row.payer_account_id,
    amount: { amountMinor: row.amount_minor, currency: row.currency },
    risk: row.risk_score === null ? null : { score: row.risk_score, decision: row.risk_decision, reasons: row.risk_reasons },
    decline: row.decline_stage === null ? null : { stage: row.decline_stage, reasonCode: row.decline_reason },
    captureMode: row.capture_mode,
    authorizedMinor: row.authorized_minor,
    capturedMinor: row.captured_minor,
    refundedMinor: row.refunded_minor,
    pendingRefundMinor: row.pending_refund_minor,
    refundCount: row.refund_count,
    review: row.review_started_at === null && row.review_decision === null ? null : {
      timeoutOutcome: row.review_timeout_outcome, decision: row.review_decision, reviewedBy: row.reviewed_by,
      startedAt: iso(row.review_started_at), reviewedAt: iso(row.reviewed_at),
    },
    failureReason: row.failure_reason,
    expiryReason: row.expiry_reason,
    refundFailureReason: row.refund_failure_reason,
    holdId: row.hold_id,
    settlementBatchId: row.settlement_batch_id,
    requestedAt: iso(row.requested_at)!,
    authorizationStartedAt: iso(row.authorization_started_at),
    authorizedAt: iso(row.authorized_at),
    decidedAt: iso(row.decided_at),
    captureStartedAt: iso(row.capture_started_at),
    capturedAt: iso(row.captured_at),
    voidStartedAt: iso(row.void_started_at),
    voidedAt: iso(row.voided_at),
    expiredAt: iso(row.expired_at),
    refundStartedAt: iso(row.refund_started_at),
    refundedAt: iso(row.refunded_at),
    settledAt: iso(row.settled_at),
    endedAt: iso(row.ended_at),
    updatedAt: iso(row.updated_at)!,
  };
}

/** The last row of the previous page: its requested_at (RFC 3339, microseconds) and payment id, both checked before PostgreSQL sees them. */
function paymentCursor(query: Query): { requestedAt: string; paymentId: string } | undefined {
  const key = decodeCursor(query, 2);
  if (key === undefined) return undefined;
  const [requestedAt, paymentId] = key as [string, string];
  let instant: string | undefined;
  try {
    instant = parseInstant('cursor', requestedAt);
  } catch {
    instant = undefined;
  }
  if (instant === undefined || !UUID.test(paymentId)) throw problem('cursor', "cursor must be a value from a previous page's nextCursor, with the same parameters");
  return { requestedAt: instant, paymentId };
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

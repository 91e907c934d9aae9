import { Controller, Get, Inject, Param } from '@nestjs/common';
import { POSTGRES_POOL, ProblemException } from '@clearline/service-runtime';
import type { Pool } from 'pg';

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

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
  holdId: string | null;
  requestedAt: string;
  authorizedAt: string | null;
  capturedAt: string | null;
  settledAt: string | null;
  updatedAt: string;
}

/** Read-only queries over the read models; amounts leave as strings of minor units, never floats. */
@Controller()
export class ReadModelsController {
  constructor(@Inject(POSTGRES_POOL) private readonly pool: Pool) {}

  @Get('payments/:paymentId')
  async payment(@Param('paymentId') paymentId: string): Promise<PaymentView> {
    if (!UUID.test(paymentId)) throw new ProblemException(400, 'invalid-payment-id', 'Invalid payment id', `'${paymentId}' is not a uuid`);
    const { rows } = await this.pool.query('select * from analytics.payments where payment_id = $1', [paymentId]);
    const row = rows[0];
    if (!row) throw new ProblemException(404, 'payment-not-found', 'Payment not found', `no payment ${paymentId} (it may still be on its way: retry shortly)`);
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
      holdId: row.hold_id,
      requestedAt: iso(row.requested_at)!,
      authorizedAt: iso(row.authorized_at),
      capturedAt: iso(row.captured_at),
      settledAt: iso(row.settled_at),
      updatedAt: iso(row.updated_at)!,
    };
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

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

import type {
  PaymentAuthorizedData, PaymentDeclinedData, PaymentRequestedData, RiskAssessedData,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { projectAccountEvent, projectTransferEvent } from './ledger-projection.js';

/**
 * The event categories the read models are built from. `settlement` (payments' batch streams) brings
 * PaymentSettled v2, published when a payment's settlement batch closes.
 */
export const PROJECTED_CATEGORIES = ['payment', 'risk', 'account', 'transfer', 'settlement'];

/**
 * Applies one event to the read models, inside the subscription's transaction (the checkpoint
 * commits with it, so every event counts exactly once). Unknown types are ignored: a read model
 * takes what it needs from the store, and new event types must not break old projections.
 */
export async function projectEvent(event: RecordedEvent, client: PoolClient): Promise<void> {
  // The ledger's streams have their own projection (ledger-projection.ts).
  if (event.category === 'account') return projectAccountEvent(event, client);
  if (event.category === 'transfer') return projectTransferEvent(event, client);
  const at = event.recordedAt;
  const position = event.globalPosition.toString();
  switch (event.type) {
    case 'PaymentRequested': {
      const data = event.data as PaymentRequestedData;
      await client.query(
        `insert into analytics.payments (payment_id, status, channel, method, merchant_id, merchant_account_id, payer_account_id,
           amount_minor, currency, requested_at, updated_at, last_position,
           risk_score, risk_decision, risk_reasons)
         select $1, 'requested', $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, r.score, r.decision, r.reasons
         from (select 1) one left join analytics.risk_assessments r on r.payment_id = $1
         on conflict (payment_id) do nothing`,
        [data.paymentId, data.channel, data.method, data.merchantId, data.merchantAccountId, data.payerAccountId,
          data.amount.amountMinor, data.amount.currency, data.requestedAt, position],
      );
      return;
    }
    case 'RiskAssessed': {
      const data = event.data as RiskAssessedData;
      await client.query(
        `insert into analytics.risk_assessments (payment_id, score, decision, reasons, assessed_at) values ($1, $2, $3, $4, $5)
         on conflict (payment_id) do nothing`,
        [data.paymentId, data.score, data.decision, data.reasons, at],
      );
      await client.query(
        'update analytics.payments set risk_score = $2, risk_decision = $3, risk_reasons = $4 where payment_id = $1',
        [data.paymentId, data.score, data.decision, data.reasons],
      );
      return;
    }
    case 'PaymentAuthorizationStarted':
      return setStatus(client, event, 'authorizing');
    case 'PaymentInReview':
      return setStatus(client, event, 'in_review');
    case 'PaymentDeclined': {
      const data = event.data as PaymentDeclinedData;
      await client.query(
        `update analytics.payments set status = 'declined', decline_stage = $2, decline_reason = $3, updated_at = $4, last_position = $5 where payment_id = $1`,
        [data.paymentId, data.stage, data.reasonCode, at, position],
      );
      return;
    }
    case 'PaymentAuthorized': {
      const data = event.data as PaymentAuthorizedData;
      await client.query(
        `update analytics.payments set status = 'authorized', hold_id = $2, authorized_at = $3, updated_at = $3, last_position = $4 where payment_id = $1`,
        [data.paymentId, data.holdId, at, position],
      );
      return;
    }
    case 'PaymentCaptured':
      return setStatus(client, event, 'captured', 'captured_at');
    case 'PaymentSettled':
      // Version 2 on the settlement batch streams (settledAt: the batch's close); version 1 on old
      // payment streams (a batch of one per capture). Both name the payment; the time is when it was recorded.
      return setStatus(client, event, 'settled', 'settled_at');
    default:
      return;
  }
}

async function setStatus(client: PoolClient, event: RecordedEvent, status: string, timeColumn?: 'captured_at' | 'settled_at'): Promise<void> {
  const paymentId = (event.data as { paymentId: string }).paymentId;
  const setTime = timeColumn ? `, ${timeColumn} = $3` : '';
  await client.query(
    `update analytics.payments set status = $2, updated_at = $3, last_position = $4${setTime} where payment_id = $1`,
    [paymentId, status, event.recordedAt, event.globalPosition.toString()],
  );
}

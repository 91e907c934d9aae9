import type {
  OpenAccountData, PaymentAuthorizedData, PaymentDeclinedData, PaymentRequestedData, RiskAssessedData,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';

/** The event categories the read models are built from. */
export const PROJECTED_CATEGORIES = ['payment', 'risk', 'account'];

/**
 * Applies one event to the read models, inside the subscription's transaction (the checkpoint
 * commits with it, so every event counts exactly once). Unknown types are ignored: a read model
 * takes what it needs from the store, and new event types must not break old projections.
 */
export async function projectEvent(event: RecordedEvent, client: PoolClient): Promise<void> {
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
      return setStatus(client, event, 'settled', 'settled_at');
    case 'AccountOpened': {
      const data = event.data as OpenAccountData;
      await client.query(
        `insert into analytics.account_balances (account_id, owner_id, kind, currency, opened_at, updated_at) values ($1, $2, $3, $4, $5, $5)
         on conflict (account_id) do nothing`,
        [data.accountId, data.ownerId, data.kind, data.currency, at],
      );
      return;
    }
    case 'AccountDebited':
      return changeBalance(client, event, { posted: -1, pending: 0 });
    case 'AccountCredited':
      return changeBalance(client, event, { posted: 1, pending: 0 });
    case 'AccountFundsHeld':
      return changeBalance(client, event, { posted: 0, pending: 1 });
    case 'AccountHoldCaptured':
      // Posts the captured amount out of the hold; the rest of a partial capture comes as AccountHoldReleased.
      return changeBalance(client, event, { posted: -1, pending: -1 });
    case 'AccountHoldReleased':
      return changeBalance(client, event, { posted: 0, pending: -1 });
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

type Direction = -1 | 0 | 1;

/** Balance changes from the account streams' own events: each balance moves by the amount times its direction. */
async function changeBalance(client: PoolClient, event: RecordedEvent, directions: { posted: Direction; pending: Direction }): Promise<void> {
  const amountMinor = (event.data as { amountMinor: string }).amountMinor;
  const accountId = event.streamId.slice('account-'.length);
  await client.query(
    `update analytics.account_balances
       set posted_minor = posted_minor + $2::numeric * $3, pending_minor = pending_minor + $2::numeric * $4, updated_at = $5
     where account_id = $1`,
    [accountId, amountMinor, directions.posted, directions.pending, event.recordedAt],
  );
}

-- The core read models move from the per-event projection ('analytics:read-models:v2', retired) to
-- the catalog's batched, rebuildable read models (read-model-catalog.ts), each under a subscription
-- of its own that has no checkpoint yet, so the service (or `npm run analytics:rebuild <name>`)
-- backfills them from the start of the event store. Replaying into the old rows would count every
-- balance change twice, so their tables start empty.

-- Read model 'ledger' ('analytics:ledger:v1'): the tables of 0001/0002, unchanged in shape.
truncate analytics.account_balances, analytics.account_entries, analytics.transfers;

-- Read model 'payments' (docs/analytics.md): one row per payment that follows its whole lifecycle,
-- with the payment aggregate's status (libs/payments-domain evolvePayment), the captured and refunded
-- amounts, the time of every step, decline / failure reasons and who reviewed it ('analytics:payments:v1').
-- The old rows lack what only a replay can fill, so the tables are dropped and created anew.
-- Every column is derived from events; times are the events' recorded times (requested_at: the
-- request's own time, as before), so a replay writes the same bytes.
drop table if exists analytics.payments;
drop table if exists analytics.risk_assessments;

create table analytics.payments (
  payment_id              uuid primary key,
  -- The aggregate's status: requested, in_review, authorizing, authorized, capturing, captured, voiding,
  -- voided, expired, declined, failed, refunding, partially_refunded, refunded; except that a payment
  -- whose status is captured and whose settlement batch has closed shows settled.
  status                  text not null,
  channel                 text not null,
  method                  text not null,
  merchant_id             text not null,
  merchant_account_id     text not null,
  payer_account_id        text not null,
  capture_mode            text not null,
  -- Integer minor units of `currency`.
  amount_minor            numeric(38, 0) not null,
  currency                char(3) not null,
  authorized_minor        numeric(38, 0),
  captured_minor          numeric(38, 0),
  refunded_minor          numeric(38, 0) not null,
  -- Refunds accepted and not yet answered by the ledger (status refunding while above zero).
  pending_refund_minor    numeric(38, 0) not null,
  refund_count            integer not null,
  risk_score              smallint,
  risk_decision           text,
  risk_reasons            jsonb,
  -- Manual review: the outcome a timeout applies, the decision and who made it (an analyst's id, or
  -- review_timeout when no analyst decided in time).
  review_timeout_outcome  text,
  review_decision         text,
  reviewed_by             text,
  decline_stage           text,
  decline_reason          text,
  -- PaymentFailed's reason (ledger_timeout, connector_timeout, a refused sale capture ...).
  failure_reason          text,
  -- PaymentExpired's reason (authorization_expired).
  expiry_reason           text,
  -- The latest RefundFailed's reason (the payment stays captured).
  refund_failure_reason   text,
  hold_id                 uuid,
  settlement_batch_id     uuid,
  requested_at            timestamptz not null,
  review_started_at       timestamptz,
  reviewed_at             timestamptz,
  authorization_started_at timestamptz,
  authorized_at           timestamptz,
  -- The first decision the channel hears: authorized, declined or failed.
  decided_at              timestamptz,
  -- The latest capture accepted (a refused one may be followed by another).
  capture_started_at      timestamptz,
  captured_at             timestamptz,
  void_started_at         timestamptz,
  voided_at               timestamptz,
  expired_at              timestamptz,
  -- The first refund accepted, and the latest refund the ledger posted.
  refund_started_at       timestamptz,
  refunded_at             timestamptz,
  settled_at              timestamptz,
  -- When the payment reached a final status: declined, failed, voided, expired or refunded.
  ended_at                timestamptz,
  updated_at              timestamptz not null,
  last_position           bigint not null,
  -- The capture and void the payment waits for: a refusal of exactly that command gives it back its
  -- authorization, as in evolvePayment (not for analysts).
  capture_command_id      text,
  void_command_id         text
);
create index payments_merchant_requested on analytics.payments (merchant_id, requested_at);
create index payments_status on analytics.payments (status);

-- Risk may answer before the payment's own events reach this read model (another stream); the
-- assessment waits here until its payment row exists.
create table analytics.risk_assessments (
  payment_id    uuid primary key,
  score         smallint not null,
  decision      text not null,
  reasons       jsonb not null,
  assessed_at   timestamptz not null
);

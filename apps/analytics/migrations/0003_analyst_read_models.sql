-- Read models for analysts (docs/analytics.md): the seed's P(t) and R(t) per time bucket, outcome
-- rates, decline reasons, the risk score distribution, end-to-end latency and settlement batches.
-- Each belongs to one read model of read-model-catalog.ts with its own catch-up subscription, so any
-- one of them can be rebuilt (npm run analytics:rebuild) or added later and backfilled from the start
-- of the event store without touching the others. Every column is derived from events; times are the
-- events' recorded times, never the projection's clock, so a replay writes the same bytes.

-- Read model 'payment-flow' -------------------------------------------------------------------------

-- One row per payment: what the flow needs to attribute later events (channel, merchant, currency)
-- and its end-to-end latency. result_* is the first decision the channel hears (approved, declined,
-- failed); completed_* the terminal event (the capture of a sale, the authorization of a manual
-- capture, a decline or a failure).
create table analytics.payment_outcomes (
  payment_id        uuid primary key,
  channel           text not null,
  merchant_id       text not null,
  currency          char(3) not null,
  capture_mode      text not null,
  amount_minor      numeric(38, 0) not null,
  requested_at      timestamptz not null,
  reviewed          boolean not null,
  outcome           text,
  result_at         timestamptz,
  completed_at      timestamptz,
  latency_ms        integer
);
create index payment_outcomes_completed on analytics.payment_outcomes (completed_at) where completed_at is not null;

-- P(t) and R(t): per bucket (minute, hour, day, by the event's recorded time) and channel, merchant,
-- currency. requests counts PaymentRequested in the bucket (P); approved + declined + failed counts
-- the decisions returned in the bucket (R), each by outcome; in_review counts payments sent to manual
-- review in the bucket (an interim answer, not part of R).
create table analytics.payment_flow (
  granularity        text not null check (granularity in ('minute', 'hour', 'day')),
  bucket_start       timestamptz not null,
  channel            text not null,
  merchant_id        text not null,
  currency           char(3) not null,
  requests           bigint not null,
  requested_minor    numeric(38, 0) not null,
  approved           bigint not null,
  approved_minor     numeric(38, 0) not null,
  declined           bigint not null,
  failed             bigint not null,
  in_review          bigint not null,
  primary key (granularity, bucket_start, channel, merchant_id, currency)
);

-- Declines per day (of the decline) by dimension, stage and reason code.
create table analytics.decline_reasons (
  day           date not null,
  channel       text not null,
  merchant_id   text not null,
  currency      char(3) not null,
  stage         text not null,
  reason_code   text not null,
  declines      bigint not null,
  primary key (day, channel, merchant_id, currency, stage, reason_code)
);

-- Risk assessments per day (of the assessment), decision and exact score (0..100): any histogram
-- bucketing is a query away. RiskAssessed names no merchant or channel, so neither is a dimension.
create table analytics.risk_score_distribution (
  day           date not null,
  decision      text not null,
  score         smallint not null,
  assessments   bigint not null,
  primary key (day, decision, score)
);

-- Read model 'settlement-batches' ------------------------------------------------------------------

-- One row per settlement batch (stream settlement-<merchantId>-<currency>-<batchNo>): running totals
-- while open, the published totals once closed, and the ledger's answer to the payout.
create table analytics.settlement_batches (
  batch_id               uuid primary key,
  merchant_id            text not null,
  currency               char(3) not null,
  batch_no               integer not null,
  merchant_account_id    text not null,
  status                 text not null check (status in ('open', 'closed')),
  opened_at              timestamptz not null,
  closed_at              timestamptz,
  close_reason           text,
  payment_count          integer not null,
  refund_count           integer not null,
  gross_minor            numeric(38, 0) not null,
  refunds_minor          numeric(38, 0) not null,
  fees_minor             numeric(38, 0) not null,
  carried_in_minor       numeric(38, 0) not null,
  net_minor              numeric(38, 0),
  carried_forward_minor  numeric(38, 0),
  payout_status          text check (payout_status in ('posted', 'rejected')),
  payout_reason_code     text,
  last_position          bigint not null
);
create index settlement_batches_merchant on analytics.settlement_batches (merchant_id, currency, batch_no);
create index settlement_batches_opened on analytics.settlement_batches (opened_at, batch_id);

-- Read-only SQL access for analysts (docs/analytics.md, "SQL"): a role without login that owns
-- nothing and may only read the analytics schema, present and future tables (a rebuild swaps tables
-- in, so the grant must follow new ones). Give it to a login role: grant analytics_reader to alice.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'analytics_reader') then
    create role analytics_reader nologin;
  end if;
end
$$;
grant usage on schema analytics to analytics_reader;
grant select on all tables in schema analytics to analytics_reader;
alter default privileges in schema analytics grant select on tables to analytics_reader;

-- Read models for analysts. Rebuildable at any time from the event store: every column is derived
-- from events (times are the events' recorded times, never the projection's clock).
create schema if not exists analytics;

create table analytics.payments (
  payment_id       uuid primary key,
  status           text not null,
  channel          text not null,
  method           text not null,
  merchant_id      text not null,
  merchant_account_id text not null,
  payer_account_id text not null,
  amount_minor     numeric(38, 0) not null,
  currency         char(3) not null,
  risk_score       smallint,
  risk_decision    text,
  risk_reasons     text[],
  decline_stage    text,
  decline_reason   text,
  hold_id          uuid,
  requested_at     timestamptz not null,
  authorized_at    timestamptz,
  captured_at      timestamptz,
  settled_at       timestamptz,
  updated_at       timestamptz not null,
  last_position    bigint not null
);
create index payments_merchant_requested on analytics.payments (merchant_id, requested_at);
create index payments_status on analytics.payments (status);

-- Risk may answer before the payment's own events reach this projection (another stream); the
-- assessment waits here until its payment row exists.
create table analytics.risk_assessments (
  payment_id    uuid primary key,
  score         smallint not null,
  decision      text not null,
  reasons       text[] not null,
  assessed_at   timestamptz not null
);

create table analytics.account_balances (
  account_id     text primary key,
  owner_id       text not null,
  kind           text not null,
  currency       char(3) not null,
  posted_minor   numeric(38, 0) not null default 0,
  pending_minor  numeric(38, 0) not null default 0,
  opened_at      timestamptz not null,
  updated_at     timestamptz not null
);

-- External rails (docs/payments.md, "Connectors"). The process's connector calls waiting to run: one
-- row per call, written in the transaction that appends the CallConnector record to the payment
-- stream, deleted in the transaction that records the call's result there. A call is leased
-- (`claimed_until`) while an executor runs it; a crash lets the lease run out and another pass runs it
-- again under the same idempotency key (the call id), which the connector answers as the first time.
create table payments.connector_calls (
  call_id          text primary key,
  payment_id       text not null,
  -- The CallConnectorData of libs/payments-domain: a card travels as its vault token only.
  request          jsonb not null,
  -- The correlation id of the request the payment came from, carried by what the result appends.
  correlation_id   text not null,
  created_at       timestamptz not null default now(),
  claimed_until    timestamptz,
  -- Runs started, for the logs and for an operator looking at a call that keeps coming back.
  runs             integer not null default 0
);
create index connector_calls_claimable on payments.connector_calls (claimed_until nulls first, created_at);

-- The connector's wait joins the timers' waits.
alter table payments.timeouts drop constraint timeouts_wait_check;
alter table payments.timeouts add constraint timeouts_wait_check check (wait in ('risk', 'review', 'ledger', 'authorization', 'connector'));

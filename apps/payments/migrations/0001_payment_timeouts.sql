-- The payment process manager's timers: one row per open wait of a payment (risk answer, analyst
-- review, ledger answer, authorization lifetime). Written in the transaction that appends the
-- payment events that start or end a wait, so a timer exists exactly when its wait is open. The
-- scheduler publishes a FirePaymentTimeout for each due row; the process decides on the payment's
-- stream whether the wait is still open, so a row is a reminder, never the truth.
create schema if not exists payments;

create table payments.timeouts (
  payment_id          text not null,
  -- Names the wait within the payment: 'risk', 'review', 'authorization', 'ledger:hold',
  -- 'ledger:capture', 'ledger:void', 'ledger:refund:<refundId>'.
  deadline_id         text not null,
  wait                text not null check (wait in ('risk', 'review', 'ledger', 'authorization')),
  -- Which time this deadline elapses (a ledger command is sent again under the same deadline).
  attempt             integer not null check (attempt between 1 and 100),
  due_at              timestamptz not null,
  -- The correlation id of the request the payment came from, carried by the fired command.
  correlation_id      text not null,
  -- When a scheduler last published this timer; it publishes again only after a quiet interval.
  fire_requested_at   timestamptz,
  primary key (payment_id, deadline_id)
);
create index timeouts_due_at on payments.timeouts (due_at);

-- Which payment a hold belongs to. The ledger's HoldVoided, HoldExpired and reversal outcomes name
-- the hold (a refund reverses the captured hold by its id) but not the payment; this finds the
-- payment stream to load. Written in the transaction that appends PaymentAuthorizationStarted.
create table payments.payment_holds (
  hold_id     text primary key,
  payment_id  text not null
);

-- Settlement batches (docs/payments.md, "Settlement"). The batch streams
-- `settlement-<merchantId>-<currency>-<batchNo>` are the truth; these tables are the indexes the
-- handler needs to find a batch without scanning streams, written in the transaction that appends to
-- the batch stream, so they never disagree with it.

-- Fee schedule and ledger accounts per merchant and currency. merchant_id '*' is the default for
-- every merchant of that currency without a row of its own; a currency with neither falls back to
-- the code's default (DEFAULT_FEE_SCHEDULE in apps/payments). A change applies from the next batch
-- opened: a batch records the schedule in force when it opened. Null account ids mean the naming
-- convention (settlement-<merchantId>-<currency>, fee-revenue-<currency>), opened by payments.
create table payments.settlement_terms (
  merchant_id             text not null,
  currency                char(3) not null check (currency ~ '^[A-Z]{3}$'),
  -- 1 bp = 0.01 %; bounds as in libs/payments-domain fee-schedule.ts (the fixed part's bound depends
  -- on the currency's exponent and is checked by the code when a batch opens).
  percent_basis_points    bigint not null check (percent_basis_points between 0 and 10000),
  fixed_minor             bigint not null check (fixed_minor >= 0),
  settlement_account_id   text,
  fee_revenue_account_id  text,
  updated_at              timestamptz not null default now(),
  primary key (merchant_id, currency)
);

-- Defaults: 2.9 % + 0.25 in the currencies the platform runs today.
insert into payments.settlement_terms (merchant_id, currency, percent_basis_points, fixed_minor) values
  ('*', 'EUR', 290, 25),
  ('*', 'USD', 290, 30),
  ('*', 'GBP', 290, 20);

-- One row per batch. At most one open batch per merchant and currency.
create table payments.settlement_batches (
  batch_id               uuid primary key,
  merchant_id            text not null,
  currency               char(3) not null,
  batch_no               integer not null check (batch_no >= 1),
  status                 text not null check (status in ('open', 'closed')),
  opened_at              timestamptz not null,
  -- When the schedule closes it: the end of the settlement window it opened in.
  due_at                 timestamptz not null,
  closed_at              timestamptz,
  -- What the close left owing (the next batch's carry-in); null while open.
  carried_forward_minor  bigint check (carried_forward_minor >= 0),
  -- The PostLinkedTransfers that pays the batch out (the latest attempt), and how the ledger answered.
  ledger_batch_id        uuid,
  payout_status          text not null default 'none' check (payout_status in ('none', 'pending', 'posted', 'rejected')),
  payout_attempt         integer not null default 0,
  payout_reason          text,
  unique (merchant_id, currency, batch_no)
);
create unique index settlement_batches_one_open on payments.settlement_batches (merchant_id, currency) where status = 'open';
create index settlement_batches_due on payments.settlement_batches (due_at) where status = 'open';
create index settlement_batches_ledger_batch on payments.settlement_batches (ledger_batch_id) where ledger_batch_id is not null;

-- Which batch counted a captured payment or a refund. A repeat (a redelivered PaymentCaptured, even
-- after its batch closed) is routed to that batch, which answers it as done, instead of being
-- counted again in the open batch.
create table payments.settlement_lines (
  line_kind  text not null check (line_kind in ('payment', 'refund')),
  -- The payment id for a payment, the refund id for a refund.
  line_id    text not null,
  batch_id   uuid not null references payments.settlement_batches (batch_id),
  primary key (line_kind, line_id)
);

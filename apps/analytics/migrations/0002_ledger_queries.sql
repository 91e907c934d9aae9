-- Read models for the ledger queries: balances as of a past time or global position, account history,
-- transfers by correlation id. Like 0001, every column is derived from events (times are the events'
-- recorded times, never the projection's clock), so the whole schema can be rebuilt by replay.
--
-- The new tables need every account and transfer event since the beginning, and account_balances gains
-- columns only its own events can fill. So this migration empties the read models, and the projection
-- subscribes under a new id ('analytics:read-models:v2') that starts from the beginning of $all and
-- rebuilds them all. Replaying into the old rows would count every balance change twice.
truncate analytics.payments, analytics.risk_assessments, analytics.account_balances;

alter table analytics.account_balances
  -- open | frozen | closed, from AccountOpened / AccountFrozen / AccountUnfrozen / AccountClosed.
  add column status text not null,
  -- Where AccountOpened sits in $all: a balance "as of" an earlier position is of an account not yet open.
  add column opened_position bigint not null,
  -- The visible_at of the account's latest entry (opened_at before its first): see account_entries.
  add column visible_at timestamptz not null,
  -- The last event applied: an update only ever moves forwards, so applying an event twice is harmless.
  add column last_position bigint not null;

-- One row per balance-changing event of an account stream, with the balances after it.
create table analytics.account_entries (
  account_id            text not null,
  global_position       bigint not null,
  stream_version        bigint not null,
  -- The event's recorded time: the start of the transaction that appended it.
  recorded_at           timestamptz not null,
  -- recorded_at raised to the previous entry's visible_at (opened_at for the first). A writer whose
  -- transaction began earlier may append after a later one, so recorded_at alone can go backwards
  -- along a stream; visible_at never does, which makes "as of time T" always a prefix of the stream:
  -- a balance the account really had.
  visible_at            timestamptz not null,
  event_type            text not null,
  -- AccountDebited / AccountCredited name a transfer (a capture credits under the hold's id); the
  -- hold events name a hold.
  transfer_id           text,
  hold_id               text,
  posted_change_minor   numeric(38, 0) not null,
  pending_change_minor  numeric(38, 0) not null,
  posted_minor          numeric(38, 0) not null,
  pending_minor         numeric(38, 0) not null,
  correlation_id        text,
  primary key (account_id, stream_version),
  constraint account_entries_names_one_reference check ((transfer_id is null) <> (hold_id is null))
);
-- As of a global position, and history pages (keyset on the position, newest first). Along a stream
-- positions increase with versions, so both walk this index backwards from a bound.
create unique index account_entries_by_position on analytics.account_entries (account_id, global_position);
-- As of a time: visible_at never decreases along a stream.
create index account_entries_by_time on analytics.account_entries (account_id, visible_at, global_position);
-- Everything one request (correlation id) changed.
create index account_entries_by_correlation on analytics.account_entries (correlation_id, global_position) where correlation_id is not null;

-- One row per transfer-<id> stream: the first outcome owns the id (the ledger appends no second one);
-- TransferReversalApplied markers add up in reversed_minor.
create table analytics.transfers (
  transfer_id           text primary key,
  -- TransferPosted, TransferRejected, LinkedTransfersPosted, LinkedTransfersRejected, CurrencyExchanged,
  -- CurrencyExchangeRejected, TransferReversed, TransferReversalRejected.
  outcome               text not null,
  status                text not null check (status in ('posted', 'rejected')),
  reason_code           text,
  debit_account_id      text,
  credit_account_id     text,
  amount_minor          numeric(38, 0),
  currency              char(3),
  -- A currency exchange: what the credited account received.
  target_amount_minor   numeric(38, 0),
  target_currency       char(3),
  -- A reversal: the transfer (or captured hold) it reverses.
  original_transfer_id  text,
  -- A linked batch: its legs' transfer ids, in order (each leg also has its own row).
  leg_transfer_ids      text[],
  reversed_minor        numeric(38, 0) not null default 0,
  correlation_id        text,
  global_position       bigint not null,
  recorded_at           timestamptz not null,
  last_position         bigint not null
);
create index transfers_by_correlation on analytics.transfers (correlation_id, global_position) where correlation_id is not null;

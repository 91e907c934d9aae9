-- The event store: every stream's events, the head of every stream, and subscription checkpoints.
-- :"schema" is the schema it lives in ('event_store' in production, a throw-away one per test file);
-- run through @clearline/postgres migrate() or `psql -v schema=event_store -f`.

create schema if not exists :"schema";

-- One row per event. Ordering for readers of all streams ("$all") is (transaction_id,
-- global_position), never global_position alone: see libs/event-store/README.md for why and for
-- the proof that a reader paging by it can never skip an event that commits late.
create table :"schema".messages (
  -- Taken from a sequence at insert time, so it is unique and increases along every stream, but
  -- positions commit out of order. The sequence must keep CACHE 1 (the default): with a cache,
  -- sessions hand out pre-allocated blocks and positions stop increasing in time.
  global_position bigint generated always as identity (cache 1) primary key,
  -- The transaction this event is released with: the appending transaction's id, raised to the
  -- transaction_id of the stream's previous event when that one is higher, so that it never
  -- decreases along a stream. Readers see an event only once transaction_id is below their
  -- snapshot's xmin, i.e. once no transaction that could still write below it is running.
  transaction_id xid8 not null,
  -- The appending transaction's own id (diagnostics; differs from transaction_id only when raised).
  appended_by_transaction_id xid8 not null default pg_current_xact_id(),
  stream_id text not null,
  -- The first event of a stream is version 0.
  stream_version bigint not null check (stream_version >= 0),
  -- The part of stream_id before the first '-': 'payment' for 'payment-123'.
  category text not null,
  message_id uuid not null unique,
  message_type text not null,
  schema_version int not null default 1 check (schema_version >= 1),
  data jsonb not null,
  metadata jsonb not null default '{}'::jsonb,
  recorded_at timestamptz not null default now(),
  unique (stream_id, stream_version)
);

create index messages_all_order on :"schema".messages (transaction_id, global_position);
create index messages_category_order on :"schema".messages (category, transaction_id, global_position);

-- The head of every stream. Appenders lock its row (select ... for update) to check the expected
-- version and to serialise writers of one stream, without scanning messages.
create table :"schema".streams (
  stream_id text primary key,
  category text not null,
  -- The version of the last event; -1 for a row created by an append that did not complete
  -- (it holds no events and reads as 'no_stream').
  version bigint not null check (version >= -1),
  -- transaction_id of the last event ('0' while the stream is empty).
  last_transaction_id xid8 not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Where each catch-up subscription has got to in $all, written in the same transaction as the
-- subscription handler's own writes.
create table :"schema".subscription_checkpoints (
  subscription_id text primary key,
  transaction_id xid8 not null,
  global_position bigint not null,
  updated_at timestamptz not null default now()
);

-- The gateway's webhooks (docs/webhooks.md): each channel's subscriptions, one delivery per event and
-- matching subscription, and every attempt of every delivery. :"schema" is 'gateway' in production
-- (a throw-away one per integration test run); applied by tools/migrate.mjs.

create schema if not exists :"schema";

create table :"schema".webhook_subscriptions (
  subscription_id uuid primary key,
  -- The authenticated client (channel) that owns it: only it reads, deletes or redelivers it.
  client text not null,
  url text not null check (length(url) <= 2048),
  event_types text[] not null check (cardinality(event_types) between 1 and 64),
  -- The signing secret, AES-256-GCM under the gateway's secrets key with the subscription id as
  -- additional data: a row copied onto another subscription does not decrypt.
  secret_ciphertext text not null,
  -- POST /v1/webhooks is idempotent here rather than in Redis: a replay answers the secret again,
  -- and only ciphertext may rest anywhere.
  idempotency_key text not null,
  request_hash text not null,
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (client, idempotency_key)
);

create index webhook_subscriptions_active_by_client on :"schema".webhook_subscriptions (client, created_at) where deleted_at is null;

create table :"schema".webhook_deliveries (
  delivery_id uuid primary key,
  subscription_id uuid not null references :"schema".webhook_subscriptions (subscription_id),
  event_id uuid not null,
  event_type text not null,
  -- The exact bytes every attempt sends (and signs).
  payload text not null,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  attempt_count int not null default 0 check (attempt_count >= 0),
  -- attempt_count when it was last redelivered by hand: the backoff starts again from there.
  attempts_before_redelivery int not null default 0 check (attempts_before_redelivery between 0 and attempt_count),
  -- When the dispatcher may take it next; while an attempt runs, the end of that attempt's lease.
  next_attempt_at timestamptz,
  -- Retries stop here (24 hours after the event or the last manual redelivery).
  give_up_at timestamptz not null,
  last_status_code int,
  last_error text,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  -- One delivery per event and subscription, however often the event arrives.
  unique (subscription_id, event_id),
  check ((status = 'pending') = (next_attempt_at is not null))
);

create index webhook_deliveries_due on :"schema".webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_by_subscription on :"schema".webhook_deliveries (subscription_id, created_at desc, delivery_id desc);

create table :"schema".webhook_delivery_attempts (
  delivery_id uuid not null references :"schema".webhook_deliveries (delivery_id),
  attempt int not null check (attempt >= 1),
  started_at timestamptz not null,
  duration_ms int not null check (duration_ms >= 0),
  -- The receiver's HTTP status; null when it gave none (timeout, connection refused ...).
  status_code int,
  error text,
  succeeded boolean not null,
  primary key (delivery_id, attempt)
);

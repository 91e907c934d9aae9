-- The inbox: one row per message a consumer group has handled, written in the same transaction as
-- the handler's own writes. A redelivered message finds its row and is skipped, which makes Kafka's
-- at-least-once delivery an exactly-once effect per consumer group.
create schema if not exists messaging;

create table messaging.inbox (
  consumer_group text        not null,
  message_id     uuid        not null,
  message_type   text        not null,
  topic          text        not null,
  partition      integer     not null,
  "offset"       bigint      not null,
  handled_at     timestamptz not null default now(),
  primary key (consumer_group, message_id)
);

-- For pruning rows older than any possible redelivery, oldest first.
create index inbox_handled_at on messaging.inbox (handled_at);

comment on table messaging.inbox is
  'Messages each consumer group has handled (libs/messaging). A row commits with the handler''s writes.';

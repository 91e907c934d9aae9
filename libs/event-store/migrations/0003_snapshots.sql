-- Snapshots: a decider's state as of a stream version, so loading a long-lived stream (a busy
-- account) reads only the events after it. A snapshot is a cache: it can be deleted at any time,
-- and `snapshot_name` carries the state's shape version ("account-v1"), so a new shape ignores old
-- snapshots instead of misreading them.
create table :"schema".snapshots (
  stream_id     text not null,
  snapshot_name text not null,
  stream_version bigint not null check (stream_version >= 0),
  state         jsonb not null,
  taken_at      timestamptz not null default now(),
  primary key (stream_id, snapshot_name)
);

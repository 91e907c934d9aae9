-- Risk's own tables: the analysts' allow and block lists with their audit trail, uploaded rule set
-- versions and which one is live or in shadow, shadow decisions, and fraud labels for backtests.
-- Every risk instance caches the lists and the active rule sets in memory and polls risk.revisions:
-- a change bumps its row in the same transaction, so an instance sees every committed change at its
-- next poll (the row lock also orders concurrent changes, so no change is skipped by a reader).
create schema if not exists risk;

create table risk.revisions (
  name      text primary key check (name in ('lists', 'rule_sets')),
  revision  bigint not null
);
insert into risk.revisions (name, revision) values ('lists', 0), ('rule_sets', 0);

-- One row per value on a list. The reason and who added it stay with the entry.
create table risk.list_entries (
  kind       text not null check (kind in ('allow', 'block')),
  field      text not null check (field in ('payerAccountId', 'cardFingerprint', 'deviceId', 'ipAddress')),
  value      text not null check (length(value) between 1 and 200),
  reason     text not null,
  added_by   text not null,
  added_at   timestamptz not null default now(),
  primary key (kind, field, value)
);

-- The audit trail: every add and remove, who did it, when and why. Never updated or deleted.
create table risk.list_changes (
  change_id   bigserial primary key,
  action      text not null check (action in ('add', 'remove')),
  kind        text not null,
  field       text not null,
  value       text not null,
  reason      text not null,
  actor       text not null,
  changed_at  timestamptz not null default now()
);

-- Rule set versions as uploaded (validated before insert); a version is immutable once stored.
create table risk.rule_sets (
  version      text primary key,
  document     jsonb not null,
  uploaded_by  text not null,
  reason       text not null,
  uploaded_at  timestamptz not null default now()
);

-- Which version is live and which runs in shadow, as a history: the latest row per role is in force.
-- A shadow row with a null version switches shadow mode off. Without a live row the file shipped
-- with the service (apps/risk/config/rule-set.json) is live.
create table risk.rule_set_activations (
  activation_id  bigserial primary key,
  role           text not null check (role in ('live', 'shadow')),
  version        text references risk.rule_sets (version),
  activated_by   text not null,
  reason         text not null,
  activated_at   timestamptz not null default now(),
  check (role = 'shadow' or version is not null)
);

-- The candidate's decision on each payment beside the live one; written in the transaction that
-- records the live RiskAssessed, never read by the live path.
create table risk.shadow_decisions (
  payment_id              text primary key,
  merchant_id             text not null,
  live_rule_set_version   text not null,
  live_model_version      text,
  live_decision           text not null,
  live_score              integer not null,
  shadow_rule_set_version text not null,
  shadow_model_version    text,
  shadow_decision         text not null,
  shadow_score            integer not null,
  shadow_reasons          text[] not null,
  decided_at              timestamptz not null default now()
);
create index shadow_decisions_decided_at on risk.shadow_decisions (decided_at);

-- What became known about a payment later (chargebacks, analyst findings), for backtests.
create table risk.fraud_labels (
  payment_id   text primary key,
  fraud        boolean not null,
  reason       text not null,
  labelled_by  text not null,
  labelled_at  timestamptz not null default now()
);

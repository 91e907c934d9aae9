-- The ledger's own read model: holds that are open and have an expiry, so the expiry scheduler
-- finds the ones past due without scanning the event store. Maintained in the transaction that
-- appends the hold's events (HoldPlaced inserts, HoldCaptured / HoldVoided / HoldExpired delete);
-- the event store stays the truth: ExpireHold is decided on the hold's streams, never on this table.
create schema if not exists ledger;

create table ledger.open_holds (
  hold_id              text primary key,
  account_id           text not null,
  expires_at           timestamptz not null,
  -- When a scheduler last asked for this hold's expiry; it asks again only after a quiet interval.
  expiry_requested_at  timestamptz
);
create index open_holds_expires_at on ledger.open_holds (expires_at);

-- Holds placed with an expiry before this table existed, and not yet final.
insert into ledger.open_holds (hold_id, account_id, expires_at)
select placed.data ->> 'holdId', placed.data ->> 'accountId', (placed.data ->> 'expiresAt')::timestamptz
from event_store.messages placed
where placed.category = 'hold' and placed.message_type = 'HoldPlaced' and placed.data ? 'expiresAt'
  and not exists (
    select 1 from event_store.messages final
    where final.stream_id = placed.stream_id and final.message_type in ('HoldCaptured', 'HoldVoided', 'HoldExpired')
  )
on conflict (hold_id) do nothing;

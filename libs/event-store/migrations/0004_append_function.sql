-- Appending in one round trip. An append used to take five or six statements (begin, lock the
-- heads, look for stored event ids, create new heads, insert, commit), each a round trip of ~0.3 ms
-- from Node on a busy 2-core machine, and every statement planned anew: most of an append's time.
-- This function does the whole clean append server-side, in the caller's statement (so in the
-- caller's transaction when there is one, or as a transaction of its own in autocommit):
--
--   1. lock the head rows of existing streams, in stream_id order (appenders of several streams
--      cannot deadlock), and create those of new streams (version -1);
--   3. if any event id is already stored, or any stream is not at the expected version, write no
--      event and return what the caller needs to decide (every head, every stored event found):
--      the decision (idempotent repeat, wrong version, id conflict) stays in TypeScript, in
--      append-decision.ts, so there is one implementation of it;
--   4. otherwise insert every event in input order (global positions increase along each stream),
--      move the heads, NOTIFY, and return one 'appended' row per stream.
--
-- Per stream (arrays of equal length, one entry per stream): p_stream_ids, p_categories,
--   p_expected (null for 'any', -1 for 'no_stream', -2 for 'stream_exists', else the exact
--   version), p_first_event and p_event_count (the stream's events are p_events[first_event ..
--   first_event + event_count - 1], 0-based: each stream's events are contiguous).
-- Per event: p_message_ids, and p_events: [{"stream": index into the stream arrays (0-based), "id",
--   "type", "schema_version", "data", "metadata"}], in append order.
-- p_notify_payload: NOTIFY event_store_appended with this payload (the schema); null: no NOTIFY.
--
-- Every lookup goes through an index whatever the table statistics say (the plans are cached per
-- session and may be generic): rows of streams are found by stream_id = any(array), never by a join
-- the planner could turn into a scan of every stream, and sequential scans are off (below). Only arrays of one entry per stream are
-- subscripted per event: a plpgsql array is handed to each evaluation whole, so subscripting an
-- array of one entry per event would make an append quadratic in its size.
create function :"schema".append_events(
  p_stream_ids text[], p_categories text[], p_expected bigint[], p_first_event int[], p_event_count int[],
  p_message_ids uuid[], p_events jsonb, p_notify_payload text)
returns table (row_kind text, stream_id text, stream_version bigint, first_position bigint, last_position bigint, message_id uuid)
language plpgsql
-- Every statement here is a lookup of a few rows by a unique key. plpgsql caches its plans per
-- session, and a plan made while the table was small (a new store, statistics not yet gathered)
-- is a sequential scan that stays cached as the table grows: appends slowed 3x over 100,000
-- events in the benchmark before this setting. It holds inside the function only.
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
  v_streams int := cardinality(p_stream_ids);
  v_versions bigint[] := array_fill(null::bigint, array[cardinality(p_stream_ids)]);
  v_last_transaction_ids xid8[] := array_fill(null::xid8, array[cardinality(p_stream_ids)]);
  v_locked int := 0;
  v_clean boolean := true;
  v_stream record;
  v_index int;
begin
  for v_stream in
    select h.stream_id, h.version, h.last_transaction_id from :"schema".streams h
    where h.stream_id = any(p_stream_ids) order by h.stream_id for update
  loop
    v_index := array_position(p_stream_ids, v_stream.stream_id);
    v_versions[v_index] := v_stream.version;
    v_last_transaction_ids[v_index] := v_stream.last_transaction_id;
    v_locked := v_locked + 1;
  end loop;

  if v_locked < v_streams then
    -- The rows this insert creates are ours until we commit. ON CONFLICT waits for a concurrent
    -- creator of the same stream; its row is then locked by the loop below.
    for v_stream in
      insert into :"schema".streams as h (stream_id, category, version, last_transaction_id)
      select u.stream_id, u.category, -1, '0'::xid8
      from unnest(p_stream_ids, p_categories, v_versions) as u(stream_id, category, version)
      where u.version is null
      order by u.stream_id
      on conflict do nothing
      returning h.stream_id
    loop
      v_index := array_position(p_stream_ids, v_stream.stream_id);
      v_versions[v_index] := -1;
      v_last_transaction_ids[v_index] := '0'::xid8;
      v_locked := v_locked + 1;
    end loop;
  end if;

  if v_locked < v_streams then
    for v_stream in
      select h.stream_id, h.version, h.last_transaction_id from :"schema".streams h
      where h.stream_id = any(p_stream_ids) order by h.stream_id for update
    loop
      v_index := array_position(p_stream_ids, v_stream.stream_id);
      if v_versions[v_index] is null then
        v_versions[v_index] := v_stream.version;
        v_last_transaction_ids[v_index] := v_stream.last_transaction_id;
        v_locked := v_locked + 1;
      end if;
    end loop;
    if v_locked <> v_streams then
      raise exception 'append_events: locked % of % stream heads (bug)', v_locked, v_streams;
    end if;
  end if;

  -- The same rules as assertExpectedVersion in append-decision.ts; only a clean append is written here.
  for i in 1..v_streams loop
    if not (case
      when p_expected[i] is null then true
      when p_expected[i] = -1 then v_versions[i] = -1
      when p_expected[i] = -2 then v_versions[i] >= 0
      else v_versions[i] = p_expected[i]
    end) then
      v_clean := false;
    end if;
  end loop;
  if v_clean and exists (select 1 from :"schema".messages m where m.message_id = any(p_message_ids)) then
    v_clean := false;
  end if;
  if not v_clean then
    return query
      select 'head'::text, u.stream_id, u.version, null::bigint, null::bigint, null::uuid
      from unnest(p_stream_ids, v_versions) as u(stream_id, version)
      union all
      select 'stored'::text, m.stream_id, m.stream_version, m.global_position, m.global_position, m.message_id
      from :"schema".messages m where m.message_id = any(p_message_ids);
    return;
  end if;

  return query
    with new_events as (
      select e.ordinal, e.value, (e.value->>'stream')::int + 1 as s
      from jsonb_array_elements(p_events) with ordinality as e(value, ordinal)
    ),
    inserted as (
      insert into :"schema".messages (transaction_id, stream_id, stream_version, category, message_id, message_type, schema_version, data, metadata)
      select greatest(pg_current_xact_id(), v_last_transaction_ids[n.s]), p_stream_ids[n.s],
             v_versions[n.s] + n.ordinal - p_first_event[n.s], p_categories[n.s],
             (n.value->>'id')::uuid, n.value->>'type', (n.value->>'schema_version')::int, n.value->'data', n.value->'metadata'
      -- Rows are inserted in input order, so global positions increase with stream versions.
      from new_events n
      order by n.ordinal
      returning messages.stream_id, messages.stream_version, messages.global_position
    )
    select 'appended'::text, i.stream_id, max(i.stream_version), min(i.global_position), max(i.global_position), null::uuid
    from inserted i group by i.stream_id;

  -- The repeated stream_id = any(...) keeps this an index lookup whatever the planner's estimates.
  update :"schema".streams h
  set version = h.version + u.event_count, last_transaction_id = greatest(h.last_transaction_id, pg_current_xact_id()), updated_at = now()
  from unnest(p_stream_ids, p_event_count) as u(stream_id, event_count)
  where h.stream_id = u.stream_id and h.stream_id = any(p_stream_ids);

  if p_notify_payload is not null then
    -- The channel is APPENDED_NOTIFICATION_CHANNEL of event-store.sql.ts.
    perform pg_notify('event_store_appended', p_notify_payload);
  end if;
end;
$$;

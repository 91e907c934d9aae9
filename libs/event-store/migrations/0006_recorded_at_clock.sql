-- recorded_at was now(): the start of the appending transaction. A consumer handles up to 100
-- messages in one transaction and the ledger writer a whole batch, so every event of a chunk got
-- the chunk's start time, and end-to-end latencies computed from events (analytics) were off by up
-- to the chunk's age. clock_timestamp() is the time the row is written.
alter table :"schema".messages alter column recorded_at set default clock_timestamp();

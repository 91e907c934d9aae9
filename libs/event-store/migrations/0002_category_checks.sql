-- A stream's category is the part of its id before the first '-'; the store derives it, and the
-- database now refuses any row where the two disagree (a category read would miss such an event).
alter table :"schema".messages add constraint messages_category_matches_stream check (category = split_part(stream_id, '-', 1));
alter table :"schema".streams add constraint streams_category_matches_stream check (category = split_part(stream_id, '-', 1));

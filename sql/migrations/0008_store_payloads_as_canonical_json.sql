-- The log keeps each payload as the runner encoded it, canonical JSON, in a `json`
-- column (PostgreSQL stores json's text as given) rather than jsonb: jsonb parsed and
-- rebuilt every row on insert, and every backlog read had to re-encode it (jsonb
-- reorders keys and respaces).  The stored text is now the bytes a client receives,
-- and `payload->>'key'` works as before.
--
-- Rows written before this migration hold jsonb's form of their payload: `reencode`
-- marks them (true for every existing row, false by default from here on) and
-- readers re-encode those, as they did every row before.
ALTER TABLE sim_events ADD COLUMN reencode boolean NOT NULL DEFAULT true;
ALTER TABLE sim_events ALTER COLUMN reencode SET DEFAULT false;
ALTER TABLE sim_events ALTER COLUMN payload TYPE json USING payload::text::json;

-- Nothing reads the surrogate id or looks events up by ts; each cost a sequence call
-- and an index entry per event.  UNIQUE (session_id, seq) stays: it is the log's key.
ALTER TABLE sim_events DROP COLUMN id;
DROP INDEX sim_events_session_ts_idx;

-- Step and seek: release candles while paused.  step_count only grows (a runner
-- releases the steps added since it last looked); seek_to_ms releases, unpaced, every
-- candle that opens before it.  Neither reaches the log.
ALTER TABLE sim_sessions
    ADD COLUMN step_count bigint NOT NULL DEFAULT 0 CHECK (step_count >= 0),
    ADD COLUMN seek_to_ms bigint;

DROP VIEW sim_session_summaries;
CREATE VIEW sim_session_summaries AS
SELECT s.*,
       coalesce(e.last_seq, 0) AS last_seq,
       e.last_ts
FROM sim_sessions s
LEFT JOIN LATERAL (
    SELECT seq AS last_seq, ts AS last_ts
    FROM sim_events WHERE session_id = s.id ORDER BY seq DESC LIMIT 1
) e ON true;

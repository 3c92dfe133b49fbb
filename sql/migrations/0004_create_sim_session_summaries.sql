-- Each session with where its log stands: the last seq and its simulated time.
CREATE VIEW sim_session_summaries AS
SELECT s.*,
       coalesce(e.last_seq, 0) AS last_seq,
       e.last_ts
FROM sim_sessions s
LEFT JOIN LATERAL (
    SELECT seq AS last_seq, ts AS last_ts
    FROM sim_events WHERE session_id = s.id ORDER BY seq DESC LIMIT 1
) e ON true;

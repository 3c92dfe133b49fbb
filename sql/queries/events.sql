-- name: append-events^
-- Append a batch of events idempotently, fenced: only while the session is live and
-- owned by (:owner, :epoch).  The session row is locked for the statement, so a takeover
-- (which bumps the epoch) is ordered entirely before or after it.  A retry of the same
-- batch inserts nothing.  The NOTIFY wakes other processes' subscribers at commit.
WITH owned AS (
    SELECT id FROM sim_sessions
    WHERE id = :session_id AND owner = :owner AND epoch = :epoch AND status = ANY(:live::text[])
    FOR UPDATE
), inserted AS (
    INSERT INTO sim_events (session_id, seq, ts, type, payload)
    SELECT o.id, e.seq, e.ts, e.type, e.payload
    FROM owned o,
         unnest(:seqs::bigint[], :tss::bigint[], :types::text[], :payloads::json[])
         AS e(seq, ts, type, payload)
    ON CONFLICT (session_id, seq) DO NOTHING
    RETURNING seq
)
SELECT (SELECT count(*) FROM owned) AS owned,
       (SELECT count(*) FROM inserted) AS inserted,
       (SELECT pg_notify('livesim_events', :session_id::text || ':' || (:last_seq::bigint)::text)
        FROM owned) AS notified;

-- name: append-terminal-events^
-- The last batch of a log, ending with its terminal event, and the session's terminal
-- status, in one fenced statement: a terminal status never exists without its event.
WITH owned AS (
    SELECT id FROM sim_sessions
    WHERE id = :session_id AND owner = :owner AND epoch = :epoch AND status = ANY(:live::text[])
    FOR UPDATE
), inserted AS (
    INSERT INTO sim_events (session_id, seq, ts, type, payload)
    SELECT o.id, e.seq, e.ts, e.type, e.payload
    FROM owned o,
         unnest(:seqs::bigint[], :tss::bigint[], :types::text[], :payloads::json[])
         AS e(seq, ts, type, payload)
    ON CONFLICT (session_id, seq) DO NOTHING
    RETURNING seq
), ended AS (
    UPDATE sim_sessions s
    SET status = :status, error = :error::jsonb, stop_requested = false, updated_at = now()
    FROM owned o WHERE s.id = o.id
    RETURNING s.id
)
SELECT (SELECT count(*) FROM owned) AS owned,
       (SELECT count(*) FROM inserted) AS inserted,
       (SELECT pg_notify('livesim_events', :session_id::text || ':' || (:last_seq::bigint)::text)
        FROM ended) AS notified;

-- name: select-events
-- A page of the log from a sequence number on, in order.
SELECT seq, ts, type, payload, reencode
FROM sim_events
WHERE session_id = :session_id AND seq >= :from_seq
ORDER BY seq
LIMIT :limit;

-- name: last-seq$
SELECT coalesce(max(seq), 0) FROM sim_events WHERE session_id = :session_id;

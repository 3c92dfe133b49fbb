-- name: append-events
-- Append batches of events, one or many sessions' (group commit, see
-- runner/group_commit.py), idempotently and fenced: only the batches of sessions still
-- live and owned by their (owner, epoch) are inserted.  Their session rows are locked
-- for the statement (in id order, so two groups never deadlock), so a takeover (which
-- bumps the epoch) is ordered entirely before or after it.  A retry of the same batch
-- inserts nothing.  Returns one row per session written, after its NOTIFY (which wakes
-- other processes' subscribers at commit); a session missing from the answer was not
-- ours any more.
WITH batch AS (
    SELECT * FROM unnest(:session_ids::uuid[], :owners::uuid[], :epochs::bigint[],
                         :last_seqs::bigint[]) AS b(session_id, owner, epoch, last_seq)
), owned AS (
    SELECT s.id, b.last_seq
    FROM sim_sessions s JOIN batch b ON s.id = b.session_id
    WHERE s.owner = b.owner AND s.epoch = b.epoch AND s.status = ANY(:live::text[])
    ORDER BY s.id
    FOR UPDATE OF s
), inserted AS (
    INSERT INTO sim_events (session_id, seq, ts, type, payload)
    SELECT e.session_id, e.seq, e.ts, e.type, e.payload
    FROM unnest(:event_sessions::uuid[], :seqs::bigint[], :tss::bigint[], :types::text[],
                :payloads::json[]) AS e(session_id, seq, ts, type, payload)
    WHERE e.session_id IN (SELECT id FROM owned)
    ON CONFLICT (session_id, seq) DO NOTHING
)
SELECT o.id AS session_id,
       pg_notify('livesim_events', o.id::text || ':' || o.last_seq::text) AS notified
FROM owned o;

-- name: append-terminal-events^
-- The last batch of a log, ending with its terminal event, and the session's terminal
-- status, in one statement fenced as append-events is: a terminal status never exists
-- without its event.
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

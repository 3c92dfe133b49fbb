-- name: insert-events^
-- Append a batch of events idempotently and wake every process's subscribers.
-- A retry of the same batch inserts nothing; the NOTIFY is delivered at commit.
WITH inserted AS (
    INSERT INTO sim_events (session_id, seq, ts, type, payload)
    SELECT :session_id, e.seq, e.ts, e.type, e.payload
    FROM unnest(:seqs::bigint[], :tss::bigint[], :types::text[], :payloads::jsonb[])
         AS e(seq, ts, type, payload)
    ON CONFLICT (session_id, seq) DO NOTHING
    RETURNING seq
)
SELECT (SELECT count(*) FROM inserted) AS inserted,
       pg_notify('livesim_events', :session_id::text || ':' || (:last_seq::bigint)::text) AS notified;

-- name: select-events
-- A page of the log from a sequence number on, in order.
SELECT seq, ts, type, payload::text AS payload
FROM sim_events
WHERE session_id = :session_id AND seq >= :from_seq
ORDER BY seq
LIMIT :limit;

-- name: last-seq$
SELECT coalesce(max(seq), 0) FROM sim_events WHERE session_id = :session_id;

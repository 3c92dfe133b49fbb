-- name: select-events-of-type
-- A page of one type of event (trades, equity snapshots), in seq order.
SELECT seq, ts, type, payload, reencode
FROM sim_events
WHERE session_id = :session_id AND type = :type AND seq >= :from_seq
ORDER BY seq
LIMIT :limit;

-- name: select-last-events-of-type
-- The newest events of one type, newest first (a walk back along (session_id, seq)).
SELECT seq, ts, type, payload, reencode
FROM sim_events
WHERE session_id = :session_id AND type = :type
ORDER BY seq DESC
LIMIT :limit;

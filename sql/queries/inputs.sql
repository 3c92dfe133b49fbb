-- name: record-input^
-- Record a client's input as pending, once per key, and only on a live session.  No row
-- when the key was used already (the caller compares bodies) or the session ended.
INSERT INTO sim_inputs (session_id, key, kind, body, request_hash)
SELECT s.id, :key, :kind, :body::jsonb, :request_hash
FROM sim_sessions s
WHERE s.id = :session_id AND s.status = ANY(:live::text[]) AND NOT s.stop_requested
ON CONFLICT (session_id, key) DO NOTHING
RETURNING *;

-- name: get-input^
SELECT * FROM sim_inputs WHERE session_id = :session_id AND key = :key;

-- name: claim-inputs
-- The owning runner takes the pending inputs at candle :candle_index, fenced like its
-- event writes: only while the session is live and owned under (:owner, :epoch).
WITH owned AS (
    SELECT id FROM sim_sessions
    WHERE id = :session_id AND owner = :owner AND epoch = :epoch AND status = ANY(:live::text[])
    FOR UPDATE
)
UPDATE sim_inputs i SET candle_index = :candle_index
FROM owned o
WHERE i.session_id = o.id AND i.candle_index IS NULL
RETURNING i.id, i.kind, i.body::text AS body, i.candle_index;

-- name: recorded-inputs
-- Every input with its candle, in the order the runner applies them.
SELECT id, kind, body::text AS body, candle_index FROM sim_inputs
WHERE session_id = :session_id AND candle_index IS NOT NULL
ORDER BY candle_index, id;

-- name: pending-inputs
SELECT id, key, kind, body::text AS body, created_at FROM sim_inputs
WHERE session_id = :session_id AND candle_index IS NULL
ORDER BY id;

-- name: order-events
-- The events that tell which orders are open, in log order.
SELECT seq, ts, type, payload, reencode FROM sim_events
WHERE session_id = :session_id
  AND type = ANY(:types::text[])
ORDER BY seq;

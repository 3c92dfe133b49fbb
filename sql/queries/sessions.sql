-- name: create-session^
-- Create a session already owned by the creating process (epoch 1) together with its
-- first event, in one statement: a create that fails leaves nothing behind.  With an
-- Idempotency-Key already used by this user, create nothing and return no row (the
-- caller then reads the existing one).
WITH session AS (
    INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms, end_ms,
                              speed, config, gap_policy, candle_count, status, error,
                              idempotency_key, request_hash, owner, epoch)
    VALUES (:id, :user_id, :profile_slug, :symbol, :timeframe, :start_ms, :end_ms, :speed,
            :config::jsonb, :gap_policy, :candle_count, :status, :error::jsonb,
            :idempotency_key, :request_hash, :owner, 1)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING *
), first_event AS (
    INSERT INTO sim_events (session_id, seq, ts, type, payload)
    SELECT id, 1, :event_ts, :event_type, :event_payload::json FROM session
)
SELECT session.*, 1::bigint AS last_seq, :event_ts::bigint AS last_ts FROM session;

-- name: get-session-by-idempotency-key^
SELECT * FROM sim_sessions WHERE user_id = :user_id AND idempotency_key = :idempotency_key;

-- name: get-user-session^
-- Another user's session is indistinguishable from a missing one.
SELECT * FROM sim_sessions WHERE id = :id AND user_id = :user_id;

-- name: get-user-session-progress^
SELECT * FROM sim_session_summaries WHERE id = :id AND user_id = :user_id;

-- name: list-user-sessions
-- Newest first.
SELECT * FROM sim_session_summaries
WHERE user_id = :user_id
ORDER BY created_at DESC, id DESC
LIMIT :limit;

-- name: count-user-live-sessions$
SELECT count(*) FROM sim_sessions
WHERE user_id = :user_id AND status = ANY(:live::text[]);

-- name: set-session-status^
-- A client's pause or resume: from one of the allowed statuses, unless a stop is pending.
UPDATE sim_sessions
SET status = :status, updated_at = now()
WHERE id = :id AND status = ANY(:from_statuses::text[]) AND NOT stop_requested
RETURNING *;

-- name: request-stop^
-- A client's stop: the owning runner ends the session at its next candle boundary and
-- writes 'stopped' together with session_stopped.
UPDATE sim_sessions SET stop_requested = true, updated_at = now()
WHERE id = :id AND status = ANY(:live::text[])
RETURNING *;

-- name: set-session-speed^
UPDATE sim_sessions SET speed = :speed, updated_at = now()
WHERE id = :id AND status = ANY(:live::text[])
RETURNING *;

-- name: notify-control!
-- Wake the process that runs a session: its runner re-reads the session row.
SELECT pg_notify('livesim_control', :session_id::text);

-- name: request-step^
-- A client's step: pause, and have the runner release :candles more candles.
UPDATE sim_sessions
SET status = :status, step_count = step_count + :candles, updated_at = now()
WHERE id = :id AND status = ANY(:live::text[]) AND NOT stop_requested
RETURNING *;

-- name: request-seek^
-- A client's seek: pause, and have the runner release every candle opening before :to_ms.
UPDATE sim_sessions
SET status = :status, seek_to_ms = :to_ms, updated_at = now()
WHERE id = :id AND status = ANY(:live::text[]) AND NOT stop_requested
RETURNING *;

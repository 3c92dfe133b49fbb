-- name: insert-session^
-- Create a session; with an Idempotency-Key already used by this user, create nothing
-- and return no row (the caller then reads the existing one).
INSERT INTO sim_sessions (id, user_id, profile_slug, symbol, timeframe, start_ms, end_ms, speed,
                          config, gap_policy, candle_count, status, error, idempotency_key,
                          request_hash)
VALUES (:id, :user_id, :profile_slug, :symbol, :timeframe, :start_ms, :end_ms, :speed,
        :config::jsonb, :gap_policy, :candle_count, :status, :error::jsonb, :idempotency_key,
        :request_hash)
ON CONFLICT (user_id, idempotency_key) DO NOTHING
RETURNING *;

-- name: get-session-by-idempotency-key^
SELECT * FROM sim_sessions WHERE user_id = :user_id AND idempotency_key = :idempotency_key;

-- name: get-session^
SELECT * FROM sim_sessions WHERE id = :id;

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
WHERE user_id = :user_id AND status IN ('created', 'running', 'paused');

-- name: list-live-sessions
-- Sessions a runner should own: not yet ended, or stopped by a client while their
-- runner died before writing session_stopped.
SELECT s.* FROM sim_sessions s
WHERE s.status IN ('created', 'running', 'paused')
   OR (s.status = 'stopped' AND NOT EXISTS (
           SELECT 1 FROM sim_events e
           WHERE e.session_id = s.id
             AND e.type IN ('session_finished', 'session_stopped', 'session_failed')))
ORDER BY s.created_at, s.id;

-- name: set-session-status^
-- Move a session from one of the allowed statuses to another; no row when it was not in one.
UPDATE sim_sessions
SET status = :status, error = coalesce(:error::jsonb, error), updated_at = now()
WHERE id = :id AND status = ANY(:from_statuses::text[])
RETURNING *;

-- name: set-session-speed^
UPDATE sim_sessions SET speed = :speed, updated_at = now()
WHERE id = :id AND status IN ('created', 'running', 'paused')
RETURNING *;

-- name: notify-control!
-- Wake the process that runs a session: its runner re-reads the session row.
SELECT pg_notify('livesim_control', :session_id::text);

-- name: try-lock-session$
-- One runner per session across processes: a session-level advisory lock, held on the
-- runner's connection for as long as it runs and released when that connection ends.
SELECT pg_try_advisory_lock(hashtextextended('livesim:' || :session_id::text, 0));

-- name: unlock-session$
SELECT pg_advisory_unlock(hashtextextended('livesim:' || :session_id::text, 0));

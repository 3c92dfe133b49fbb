-- One replay session: what it replays, how fast, and where it stands.
CREATE TABLE sim_sessions (
    id              uuid PRIMARY KEY,
    user_id         text NOT NULL,
    profile_slug    text NOT NULL,
    symbol          text NOT NULL,
    timeframe       text NOT NULL,
    start_ms        bigint NOT NULL,
    end_ms          bigint NOT NULL,
    -- a multiplier written as a decimal ("10", "2.5") or "max" for an unpaced replay
    speed           text NOT NULL CHECK (speed = 'max' OR speed ~ '^[0-9]+(\.[0-9]+)?$'),
    config          jsonb NOT NULL,
    gap_policy      text NOT NULL DEFAULT 'fail' CHECK (gap_policy IN ('fail', 'skip')),
    candle_count    integer NOT NULL DEFAULT 0,
    status          text NOT NULL CHECK (
                        status IN ('created', 'running', 'paused', 'stopped', 'finished', 'failed')),
    error           jsonb,
    idempotency_key text,
    -- digest of the create request, so a reused Idempotency-Key with another body is a 409
    request_hash    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (start_ms < end_ms),
    UNIQUE (user_id, idempotency_key)
);

CREATE INDEX sim_sessions_user_created_idx ON sim_sessions (user_id, created_at DESC, id);
CREATE INDEX sim_sessions_live_idx ON sim_sessions (status) WHERE status IN ('running', 'paused');

-- The durable, strictly ordered event log of each session.
CREATE TABLE sim_events (
    id         bigserial PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sim_sessions (id) ON DELETE CASCADE,
    seq        bigint NOT NULL CHECK (seq >= 1),
    ts         bigint NOT NULL,
    type       text NOT NULL,
    payload    jsonb NOT NULL,
    UNIQUE (session_id, seq)
);

-- UNIQUE (session_id, seq) already gives the (session_id, seq) index.
CREATE INDEX sim_events_session_ts_idx ON sim_events (session_id, ts);

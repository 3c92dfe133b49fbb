-- Inputs from outside a session (orders, cancels, "close my position"): part of what
-- determines its log.  A client's request is recorded first with no candle_index
-- (pending); the owning runner sets candle_index, the candle at which it takes
-- effect, in a statement fenced like its event writes, before it processes that
-- candle.  A restarted runner replays recorded inputs at their candles.
CREATE TABLE sim_inputs (
    id           bigserial PRIMARY KEY,
    session_id   uuid NOT NULL REFERENCES sim_sessions (id) ON DELETE CASCADE,
    -- the client's idempotency key: clientOrderId for an order, cancel:<id> for a
    -- cancel, a random one for a close (each is new)
    key          text NOT NULL,
    kind         text NOT NULL,
    body         jsonb NOT NULL,
    request_hash text NOT NULL,
    candle_index integer CHECK (candle_index >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, key)
);

CREATE INDEX sim_inputs_pending_idx ON sim_inputs (session_id, id) WHERE candle_index IS NULL;

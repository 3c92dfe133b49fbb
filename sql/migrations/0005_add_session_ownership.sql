-- One writer per session log, proven in each write (fencing).
--
-- A process that runs sessions keeps a lease row in livesim_processes, renewed every
-- second or so.  A session is owned by one process (owner) under an epoch that grows by
-- one each time ownership changes hands; every write of a runner names (owner, epoch)
-- and locks the session row in the same statement, so a runner that lost its session
-- (its process was frozen, cut off, or presumed dead) can never write again.
CREATE TABLE livesim_processes (
    id          uuid PRIMARY KEY,
    lease_until timestamptz NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    host        text NOT NULL,
    pid         integer NOT NULL
);

ALTER TABLE sim_sessions
    ADD COLUMN owner uuid,
    ADD COLUMN epoch bigint NOT NULL DEFAULT 0,
    -- a client asked to stop; the runner writes session_stopped and the status together
    ADD COLUMN stop_requested boolean NOT NULL DEFAULT false;

CREATE INDEX sim_sessions_owner_idx ON sim_sessions (owner) WHERE status IN ('created', 'running', 'paused');

-- Before this migration the control route wrote 'stopped' ahead of session_stopped;
-- such a session is still live until its runner writes the terminal event.
UPDATE sim_sessions s SET status = 'running', stop_requested = true
WHERE s.status = 'stopped' AND NOT EXISTS (
    SELECT 1 FROM sim_events e
    WHERE e.session_id = s.id
      AND e.type IN ('session_finished', 'session_stopped', 'session_failed'));

-- The summaries view exposes the new columns too (s.* is expanded at creation).
DROP VIEW sim_session_summaries;
CREATE VIEW sim_session_summaries AS
SELECT s.*,
       coalesce(e.last_seq, 0) AS last_seq,
       e.last_ts
FROM sim_sessions s
LEFT JOIN LATERAL (
    SELECT seq AS last_seq, ts AS last_ts
    FROM sim_events WHERE session_id = s.id ORDER BY seq DESC LIMIT 1
) e ON true;

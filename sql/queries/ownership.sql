-- name: renew-process-lease!
-- Register or renew this process's lease; forget processes long gone.
WITH pruned AS (
    DELETE FROM livesim_processes WHERE lease_until < now() - interval '1 hour'
)
INSERT INTO livesim_processes (id, lease_until, host, pid)
VALUES (:owner, now() + make_interval(secs => :ttl_s), :host, :pid)
ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until;

-- name: release-process!
-- A clean shutdown: hand this process's live sessions over at once, drop its lease.
WITH released AS (
    UPDATE sim_sessions SET owner = NULL
    WHERE owner = :owner AND status = ANY(:live::text[])
)
DELETE FROM livesim_processes WHERE id = :owner;

-- name: list-orphan-sessions
-- Live sessions that no living process runs: never owned, owned by a process whose
-- lease ran out, or owned by this process but not running here (its runner ended).
SELECT s.* FROM sim_sessions s
LEFT JOIN livesim_processes p ON p.id = s.owner
WHERE s.status = ANY(:live::text[])
  AND NOT (s.id = ANY(:running::uuid[]))
  AND (s.owner IS NULL OR s.owner = :owner OR p.lease_until IS NULL OR p.lease_until < now())
ORDER BY s.created_at, s.id;

-- name: claim-session^
-- Take an orphan over under a new epoch; no row when another process was faster (the
-- condition is re-checked on the locked row) or its owner turned out to be alive.
UPDATE sim_sessions s SET owner = :owner, epoch = s.epoch + 1, updated_at = now()
WHERE s.id = :id AND s.status = ANY(:live::text[])
  AND NOT (s.owner IS NOT NULL AND s.owner <> :owner AND EXISTS (
      SELECT 1 FROM livesim_processes p WHERE p.id = s.owner AND p.lease_until >= now()))
RETURNING s.*;

-- name: get-sessions
-- The rows of the sessions this process runs: their controls, their ownership, and
-- whether outside inputs wait to be taken (sim_inputs_pending_idx).
SELECT s.*, EXISTS (SELECT 1 FROM sim_inputs i
                    WHERE i.session_id = s.id AND i.candle_index IS NULL) AS pending_inputs
FROM sim_sessions s WHERE s.id = ANY(:ids::uuid[]);

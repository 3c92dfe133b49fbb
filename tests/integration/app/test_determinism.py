"""The same input gives the byte-identical log, whatever the speed or the pauses."""

from __future__ import annotations

import httpx
import pytest
import trio

from livesim.eventlog import record_from_row
from livesim.runner.store import Lease, LostOwnership, PgEventStore
from livesim.sim.events import log_digest
from tests.support.api import all_events, session_body, wait_seq, wait_status
from tests.support.server import Server


def digest(events: list[dict[str, object]]) -> str:
    return log_digest((e["seq"], e["ts"], e["type"], e["payload"])  # type: ignore[misc]
                      for e in events)


async def test_log_max_speed_equals_paced_with_pause_resume_and_speed_change(
        client: httpx.AsyncClient) -> None:
    config = {"fast": 3, "slow": 8, "commission": 0.001, "allowShort": True}
    unpaced = (await client.post("/api/sim/sessions",
                                 json=session_body(config=config))).json()["id"]
    paced = (await client.post("/api/sim/sessions",
                               json=session_body(config=config, speed=1200))).json()["id"]
    await wait_seq(client, paced, 20)
    await client.post(f"/api/sim/sessions/{paced}/control", json={"action": "pause"})
    await trio.sleep(0.2)
    await client.post(f"/api/sim/sessions/{paced}/control", json={"action": "resume"})
    await client.post(f"/api/sim/sessions/{paced}/control",
                      json={"action": "speed", "speed": 6000})
    await wait_status(client, unpaced, "finished")
    await wait_status(client, paced, "finished")
    first, second = await all_events(client, unpaced), await all_events(client, paced)
    assert len(first) > 120
    assert any(e["type"] == "trade_closed" for e in first)
    assert digest(first) == digest(second)
    assert first == second


async def test_log_replaying_a_write_changes_nothing(client: httpx.AsyncClient,
                                                     server: Server) -> None:
    session_id = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    await wait_status(client, session_id, "finished")
    before = await all_events(client, session_id)
    rows = await server.db.fetch_sql(
        "SELECT seq, ts, type, payload, reencode FROM sim_events "
        "WHERE session_id = $1 ORDER BY seq", session_id)
    owner = await server.db.fetch_sql("SELECT owner, epoch FROM sim_sessions WHERE id = $1",
                                      session_id)
    lease = Lease(str(owner[0]["owner"]), owner[0]["epoch"])
    # Even its own owner cannot write into an ended log: the write is refused whole.
    with pytest.raises(LostOwnership):
        await PgEventStore(server.db).append(session_id, lease,
                                             [record_from_row(r) for r in rows])
    assert await all_events(client, session_id) == before

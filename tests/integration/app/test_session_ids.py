"""A session id in upper case reaches the same session on every route, the stream included.

The bug this guards: the stream subscribed to the fan-out under the raw path parameter
while the runner publishes under the canonical (lowercase) id, so an upper-case stream
advanced only at heartbeat ticks.
"""

from __future__ import annotations

import httpx
import pytest
import trio

from livesim.config import Settings
from tests.support.api import read_stream, session_body, wait_status
from tests.support.server import TEST_SETTINGS

HEARTBEAT_S = 5.0


@pytest.fixture
def settings() -> Settings:
    # A long heartbeat: a stream that only moved at ticks would take 5 s per step.
    return TEST_SETTINGS.with_changes(heartbeat_s=HEARTBEAT_S)


async def test_every_session_route_takes_an_upper_case_id(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/sim/sessions", json=session_body(speed=1))).json()
    upper = created["id"].upper()
    base = f"/api/sim/sessions/{upper}"

    got = await client.get(base)
    assert got.status_code == 200
    assert got.json()["id"] == created["id"]  # answers use the canonical form
    assert (await client.get(base + "/events")).json()["events"][0]["seq"] == 1
    ticket = await client.post(base + "/stream-ticket")
    assert ticket.status_code == 200
    # a ticket issued under one spelling opens the stream under the other
    async with client.stream("GET", f"/api/sim/sessions/{created['id']}/stream",
                             params={"ticket": ticket.json()["ticket"]}) as by_ticket:
        assert by_ticket.status_code == 200
    paused = await client.post(base + "/control", json={"action": "pause"})
    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    stopped = await client.post(base + "/control", json={"action": "stop"})
    assert stopped.json()["id"] == created["id"]
    await wait_status(client, upper, "stopped")


async def test_upper_case_stream_gets_live_events_well_before_a_heartbeat(
        client: httpx.AsyncClient) -> None:
    # 600x on 1m candles: one candle every 0.1 s, so 60 candles in ~6 s of wall time.
    created = (await client.post("/api/sim/sessions", json=session_body(speed=600))).json()
    upper = created["id"].upper()
    start = trio.current_time()
    received = await read_stream(client, upper, limit=40)
    elapsed = trio.current_time() - start
    assert [int(seq) for seq, _, _ in received] == list(range(1, 41))
    # ~13 candles' worth of events: ~1.3 s paced; stuck on heartbeats it takes >= 5 s.
    assert elapsed < HEARTBEAT_S * 0.8, elapsed
    await client.post(f"/api/sim/sessions/{upper}/control", json={"action": "stop"})


@pytest.mark.parametrize("suffix", ["", "/events", "/stream", "/stream-ticket", "/control"])
async def test_malformed_session_id_is_404_on_every_route(client: httpx.AsyncClient,
                                                          suffix: str) -> None:
    method = "POST" if suffix in ("/stream-ticket", "/control") else "GET"
    for raw in ("nope", "0f8fad5bd9cb469fa16570867728950e",
                "%7B0f8fad5b-d9cb-469f-a165-70867728950e%7D"):
        response = await client.request(method, f"/api/sim/sessions/{raw}{suffix}",
                                        json={"action": "stop"} if method == "POST" else None)
        assert response.status_code == 404, (raw, suffix, response.text)
        assert response.json()["error"]["details"] == []

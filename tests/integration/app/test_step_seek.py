"""step, seek and barsPerSecond: the controls of a bar replay; none changes the log."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import (
    MINUTE,
    all_events,
    eventually,
    session_body,
    wait_seq,
    wait_status,
)
from tests.support.stubs import START_MS


async def control(client: httpx.AsyncClient, session_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/sim/sessions/{session_id}/control", json=body)


async def candles_released(client: httpx.AsyncClient, session_id: str) -> int:
    return sum(e["type"] == "candle" for e in await all_events(client, session_id))


async def paused_session(client: httpx.AsyncClient) -> str:
    session_id: str = (await client.post("/api/sim/sessions", json=session_body(
        speed=1))).json()["id"]  # one 1m candle a minute: nothing moves unless told
    assert (await control(client, session_id, action="pause")).json()["status"] == "paused"
    return session_id


async def test_step_releases_exactly_n_candles_and_stays_paused(
        client: httpx.AsyncClient) -> None:
    session_id = await paused_session(client)
    before = await candles_released(client, session_id)
    response = await control(client, session_id, action="step", candles=5)
    assert response.status_code == 200
    assert response.json()["status"] == "paused"

    async def five_more() -> bool:
        return await candles_released(client, session_id) == before + 5

    await eventually(five_more)
    assert (await control(client, session_id, action="step", candles=2)).status_code == 200
    await eventually(lambda: _equals(client, session_id, before + 7))
    await control(client, session_id, action="stop")


async def _equals(client: httpx.AsyncClient, session_id: str, count: int) -> bool:
    return await candles_released(client, session_id) == count


async def test_seek_releases_up_to_the_time_and_pauses_forward_only(
        client: httpx.AsyncClient) -> None:
    session_id = await paused_session(client)
    to_ms = START_MS + 40 * MINUTE
    response = await control(client, session_id, action="seek", toMs=to_ms)
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    await eventually(lambda: _equals(client, session_id, 40))
    candles = [e for e in await all_events(client, session_id) if e["type"] == "candle"]
    assert candles[-1]["ts"] == to_ms - MINUTE
    backwards = await control(client, session_id, action="seek", toMs=to_ms - 10 * MINUTE)
    assert backwards.status_code == 409
    assert backwards.json()["error"]["code"] == "seek_backwards"
    iso = await control(client, session_id, action="seek", to="2024-01-01T00:50:00Z")
    assert iso.status_code == 200
    await control(client, session_id, action="stop")


async def test_bars_per_second_sets_the_pace_for_any_timeframe(
        client: httpx.AsyncClient) -> None:
    session_id = await paused_session(client)
    response = await control(client, session_id, action="speed", barsPerSecond=2)
    assert response.status_code == 200
    assert response.json()["speed"] == 120  # two 1m bars a second
    await control(client, session_id, action="stop")


async def test_control_fields_must_fit_the_action(client: httpx.AsyncClient) -> None:
    session_id = await paused_session(client)
    for body in ({"action": "step"}, {"action": "step", "candles": 0},
                 {"action": "step", "candles": 2, "speed": 3},
                 {"action": "seek"}, {"action": "seek", "toMs": 1, "to": "2024-01-01"},
                 {"action": "speed", "speed": 2, "barsPerSecond": 1},
                 {"action": "speed", "barsPerSecond": 0}, {"action": "pause", "candles": 1}):
        response = await control(client, session_id, **body)
        assert response.status_code == 400, body
        assert response.json()["error"]["details"], body
    await control(client, session_id, action="stop")
    finished = await control(client, session_id, action="step", candles=1)
    assert finished.status_code == 409


async def test_log_is_the_same_however_stepped_seeked_and_paced(
        client: httpx.AsyncClient) -> None:
    unpaced = (await client.post("/api/sim/sessions", json=session_body())).json()["id"]
    driven = await paused_session(client)
    await control(client, driven, action="step", candles=3)
    await control(client, driven, action="seek", toMs=START_MS + 20 * MINUTE)
    await eventually(lambda: _equals(client, driven, 20))
    await control(client, driven, action="step", candles=4)
    await control(client, driven, action="speed", barsPerSecond=20)
    await control(client, driven, action="resume")
    await wait_seq(client, driven, 80)
    await control(client, driven, action="speed", speed="max")
    await wait_status(client, unpaced, "finished")
    await wait_status(client, driven, "finished")
    assert await all_events(client, driven) == await all_events(client, unpaced)
